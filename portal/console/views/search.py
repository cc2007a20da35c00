"""The header search's typeahead: a few matching people under the box as the agent types.

It answers an htmx GET with a fragment (the query goes in the query string, which the access
log redacts). It runs the search box's own look-ups with a small LIMIT and no count, so it
stays one cheap query however large the tenant is.
"""

from django.urls import reverse
from django.views.generic import TemplateView

from portal.console import search_selectors
from portal.console.access import StaffRequiredMixin
from portal.console.tables import status_badges

# Shorter fragments match too much to help; the full search page still takes them.
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 200


class AccountTypeaheadView(StaffRequiredMixin, TemplateView):
    template_name = "console/inc/typeahead.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.require_tenant()
        self.require_action(tenant, "account.view")
        query = " ".join(self.request.GET.get("q", "").split())[:MAX_QUERY_LENGTH]
        matches = (
            search_selectors.account_typeahead(tenant=tenant, query=query)
            if len(query) >= MIN_QUERY_LENGTH
            else []
        )
        limit = search_selectors.TYPEAHEAD_LIMIT
        context.update(
            query=query,
            too_short=0 < len(query) < MIN_QUERY_LENGTH,
            matches=[
                {
                    "account": account,
                    "url": reverse("console:account_detail", args=[tenant.slug, account.uid]),
                    "badges": status_badges(account),
                }
                for account in matches[:limit]
            ],
            more=len(matches) > limit,
            results_url=reverse("console:account_search"),
        )
        return context

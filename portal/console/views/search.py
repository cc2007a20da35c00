"""The header search's typeahead: a few matching people under the box as the agent types.

It answers an htmx POST with a fragment: the text is posted, never put in a URL, so no
address, history entry or access log line carries it. It runs the search box's own look-ups
with a small LIMIT and no count, so it stays one cheap query however large the tenant is.

A reader who sees people masked gets exact matches only (a whole email, phone, username, UID
or full name): a prefix search would let them read a value one character at a time.
"""

from django.urls import reverse
from django.views.generic import TemplateView

from portal.console import display, search_selectors
from portal.console.access import StaffRequiredMixin
from portal.console.tables import status_badges

# Shorter fragments match too much to help; the full search page still takes them.
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 200


class AccountTypeaheadView(StaffRequiredMixin, TemplateView):
    template_name = "console/inc/typeahead.html"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(**kwargs))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.require_tenant()
        self.require_action(tenant, "account.view")
        query = " ".join(self.request.POST.get("q", "").split())[:MAX_QUERY_LENGTH]
        exact_only = display.current_masking().masked
        look_up = (
            search_selectors.account_typeahead_exact
            if exact_only
            else search_selectors.account_typeahead
        )
        matches = look_up(tenant=tenant, query=query) if len(query) >= MIN_QUERY_LENGTH else []
        limit = search_selectors.TYPEAHEAD_LIMIT
        context.update(
            query=query,
            exact_only=exact_only,
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

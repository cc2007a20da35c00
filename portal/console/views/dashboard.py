"""The home page: the current tenant at a glance, and switching tenant."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from portal.console import dashboard_stats, search_selectors, selectors
from portal.console.access import StaffRequiredMixin, safe_next
from portal.console.forms import TenantSwitchForm
from portal.staff_session import TENANT_SESSION_KEY


def search_links() -> dict[str, str]:
    """The account searches behind the dashboard's cards."""
    search = reverse("console:account_search")
    since = (timezone.now() - timedelta(days=13)).date().isoformat()
    return {
        "locked": f"{search}?{urlencode({'locked': 'yes'})}",
        "blocked": f"{search}?{urlencode({'blocked': 'yes'})}",
        "signups": f"{search}?{urlencode({'created_from': since})}",
    }


class DashboardView(StaffRequiredMixin, TemplateView):
    template_name = "console/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.console.tenant
        if tenant is None:
            return context
        # The two counts over every account come from a kept aggregate, shown "as of".
        stats = dashboard_stats.account_stats(tenant=tenant)
        context.update(
            signups=selectors.bar_chart(
                "Sign-ups per day",
                [(day.strftime("%d %b"), n) for day, n in stats.signups],
                empty_text="No sign-ups in the last 14 days.",
            ),
            stats_as_of=stats.as_of,
            lockouts=selectors.bar_chart(
                "Lockouts per day",
                selectors.lockouts_per_day(tenant=tenant),
                empty_text="No lockouts in the last 14 days.",
            ),
            deliveries=selectors.bar_chart(
                "Deliveries by status (14 days)",
                selectors.deliveries_by_status(tenant=tenant),
                width=400,
                empty_text="No messages sent in the last 14 days.",
            ),
            active_sessions=selectors.active_sessions_count(tenant=tenant),
            account_total=stats.total,
            locked_now=search_selectors.locked_account_count(tenant=tenant),
            blocked_now=search_selectors.blocked_account_count(tenant=tenant),
            # Each card opens the search it counts.
            search_links=search_links(),
        )
        return context


class TenantSwitchView(StaffRequiredMixin, View):
    def post(self, request):
        form = TenantSwitchForm(request.POST)
        if form.is_valid():
            wanted = form.cleaned_data["tenant"]
            tenant = next((t for t in self.console.tenants if t.pk == wanted), None)
            if tenant is None:
                raise Http404("No such tenant")
            request.session[TENANT_SESSION_KEY] = tenant.pk
            messages.success(request, f"You are now working on {tenant.name}.")
        return redirect(safe_next(request, reverse("console:dashboard")))

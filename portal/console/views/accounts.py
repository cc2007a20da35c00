"""Finding an account, its page, and the actions staff take on it."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from accounts.filters import AccountFilter
from accounts.models import Account
from portal import staff
from portal.console import actions as account_actions
from portal.console import selectors
from portal.console.access import StaffRequiredMixin
from portal.console.errors import SERVICE_ERRORS
from portal.console.forms import AccountSearchForm
from portal.console.tables import AccountTable
from portal.models import Tenant

PAGE_SIZE = 25


class AccountSearchView(StaffRequiredMixin, TemplateView):
    """One box plus the filters of the accounts filterset (the native API's), sortable, with
    the exact total."""

    template_name = "console/account_search.html"

    def get_template_names(self):
        htmx = self.request.htmx
        if htmx and not htmx.boosted and not htmx.history_restore_request:
            return ["console/inc/account_results.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.require_tenant()
        self.require_action(tenant, "account.view")
        roles = [r.name for r in selectors.roles_of(tenant=tenant)]
        form = AccountSearchForm(self.request.GET or None, roles=roles)
        searched = form.is_bound and form.searching()
        context["form"] = form
        context["searched"] = searched
        if searched:
            qs = selectors.account_search(tenant=tenant, query=form.cleaned_data.get("q", ""))
            filterset = AccountFilter(form.filter_data(), queryset=qs, tenant=tenant)
            if not filterset.is_valid():
                form.add_error(
                    None,
                    "Check the filters: "
                    + "; ".join(f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()),
                )
                context["searched"] = False
                return context
            table = AccountTable(filterset.qs.select_related("tenant"))
            RequestConfig(self.request, paginate={"per_page": PAGE_SIZE}).configure(table)
            context["table"] = table
            # One exact hit goes straight to the account only on a full-page search.
        return context

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        table = context.get("table")
        if (
            table is not None
            and not request.htmx
            and table.paginator.count == 1
            and request.GET.get("q")
        ):
            only = table.page.object_list.data[0]
            return redirect("console:account_detail", only.tenant.slug, only.uid)
        return self.render_to_response(context)


class AccountMixin(StaffRequiredMixin):
    def load_account(self, slug: str, uid: str) -> tuple[Tenant, Account]:
        tenant = self.tenant_from_slug(slug)
        self.require_action(tenant, "account.view")
        account = Account.objects.filter(tenant=tenant, uid=uid).prefetch_related("emails").first()
        if account is None:
            raise Http404("No such account")
        return tenant, account


def _allowed(view, tenant) -> frozenset[str]:
    if tenant == view.console.tenant:
        return view.console.allowed
    return staff.staff_allowed_actions(
        user=view.request.user, tenant=tenant, role=view.console.role
    )


class AccountDetailView(AccountMixin, TemplateView):
    template_name = "console/account_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant, account = self.load_account(kwargs["slug"], kwargs["uid"])
        allowed = _allowed(self, tenant)
        offered = {
            name: spec
            for name, spec in account_actions.ACTIONS.items()
            if spec.permission in allowed
        }
        mfa = selectors.account_mfa(account=account)
        context.update(
            tenant=tenant,
            account=account,
            lockout=selectors.account_lockout(account=account),
            emails=list(account.emails.all()),
            identities=list(account.identities.all()),
            timeline=selectors.account_timeline(tenant=tenant, uid=account.uid),
            roles=selectors.account_roles(account=account),
            contexts=selectors.account_contexts(account=account),
            sessions=selectors.account_sessions(account=account),
            mfa=mfa,
            factor_labels=account_actions.FACTOR_LABELS,
            records=selectors.account_records(account=account),
            tokens=selectors.account_tokens(account=account),
            deliveries=selectors.account_deliveries(account=account),
            now=timezone.now(),
            # Every action this staff member may take here, by name (templates show these only).
            can={name: True for name in offered},
            header_actions=[
                spec
                for spec in offered.values()
                if spec.place == "header" and spec.applies(account)
            ],
            may_act=bool(offered),
        )
        return context


class AccountActionView(AccountMixin, View):
    """Ask what the action needs, a reason and a ticket; repeat it back for confirmation; then
    run the section's service. A refused or invalid request changes nothing."""

    template_name = "console/account_action.html"

    def setup_action(self, slug, uid, action):
        spec = account_actions.ACTIONS.get(action)
        if spec is None:
            raise Http404("No such action")
        tenant, account = self.load_account(slug, uid)
        self.require_action(tenant, spec.permission)
        return spec, tenant, account

    def _form(self, spec, tenant, account, data=None, initial=None):
        return spec.form(data, initial=initial, account=account, tenant=tenant)

    def _render(self, request, spec, tenant, account, form, *, confirming=False, status=200):
        return render(
            request,
            self.template_name,
            {
                "console": self.console,
                "spec": spec,
                "action": spec.name,
                "tenant": tenant,
                "account": account,
                "form": form,
                "confirming": confirming,
                "summary": form.summary() if confirming else [],
            },
            status=status,
        )

    def get(self, request, slug, uid, action):
        spec, tenant, account = self.setup_action(slug, uid, action)
        if not spec.applies(account):
            messages.warning(request, spec.not_applicable)
            return redirect("console:account_detail", tenant.slug, account.uid)
        initial = spec.initial(account=account, query=request.GET)
        return self._render(
            request, spec, tenant, account, self._form(spec, tenant, account, initial=initial)
        )

    def post(self, request, slug, uid, action):
        spec, tenant, account = self.setup_action(slug, uid, action)
        detail_url = reverse("console:account_detail", args=[tenant.slug, account.uid])
        if not spec.applies(account):
            messages.warning(request, spec.not_applicable)
            return redirect(detail_url)
        form = self._form(spec, tenant, account, data=request.POST)
        if not form.is_valid():
            return self._render(request, spec, tenant, account, form, status=400)
        if not form.cleaned_data["confirmed"]:
            return self._render(request, spec, tenant, account, form, confirming=True)
        ctx = account_actions.Ctx(
            tenant=tenant,
            account=account,
            actor=self.console.actor,
            data=form.run_data(),
            reason=form.cleaned_data["reason"],
            ticket=form.cleaned_data["ticket"],
        )
        try:
            outcome = spec.run(ctx)
        except SERVICE_ERRORS as error:
            messages.error(
                request, f"{spec.title} was refused: {account_actions.error_text(error)}"
            )
            return redirect(detail_url)
        messages.success(request, spec.done)
        if isinstance(outcome, account_actions.Secret):
            response = render(
                request,
                "console/account_secret.html",
                {
                    "console": self.console,
                    "tenant": tenant,
                    "account": account,
                    "secret": outcome,
                },
            )
            response["Cache-Control"] = "no-store"
            return response
        if spec.after_url == "search":
            return redirect("console:account_search")
        return redirect(detail_url)

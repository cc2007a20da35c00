"""Finding an account, and its page (the actions on it: portal/console/actions/views.py)."""

from urllib.parse import urlencode

from django import forms
from django.contrib.auth import SESSION_KEY
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView
from django_otp import DEVICE_ID_SESSION_KEY
from django_tables2 import RequestConfig

from accounts.filters import AccountFilter
from accounts.history import RESTORABLE, RESTORE_SOURCES
from accounts.models import Account
from accounts.selectors import custom_plans
from portal import access_grants, staff
from portal.console import account_page, display, event_names, search_selectors, selectors
from portal.console import actions as account_actions
from portal.console.access import StaffRequiredMixin
from portal.console.forms import AccountSearchForm
from portal.console.search_texts import opened_search, sealed_search
from portal.console.tables import AccountTable, CappedCountPaginator
from portal.models import Tenant
from portal.staff_session import apply_security_headers
from portal.templatetags import account_actions as account_actions_tags

PAGE_SIZE = 25


def search_url(request, data) -> str:
    """The results page for the box and filters in `data`: the box's text sealed for this
    sign-in (portal/console/search_texts.py)."""
    params = [(k, v) for k, v in data.items() if k in AccountSearchForm.FILTERS and v]
    query = " ".join(str(data.get("q") or "").split())
    if query:
        sealed = sealed_search(session_key=request.session.session_key or "", text=query)
        params.insert(0, ("s", sealed))
    url = reverse("console:account_search")
    return f"{url}?{urlencode(params)}" if params else url


class AccountSearchView(StaffRequiredMixin, TemplateView):
    """One box plus the filters of the accounts filterset (the native API's), sortable, with
    the exact total up to tables.SEARCH_COUNT_CAP ("more than" beyond it).

    The box's text is posted, never put in a URL: a post (or an old `?q=` link) is answered
    with the results page at `?s=<token>`, the text sealed for this sign-in alone."""

    template_name = "console/account_search.html"

    def search_data(self):
        """The form's data: the filters from the URL, the box's text from its token."""
        data = self.request.GET.copy()
        sealed = data.pop("s", [""])[-1]
        if sealed:
            session_key = self.request.session.session_key
            data["q"] = opened_search(session_key=session_key, sealed=sealed)
        return data or None

    def get_template_names(self):
        htmx = self.request.htmx
        if htmx and not htmx.boosted and not htmx.history_restore_request:
            return ["console/inc/account_results.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.require_tenant()
        self.require_action(tenant, "account.view")
        roles = selectors.role_names_of(tenant=tenant)
        form = AccountSearchForm(self.search_data(), roles=roles)
        searched = form.is_bound and form.searching()
        if form.is_bound and "created_to" in form.errors:
            # The field names its error for screen readers (the template renders that id).
            form.fields["created_to"].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": "created-to-error"}
            )
        context["form"] = form
        context["searched"] = searched
        # How many filters are set: the button that shows them on a narrow screen says so.
        context["active_filters"] = (
            sum(1 for name in form.FILTERS if form.cleaned_data.get(name)) if searched else 0
        )
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
            table = AccountTable(
                search_selectors.account_rows(filterset.qs), tenant_slug=tenant.slug
            )
            RequestConfig(
                self.request,
                paginate={"per_page": PAGE_SIZE, "paginator_class": CappedCountPaginator},
            ).configure(table)
            context["table"] = table
            # One exact hit goes straight to the account only on a full-page search.
        return context

    def dispatch(self, request, *args, **kwargs):
        # A posted search (outside htmx) or an old `?q=` link only moves the text into the
        # session and redirects: the results page it lands on checks the user, their second
        # factor, the role, the tenant and the idle timeout, so this step loads none of them.
        # It only asks that the session was signed in with both factors, so that it stores
        # no text for a visitor; a session gone stale meanwhile is refused on the next page.
        moving = (request.method == "GET" and "q" in request.GET) or (
            request.method == "POST" and (not request.htmx or request.htmx.boosted)
        )
        session = request.session
        if moving and SESSION_KEY in session and DEVICE_ID_SESSION_KEY in session:
            data = request.GET if request.method == "GET" else request.POST
            return apply_security_headers(redirect(search_url(request, data)))
        return super().dispatch(request, *args, **kwargs)

    def results_context(self, **kwargs) -> dict:
        """The page's context with its count and rows read, planned for the typed text: a
        generic plan of `LIKE $1` under ORDER BY ... LIMIT walks an index through every
        account. The rows' details and the rendering follow outside that block, so their
        statements keep the plans PostgreSQL caches for them."""
        # Refusals first: an exception inside the planned block (a transaction of its own,
        # without a savepoint) would spoil a transaction the request already runs in.
        self.require_action(self.require_tenant(), "account.view")
        with custom_plans():
            context = self.get_context_data(**kwargs)
            table = context.get("table")
            if table is not None:
                table.page_records  # noqa: B018 (the page's rows, read here)
        return context

    def get(self, request, *args, **kwargs):
        context = self.results_context(**kwargs)
        table = context.get("table")
        if (
            table is not None
            and not request.htmx
            and table.paginator.count == 1
            and request.GET.get("s")
        ):
            only = table.page_records[0]
            return redirect("console:account_detail", table.tenant_slug, only.uid)
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        # The search page's own form (htmx): the results, and the address bar at the key.
        url = search_url(request, request.POST)
        request.GET = QueryDict(url.partition("?")[2])
        response = self.render_to_response(self.results_context(**kwargs))
        response["HX-Push-Url"] = url
        return response


class AccountMixin(StaffRequiredMixin):
    def account_tenant(self, slug: str, uid: str) -> Tenant:
        """The tenant of account `uid`, when the user may see that account: by their standing
        role and permission, or by a live time-boxed grant for it (portal/access_grants.py);
        any other is "not found", or refused when the tenant is theirs but the role is not."""
        tenant = self.console.tenant_by_slug(slug)
        if tenant is None:
            raise Http404("No such tenant")
        self.mask_for(tenant)
        user = self.request.user
        sees_tenant = self.console.can(tenant, "view_accounts")
        if sees_tenant and self.may(tenant, "account.view"):
            return tenant
        if access_grants.grant_allows(user=user, tenant=tenant, uid=uid, scope="view"):
            return tenant
        if not sees_tenant:
            raise Http404("No such tenant")
        self.require_action(tenant, "account.view")
        return tenant

    def require_on_account(self, tenant: Tenant, action: str, uid: str) -> None:
        """The standing role, else a live grant to act on this account (an Agent's actions)."""
        if not access_grants.staff_may_on_account(
            user=self.request.user, tenant=tenant, action=action, uid=uid
        ):
            self.require_action(tenant, action)

    def load_account(self, slug: str, uid: str) -> tuple[Tenant, Account]:
        tenant = self.account_tenant(slug, uid)
        account = Account.objects.filter(tenant=tenant, uid=uid).prefetch_related("emails").first()
        if account is None:
            raise Http404("No such account")
        return tenant, account


def _allowed(view, tenant, *, uid: str = "") -> frozenset[str]:
    if tenant == view.console.tenant:
        standing = view.console.allowed
    else:
        standing = staff.staff_allowed_actions(
            user=view.request.user, tenant=tenant, role=view.console.role
        )
    # A grant adds an Agent's actions on this account; a standing Agent or above has them.
    if (
        uid
        and not standing >= access_grants.ACT_ACTIONS
        and access_grants.grant_allows(user=view.request.user, tenant=tenant, uid=uid, scope="act")
    ):
        return standing | access_grants.ACT_ACTIONS | {"account.view"}
    return standing


class TimelineFilterForm(forms.Form):
    """The timeline's filters and its paging cursor (all optional)."""

    kind = forms.ChoiceField(
        required=False,
        label="Kind",
        choices=[("", "All kinds"), *[(k, label) for k, label, _ in event_names.KINDS]],
    )
    actor = forms.CharField(required=False, max_length=300, label="Actor")
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class AccountDetailView(AccountMixin, TemplateView):
    """Everything about one account on one page: the security summary first, then its
    sections, its sign-ins and its readable history. `?fragment=timeline` (htmx) answers
    with the timeline alone: a filter change or the next older page."""

    template_name = "console/account_detail.html"
    timeline_template = "console/inc/account_timeline.html"

    def load_account(self, slug: str, uid: str) -> tuple[Tenant, Account]:
        tenant = self.account_tenant(slug, uid)
        account = account_page.account_for_page(tenant=tenant, uid=uid)
        if account is None:
            raise Http404("No such account")
        return tenant, account

    def get_template_names(self):
        if self.request.htmx and self.request.GET.get("fragment") == "timeline":
            return [self.timeline_template]
        return [self.template_name]

    def timeline_context(self, tenant, account) -> dict:
        form = TimelineFilterForm(self.request.GET or None)
        kind = actor = ""
        before = None
        if form.is_bound and form.is_valid():
            kind = form.cleaned_data["kind"]
            actor = form.cleaned_data["actor"]
            before = form.cleaned_data["before"]
        page = account_page.account_timeline_page(
            tenant=tenant, account=account, kind=kind, actor=actor, before=before
        )
        query = {k: v for k, v in (("kind", kind), ("actor", actor)) if v}
        return {
            "may_restore": "account.edit" in _allowed(self, tenant, uid=account.uid),
            "restorable_fields": RESTORABLE,
            "restore_sources": RESTORE_SOURCES,
            "timeline": page,
            "timeline_form": form,
            "timeline_filtered": bool(query),
            "timeline_older_query": urlencode({**query, "before": page.older})
            if page.older
            else "",
            "timeline_continued": before is not None,
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant, account = self.load_account(kwargs["slug"], kwargs["uid"])
        context.update(tenant=tenant, account=account)
        context.update(self.timeline_context(tenant, account))
        if self.get_template_names() == [self.timeline_template]:
            return context
        context["timeline_actors"] = account_page.timeline_actors(tenant=tenant, account=account)
        allowed = _allowed(self, tenant, uid=account.uid)
        offered = {
            name: spec
            for name, spec in account_actions.ACTIONS.items()
            if spec.permission in allowed
        }
        sessions = selectors.account_sessions(account=account)
        signins = account_page.account_signins(tenant=tenant, uid=account.uid)
        summary = account_page.account_security_summary(
            tenant=tenant, account=account, sessions=sessions, signins=signins
        )
        header = [
            spec for spec in offered.values() if spec.place == "header" and spec.applies(account)
        ]
        # The state decides the primary action: a locked account is unlocked, a blocked one
        # unblocked; the rest of the header actions wait in the Actions menu.
        primary = [spec for spec in header if spec.name in ("unlock", "unblock")]
        menu = [spec for spec in header if spec not in primary]
        if "delete" in offered:
            menu.append(offered["delete"])
        context.update(
            primary_email=display.primary_email_of(account),
            lockout=summary.lock,
            summary=summary,
            signins=signins,
            emails=list(account.emails.all()),
            identities=list(account.identities.all()),
            roles=selectors.account_roles(account=account),
            contexts=selectors.account_contexts(account=account),
            sessions=sessions,
            mfa={
                "factors": summary.factors,
                "passkeys": selectors.account_passkeys(account=account)
                if summary.factors.get("passkey")
                else [],
                "backup_total": summary.backup_total,
                "backup_remaining": summary.backup_remaining,
            },
            factor_labels=account_actions.FACTOR_LABELS,
            records=selectors.account_records(account=account),
            tokens=selectors.account_tokens(account=account),
            deliveries=selectors.account_deliveries(account=account),
            now=timezone.now(),
            # Every action this staff member may take here, by name (templates show these only).
            can={name: True for name in offered},
            action_urls=account_actions_tags.action_urls(
                tenant_slug=tenant.slug, uid=account.uid, names=offered
            ),
            primary_actions=primary,
            menu_actions=menu,
            may_act=bool(offered),
        )
        return context

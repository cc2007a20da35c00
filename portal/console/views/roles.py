"""The roles screens: roles with their holders (directly and through role contexts), one
role's page, the role contexts with their holders and expiries, and writing them."""

from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views import View
from django.views.generic import TemplateView
from django_htmx.http import HttpResponseClientRedirect

from accounts import selectors as account_selectors
from accounts.models import Account
from portal.console import selectors
from portal.console.access import StaffRequiredMixin, safe_next
from portal.console.actions import Ctx, error_text
from portal.console.actions.base import Held, point_at_errors, run_or_hold
from portal.console.actions.views import LAST_TICKET_SESSION_KEY
from portal.console.display import person_name
from portal.console.errors import SERVICE_ERRORS
from portal.console.forms import (
    RoleContextExtendForm,
    RoleContextHolderAddForm,
    RoleContextRevokeForm,
    RoleCreateForm,
    RolePermissionsForm,
)
from portal.errors import (
    AccountNotFound,
    FieldRequired,
    RoleContextNotFound,
    RoleNotFound,
)
from roles import selectors as role_selectors
from roles import services as role_services
from roles.commands import (
    ContextGrant,
    RoleContextDelete,
    RoleContextGrant,
    RoleDelete,
    RoleInput,
    RolePermissionsAdd,
    RolePermissionsRemove,
    RolesCreate,
)
from roles.models import RoleContext

PAGE_SIZE = 50
EXPIRING_WITHIN = timedelta(days=7)


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page") or 1))
    except ValueError:
        return 1


def _pager(request, *, number: int, total: int) -> dict:
    """Previous/next links of a page of PAGE_SIZE rows, keeping the other query parameters."""
    pages = max(1, -(-total // PAGE_SIZE))

    def link(n: int) -> str:
        query = request.GET.copy()
        query["page"] = str(n)
        return "?" + query.urlencode()

    return {
        "number": min(number, pages),
        "pages": pages,
        "total": total,
        "previous": link(number - 1) if number > 1 else "",
        "next": link(number + 1) if number < pages else "",
    }


def _accounts_by_id(tenant, ids) -> dict[int, Account]:
    """The accounts of these ids with their emails, for showing each as a person."""
    return {
        a.pk: a
        for a in Account.objects.filter(tenant=tenant, pk__in=list(ids)).prefetch_related("emails")
    }


def _named(name: str) -> str:
    """A role or context name from the URL; one no name can be (a NUL) is not found."""
    if "\x00" in name:
        raise Http404("No such name")
    return name


class RoleScreenMixin(StaffRequiredMixin):
    """A roles screen of the current tenant: its readers need to see accounts."""

    def roles_tenant(self):
        tenant = self.require_tenant()
        self.require_action(tenant, "account.view")
        self.mask_for(tenant)
        return tenant


class RolesView(RoleScreenMixin, TemplateView):
    """Roles and their permissions, how many hold each (directly and through role contexts),
    and the tenant's role contexts."""

    template_name = "console/roles.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.roles_tenant()
        counts = role_selectors.role_holder_counts(tenant=tenant)
        summaries, context_total = role_selectors.role_context_summaries(tenant=tenant, limit=10)
        _rows, expiring = role_selectors.role_contexts_expiring(
            tenant=tenant, within=EXPIRING_WITHIN, limit=0
        )
        context.update(
            tenant=tenant,
            roles=[
                {"role": r, "count": counts.get(r.name, role_selectors.RoleHolderCount())}
                for r in selectors.roles_of(tenant=tenant)
            ],
            contexts=summaries,
            context_total=context_total,
            expiring_count=expiring,
            may_manage=self.console.may("roles.manage"),
            create_form=kwargs.get("create_form") or RoleCreateForm(),
            now=timezone.now(),
        )
        return context


class RoleDetailView(RoleScreenMixin, TemplateView):
    """One role: its description, permissions, whether it is privileged, and who holds it,
    directly or through which role context, 50 a page."""

    template_name = "console/roles/role_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.roles_tenant()
        try:
            role = role_selectors.role_get(tenant=tenant, name=_named(kwargs["name"]))
        except RoleNotFound as missing:
            raise Http404("No such role") from missing
        number = _page_number(self.request)
        holdings, total = role_selectors.role_holdings_page(
            role=role, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        accounts = _accounts_by_id(tenant, [h.account_id for h in holdings])
        count = role_selectors.role_holder_counts(tenant=tenant).get(
            role.name, role_selectors.RoleHolderCount()
        )
        context.update(
            tenant=tenant,
            role=role,
            count=count,
            rows=[(accounts[h.account_id], h) for h in holdings if h.account_id in accounts],
            pager=_pager(self.request, number=number, total=total),
            now=timezone.now(),
        )
        return context


class RoleContextListView(RoleScreenMixin, TemplateView):
    """The tenant's role contexts: name, roles given in it, holders, nearest expiry."""

    template_name = "console/roles/context_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.roles_tenant()
        number = _page_number(self.request)
        summaries, total = role_selectors.role_context_summaries(
            tenant=tenant, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        _rows, expiring = role_selectors.role_contexts_expiring(
            tenant=tenant, within=EXPIRING_WITHIN, limit=0
        )
        context.update(
            tenant=tenant,
            contexts=summaries,
            expiring_count=expiring,
            pager=_pager(self.request, number=number, total=total),
            may_manage=self.console.may("roles.manage"),
        )
        return context


class RoleContextExpiringView(RoleScreenMixin, TemplateView):
    """Grants through role contexts that end within 7 days, soonest first."""

    template_name = "console/roles/context_expiring.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.roles_tenant()
        number = _page_number(self.request)
        rows, total = role_selectors.role_contexts_expiring(
            tenant=tenant,
            within=EXPIRING_WITHIN,
            offset=(number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        accounts = _accounts_by_id(tenant, [r.account_id for r in rows])
        context.update(
            tenant=tenant,
            rows=[(accounts[r.account_id], r) for r in rows if r.account_id in accounts],
            pager=_pager(self.request, number=number, total=total),
            may_manage=self.console.may("roles.manage"),
            back=self.request.get_full_path(),
        )
        return context


class RoleContextDetailView(RoleScreenMixin, TemplateView):
    """Who holds one role context, with what and until when; a Lead extends, revokes or
    adds a holder from here."""

    template_name = "console/roles/context_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.roles_tenant()
        name = _named(kwargs["name"])
        number = _page_number(self.request)
        rows, total = role_selectors.role_context_holders_page(
            tenant=tenant, name=name, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        if not total:
            raise Http404("No such role context")
        accounts = _accounts_by_id(tenant, [r.account_id for r in rows])
        context.update(
            tenant=tenant,
            name=name,
            rows=[(accounts[r.account_id], r) for r in rows if r.account_id in accounts],
            pager=_pager(self.request, number=number, total=total),
            may_manage=self.console.may("roles.manage"),
            now=timezone.now(),
            back=self.request.get_full_path(),
        )
        return context


class RoleContextNamesView(RoleScreenMixin, View):
    """The typeahead of context names: the tenant's names matching what was typed, as
    datalist options (htmx) or JSON (`?format=json`)."""

    def get(self, request):
        tenant = self.roles_tenant()
        text = (request.GET.get("q") or request.GET.get("context") or "")[:100].replace("\x00", "")
        names = role_selectors.role_context_names_matching(tenant=tenant, text=text)
        if request.GET.get("format") == "json":
            return JsonResponse({"names": names})
        return render(request, "console/roles/context_names.html", {"names": names})


@dataclass(frozen=True)
class ContextOp:
    title: str
    button: str
    explain: str
    form: type[forms.Form]
    danger: bool = False


CONTEXT_OPS: dict[str, ContextOp] = {
    "extend": ContextOp(
        "Extend",
        "Save the new expiry",
        "Sets a new expiry for this holder's grant: the roles and permissions stay as they are.",
        RoleContextExtendForm,
    ),
    "revoke": ContextOp(
        "Revoke",
        "Revoke the context",
        "Takes the context, with every role and permission it grants, from this holder.",
        RoleContextRevokeForm,
        danger=True,
    ),
    "add_holder": ContextOp(
        "Add a holder to",
        "Add the holder",
        "Gives an account this context with the roles you tick, until the expiry you give.",
        RoleContextHolderAddForm,
    ),
}


def _holder(tenant, text: str) -> Account:
    """The account an agent typed, found exactly: by email, else UID, else username."""
    text = text.strip()
    if "@" in text:
        return account_selectors.account_get_by_email(tenant=tenant, email=text)
    try:
        return account_selectors.account_get(tenant=tenant, uid=text)
    except AccountNotFound:
        return account_selectors.account_get_by_username(tenant=tenant, username=text)


class RoleContextActionView(RoleScreenMixin, View):
    """Extend, revoke or add a holder of a role context: a dialog on the context page (htmx)
    or a page of its own; with a reason, through the roles services (and the tenant's
    approval gates); a refused or invalid request changes nothing."""

    dialog_template_name = "console/roles/context_dialog.html"
    template_name = "console/roles/context_action.html"

    def setup_op(self, name: str, op: str):
        self.held: RoleContext | None = None
        spec = CONTEXT_OPS.get(op)
        if spec is None:
            raise Http404("No such action")
        tenant = self.roles_tenant()
        self.require_action(tenant, "roles.manage")
        if not role_selectors.role_context_name_exists(tenant=tenant, name=_named(name)):
            raise Http404("No such role context")
        return spec, tenant

    def in_dialog(self) -> bool:
        htmx = self.request.htmx
        return bool(htmx) and not htmx.boosted and not htmx.history_restore_request

    def back_url(self, name: str) -> str:
        return safe_next(self.request, reverse("console:role_context_detail", args=[name]))

    def holder_context(self, tenant, name: str, uid: str):
        """The holder named by the form and their context of this name, or 404."""
        try:
            account = account_selectors.account_get(tenant=tenant, uid=uid)
            self.held = role_selectors.role_context_get(account=account, name=name)
            return account, self.held
        except (AccountNotFound, RoleContextNotFound, FieldRequired) as missing:
            raise Http404("No such holder") from missing

    def make_form(self, spec, tenant, name, data=None, initial=None):
        if spec.form is RoleContextHolderAddForm:
            roles = selectors.role_names_of(tenant=tenant)
            return RoleContextHolderAddForm(data, initial=initial, roles=roles)
        return spec.form(data, initial=initial)

    def answer(self, request, spec, tenant, name, form, *, op, account=None, status=200):
        if form.is_bound:
            point_at_errors(form)
        title = f"{spec.title} {name}" + (f" — {person_name(account)}" if account else "")
        context = {
            "console": self.console,
            "tenant": tenant,
            "name": name,
            "spec": spec,
            "title": title,
            "form": form,
            "account": account,
            "held": self.held,
            "in_dialog": self.in_dialog(),
            "back": self.back_url(name),
            "action_url": reverse("console:role_context_action", args=[name, op])
            + "?"
            + urlencode({"next": self.back_url(name)}),
        }
        template = self.dialog_template_name if self.in_dialog() else self.template_name
        return render(request, template, context, status=status)

    def get(self, request, name, op):
        spec, tenant = self.setup_op(name, op)
        initial: dict = {}
        account = None
        remembered = request.session.get(LAST_TICKET_SESSION_KEY)
        if remembered:
            initial["ticket"] = remembered
        if op == "add_holder":
            initial["roles"] = role_selectors.role_context_common_roles(tenant=tenant, name=name)
        else:
            account, held = self.holder_context(tenant, name, request.GET.get("account") or "")
            initial.update(account=account.uid, version=role_selectors.role_context_version(held))
        form = self.make_form(spec, tenant, name, initial=initial)
        return self.answer(request, spec, tenant, name, form, op=op, account=account)

    def post(self, request, name, op):
        spec, tenant = self.setup_op(name, op)
        form = self.make_form(spec, tenant, name, data=request.POST)
        account = None
        if op != "add_holder":
            account, _held = self.holder_context(tenant, name, request.POST.get("account") or "")
        if not form.is_valid():
            return self.answer(
                request, spec, tenant, name, form, op=op, account=account, status=400
            )
        data = form.cleaned_data
        why = {"reason": data["reason"], "ticket": data["ticket"]}
        try:
            if op == "add_holder":
                try:
                    account = _holder(tenant, data["holder"])
                except SERVICE_ERRORS:  # not found, or not an email or UID at all
                    form.add_error(
                        "holder", "No account of this tenant has this email, username or UID."
                    )
                    return self.answer(request, spec, tenant, name, form, op=op, status=400)
                if any(c.name == name for c in role_selectors.role_context_list(account=account)):
                    form.add_error(
                        "holder",
                        f"{person_name(account)} already holds {name}: extend it from the list.",
                    )
                    return self.answer(request, spec, tenant, name, form, op=op, status=400)
                grant = ContextGrant(
                    name=name, roles=tuple(data["roles"]), expiration=data["expires"]
                )
                done = f"{person_name(account)} now holds {name}."
            elif op == "extend":
                grant = ContextGrant(
                    name=name, expiration=data["expires"], expected_version=data["version"] or None
                )
                done = f"New expiry of {name} saved for {person_name(account)}."
            if op == "revoke":
                role_services.role_context_delete(
                    RoleContextDelete(name=name, expected_version=data["version"] or None, **why),
                    tenant=tenant,
                    actor=self.console.actor,
                    account=account,
                )
                done = f"{name} revoked from {person_name(account)}."
            else:
                ctx = Ctx(tenant=tenant, account=account, actor=self.console.actor, data={}, **why)
                run_or_hold(
                    ctx,
                    role_services.role_contexts_upsert,
                    RoleContextGrant(contexts=(grant,), **why),
                )
        except Held as held:
            waiting = reverse("console:approval_detail", args=[tenant.slug, held.request.pk])
            messages.info(
                request,
                f"This grant needs a second person on this tenant: it was sent for approval as "
                f"request #{held.request.pk} and runs once someone else approves it.",
            )
            return self.done(waiting, data)
        except SERVICE_ERRORS as error:
            form.add_error(None, f"Refused: {error_text(error)} Nothing was changed.")
            return self.answer(
                request, spec, tenant, name, form, op=op, account=account, status=409
            )
        messages.success(request, done)
        return self.done(self.back_url(name), data)

    def done(self, url: str, data: dict):
        if data.get("ticket"):
            self.request.session[LAST_TICKET_SESSION_KEY] = data["ticket"]
        if self.in_dialog():
            return HttpResponseClientRedirect(url)
        return redirect(url)


def _why(form) -> dict:
    return {
        "reason": form.cleaned_data.get("reason", ""),
        "ticket": form.cleaned_data.get("ticket", ""),
    }


class RoleWriteView(StaffRequiredMixin, View):
    """Create or delete a role, add or remove permissions: through the roles services."""

    def post(self, request, op):
        tenant = self.require_tenant()
        self.require_action(tenant, "roles.manage")
        actor = self.console.actor
        back = reverse("console:roles")
        try:
            if op == "create":
                form = RoleCreateForm(request.POST)
                if not form.is_valid():
                    view = RolesView()
                    view.setup(request)
                    view.console = self.console
                    return render(
                        request,
                        view.template_name,
                        view.get_context_data(create_form=form),
                        status=400,
                    )
                role_services.roles_create(
                    RolesCreate(
                        roles=(
                            RoleInput(
                                name=form.cleaned_data["name"],
                                permissions=tuple(form.cleaned_data["permissions"]),
                            ),
                        ),
                        **_why(form),
                    ),
                    tenant=tenant,
                    actor=actor,
                )
                messages.success(request, f"Role {form.cleaned_data['name']} created.")
            elif op in ("delete", "add_permissions", "remove_permissions"):
                form = RolePermissionsForm(request.POST)
                if not form.is_valid():
                    messages.error(
                        request,
                        "Name the role" + (" and the permissions." if op != "delete" else "."),
                    )
                    return redirect(back)
                name = form.cleaned_data["name"]
                if op == "delete":
                    if form.cleaned_data.get("confirm_name") != name:
                        messages.error(
                            request, f"Type {name} to confirm: the role was not deleted."
                        )
                        return redirect(back)
                    role_services.role_delete(
                        RoleDelete(name=name, **_why(form)), tenant=tenant, actor=actor
                    )
                    messages.success(request, f"Role {name} deleted.")
                else:
                    permissions = form.cleaned_data["permissions"]
                    if not permissions:
                        messages.error(request, "Give at least one permission.")
                        return redirect(back)
                    if op == "add_permissions":
                        role_services.role_permissions_add(
                            RolePermissionsAdd(
                                name=name, permissions=tuple(permissions), **_why(form)
                            ),
                            tenant=tenant,
                            actor=actor,
                        )
                    else:
                        role_services.role_permissions_remove(
                            RolePermissionsRemove(
                                name=name, permissions=tuple(permissions), **_why(form)
                            ),
                            tenant=tenant,
                            actor=actor,
                        )
                    messages.success(request, f"Permissions of {name} saved.")
            else:
                raise Http404("No such operation")
        except SERVICE_ERRORS as error:
            messages.error(request, f"Refused: {error_text(error)}")
        return redirect(back)

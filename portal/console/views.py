"""Console screens. Views read through selectors and write only through services, as the API
does; each checks the staff member's role and tenant permission before anything runs."""

import csv
import json
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from accounts.filters import AccountFilter
from accounts.models import Account
from customobjects import selectors as customobject_selectors
from customobjects import services as customobject_services
from portal import services as portal_services
from portal import staff
from portal.console import actions as account_actions
from portal.console import selectors
from portal.console.access import (
    TENANT_SESSION_KEY,
    ConsoleDenied,
    StaffRequiredMixin,
    safe_next,
)
from portal.console.filters import AuditEventFilter
from portal.console.forms import (
    AccountSearchForm,
    CredentialCreateForm,
    CredentialRevokeForm,
    CredentialRotateForm,
    ObjectTypeDeleteForm,
    ObjectTypeForm,
    RoleCreateForm,
    RolePermissionsForm,
    StaffGrantForm,
    StaffRevokeForm,
    TenantCreateForm,
    TenantSettingsForm,
    TenantSwitchForm,
)
from portal.console.tables import AccountTable, AuditEventTable
from portal.lrapi.errors import LRError
from portal.models import ApiCredential, Tenant
from roles import selectors as role_selectors
from roles import services as role_services

PAGE_SIZE = 25


class DashboardView(StaffRequiredMixin, TemplateView):
    template_name = "console/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.console.tenant
        if tenant is None:
            return context
        deliveries = selectors.deliveries_by_status(tenant=tenant)
        context.update(
            signups=selectors.bar_chart(
                "Sign-ups per day", selectors.signups_per_day(tenant=tenant),
                empty_text="No sign-ups in the last 14 days.",
            ),
            lockouts=selectors.bar_chart(
                "Lockouts per day", selectors.lockouts_per_day(tenant=tenant),
                empty_text="No lockouts in the last 14 days.",
            ),
            deliveries=(
                None if deliveries is None else selectors.bar_chart(
                    "Deliveries by status (14 days)", deliveries, width=400,
                    empty_text="No messages sent in the last 14 days.",
                )
            ),
            active_sessions=selectors.active_sessions_count(tenant=tenant),
            account_total=Account.objects.filter(tenant=tenant).count(),
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


# Accounts ---------------------------------------------------------------------------------


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
                form.add_error(None, "Check the filters: " + "; ".join(
                    f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()))
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
        if table is not None and not request.htmx and table.paginator.count == 1 and request.GET.get("q"):
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
    return staff.staff_allowed_actions(user=view.request.user, tenant=tenant, role=view.console.role)


class AccountDetailView(AccountMixin, TemplateView):
    template_name = "console/account_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant, account = self.load_account(kwargs["slug"], kwargs["uid"])
        allowed = _allowed(self, tenant)
        offered = {
            name: spec for name, spec in account_actions.ACTIONS.items()
            if spec.permission in allowed and spec.available()
        }
        mfa = selectors.account_mfa(account=account)
        context.update(
            tenant=tenant,
            account=account,
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
                spec for spec in offered.values() if spec.place == "header" and spec.applies(account)
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
        if not spec.available():
            raise ConsoleDenied(
                f"{spec.title} is not available on this server yet.",
                "The service behind it is not installed; ask the operators.",
            )
        return spec, tenant, account

    def _form(self, spec, tenant, account, data=None, initial=None):
        return spec.form(data, initial=initial, account=account, tenant=tenant)

    def _render(self, request, spec, tenant, account, form, *, confirming=False, status=200):
        return render(
            request, self.template_name,
            {"console": self.console, "spec": spec, "action": spec.name, "tenant": tenant,
             "account": account, "form": form, "confirming": confirming,
             "summary": form.summary() if confirming else []},
            status=status,
        )

    def get(self, request, slug, uid, action):
        spec, tenant, account = self.setup_action(slug, uid, action)
        if not spec.applies(account):
            messages.warning(request, spec.not_applicable)
            return redirect("console:account_detail", tenant.slug, account.uid)
        initial = account_actions.initial_for(spec, spec.form, account, request.GET)
        return self._render(request, spec, tenant, account, self._form(spec, tenant, account, initial=initial))

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
            tenant=tenant, account=account, actor=self.console.actor,
            data=account_actions.prepare(spec, form),
            reason=form.cleaned_data["reason"], ticket=form.cleaned_data["ticket"],
        )
        try:
            outcome = spec.run(ctx)
        except LRError as error:
            messages.error(request, f"{spec.title} was refused: {account_actions.error_text(error)}")
            return redirect(detail_url)
        messages.success(request, spec.done)
        if isinstance(outcome, account_actions.Secret):
            response = render(request, "console/account_secret.html", {
                "console": self.console, "tenant": tenant, "account": account, "secret": outcome,
            })
            response["Cache-Control"] = "no-store"
            return response
        if spec.after_url == "search":
            return redirect("console:account_search")
        return redirect(detail_url)


# Roles -------------------------------------------------------------------------------------


class RolesView(StaffRequiredMixin, TemplateView):
    """Roles and their permissions, who holds each, and accounts per role context."""

    template_name = "console/roles.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.require_tenant()
        self.require_action(tenant, "account.view")
        counts = selectors.role_holder_counts(tenant=tenant)
        holders = selectors.role_holders(tenant=tenant)
        chosen = self.request.GET.get("context", "")
        context.update(
            tenant=tenant,
            roles=[
                {"role": r, "count": counts.get(r.name, 0), "holders": holders.get(r.name, [])}
                for r in selectors.roles_of(tenant=tenant)
            ],
            context_names=selectors.role_context_names(tenant=tenant),
            chosen_context=chosen,
            context_rows=role_selectors.role_context_list_by_name(tenant=tenant, name=chosen) if chosen else [],
            may_manage=self.console.may("roles.manage"),
            create_form=kwargs.get("create_form") or RoleCreateForm(),
            now=timezone.now(),
        )
        return context


def _why(form) -> dict:
    return {"reason": form.cleaned_data.get("reason", ""), "ticket": form.cleaned_data.get("ticket", "")}


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
                    return render(request, view.template_name,
                                  view.get_context_data(create_form=form), status=400)
                role_services.roles_create(tenant=tenant, actor=actor, **_why(form), roles=[role_services.RoleInput(
                    name=form.cleaned_data["name"], permissions=tuple(form.cleaned_data["permissions"]))])
                messages.success(request, f"Role {form.cleaned_data['name']} created.")
            elif op in ("delete", "add_permissions", "remove_permissions"):
                form = RolePermissionsForm(request.POST)
                if not form.is_valid():
                    messages.error(request, "Name the role" + (" and the permissions." if op != "delete" else "."))
                    return redirect(back)
                name = form.cleaned_data["name"]
                if op == "delete":
                    if form.cleaned_data.get("confirm_name") != name:
                        messages.error(request, f"Type {name} to confirm: the role was not deleted.")
                        return redirect(back)
                    role_services.role_delete(tenant=tenant, actor=actor, name=name, **_why(form))
                    messages.success(request, f"Role {name} deleted.")
                else:
                    permissions = form.cleaned_data["permissions"]
                    if not permissions:
                        messages.error(request, "Give at least one permission.")
                        return redirect(back)
                    change = (role_services.role_permissions_add if op == "add_permissions"
                              else role_services.role_permissions_remove)
                    change(tenant=tenant, actor=actor, name=name, permissions=permissions, **_why(form))
                    messages.success(request, f"Permissions of {name} saved.")
            else:
                raise Http404("No such operation")
        except LRError as error:
            messages.error(request, f"Refused: {account_actions.error_text(error)}")
        return redirect(back)


# Custom-object types (Admin) -------------------------------------------------------------------


class ObjectTypesView(StaffRequiredMixin, TemplateView):
    template_name = "console/object_types.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.require_tenant()
        self.require_action(tenant, "tenant.administer")
        types = list(customobject_selectors.object_type_list(tenant=tenant))
        for t in types:
            t.schema_json = json.dumps(t.schema, ensure_ascii=False) if t.schema is not None else ""
        editing = kwargs.get("editing")
        context.update(
            tenant=tenant,
            types=types,
            create_form=kwargs.get("create_form") or ObjectTypeForm(),
            edit_forms=kwargs.get("edit_forms") or {t.pk: ObjectTypeForm(instance_type=t) for t in types},
            editing=editing,
        )
        return context


class ObjectTypeWriteView(StaffRequiredMixin, View):
    def post(self, request, op, pk=None):
        tenant = self.require_tenant()
        self.require_action(tenant, "tenant.administer")
        actor = self.console.actor
        back = reverse("console:object_types")
        object_type = None
        if pk is not None:
            object_type = next(
                (t for t in customobject_selectors.object_type_list(tenant=tenant) if t.pk == pk), None
            )
            if object_type is None:
                raise Http404("No such custom object type")
        if op not in ("create", "edit", "delete") or (op == "create") != (object_type is None):
            raise Http404("No such operation")
        if op == "delete":
            form = ObjectTypeDeleteForm(request.POST)
            if not form.is_valid() or form.cleaned_data["confirm_name"] != object_type.name:
                messages.error(request, f"Type {object_type.name} and a reason to confirm: nothing was deleted.")
                return redirect(back)
            try:
                removed = customobject_services.object_type_delete(
                    tenant=tenant, actor=actor, object_type=object_type,
                    force=form.cleaned_data["force"], reason=form.cleaned_data["reason"],
                )
            except LRError as error:
                messages.error(request, f"Refused: {account_actions.error_text(error)}")
                return redirect(back)
            messages.success(request, f"Type {object_type.name} deleted with {removed} record(s).")
            return redirect(back)
        form = ObjectTypeForm(request.POST, instance_type=object_type)
        error = None
        if form.is_valid():
            try:
                if op == "create" and object_type is None:
                    customobject_services.object_type_create(
                        tenant=tenant, actor=actor, reason=form.cleaned_data["reason"], **form.values())
                    messages.success(request, f"Type {form.cleaned_data['name']} created.")
                    return redirect(back)
                if op == "edit" and object_type is not None:
                    customobject_services.object_type_update(
                        tenant=tenant, actor=actor, object_type=object_type, changes=form.values(),
                        reason=form.cleaned_data["reason"])
                    messages.success(request, f"Type {form.cleaned_data['name']} saved.")
                    return redirect(back)
                raise Http404("No such operation")
            except LRError as exc:
                error = account_actions.error_text(exc)
        if error:
            form.add_error(None, error)
        view = ObjectTypesView()
        view.setup(request)
        view.console = self.console
        extra = {"create_form": form} if object_type is None else {"editing": object_type.pk}
        context = view.get_context_data(**extra)
        if object_type is not None:
            context["edit_forms"][object_type.pk] = form
        return render(request, view.template_name, context, status=400)


# Audit log ---------------------------------------------------------------------------------


class AuditLogView(StaffRequiredMixin, SingleTableMixin, FilterView):
    template_name = "console/audit_log.html"
    filterset_class = AuditEventFilter
    table_class = AuditEventTable
    table_pagination = {"per_page": 50}

    def get_queryset(self):
        tenant = self.require_tenant()
        self.require_action(tenant, "audit.view")
        return selectors.audit_events(tenant=tenant)

    def get_table_kwargs(self):
        return {"tenant_slug": self.console.tenant.slug if self.console.tenant else ""}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["export_query"] = self.request.GET.urlencode()
        return context


class _Echo:
    def write(self, value):
        return value


AUDIT_CSV_COLUMNS = ("occurred_at", "action", "actor_type", "actor_id", "actor_label", "subject_uid",
                     "reason", "ticket", "diff", "request_id", "ip")


def _csv_safe(value) -> str:
    """Spreadsheet programs run cells starting with = + - @ as formulas: quote them."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class AuditExportView(StaffRequiredMixin, View):
    """The filtered audit log as CSV, streamed row by row."""

    def get(self, request):
        tenant = self.require_tenant()
        self.require_action(tenant, "audit.view")
        filterset = AuditEventFilter(request.GET or None, queryset=selectors.audit_events(tenant=tenant))
        qs = filterset.qs if filterset.is_valid() else selectors.audit_events(tenant=tenant)
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(AUDIT_CSV_COLUMNS)
            for event in qs.order_by("-occurred_at", "-id").iterator(chunk_size=2000):
                yield writer.writerow([
                    event.occurred_at.isoformat(), event.action, event.actor_type, event.actor_id,
                    _csv_safe(event.actor_label), event.subject_uid, _csv_safe(event.reason),
                    _csv_safe(event.ticket), _csv_safe(json.dumps(event.diff) if event.diff else ""),
                    event.request_id, event.ip or "",
                ])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="audit-{tenant.slug}-{stamp}.csv"'
        return response


# Tenants and credentials (Admin) -------------------------------------------------------------


class AdminMixin(StaffRequiredMixin):
    def admin_tenant(self, slug: str) -> Tenant:
        self.require_role(staff.ADMIN, "manage tenants and credentials")
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None or not staff.staff_can(user=self.request.user, tenant=tenant, permission="view_accounts"):
            raise Http404("No such tenant")
        self.require_action(tenant, "tenant.administer")
        return tenant


class TenantListView(AdminMixin, TemplateView):
    template_name = "console/tenant_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        self.require_role(staff.ADMIN, "manage tenants and credentials")
        context["tenants"] = self.console.admin_tenants
        context["create_form"] = TenantCreateForm()
        return context

    def post(self, request):
        self.require_role(staff.ADMIN, "create tenants")
        form = TenantCreateForm(request.POST)
        if not form.is_valid():
            return render(request, "console/tenant_list.html", {
                "console": self.console, "tenants": self.console.admin_tenants, "create_form": form,
            }, status=400)
        try:
            tenant, issued = portal_services.tenant_create(
                actor=self.console.actor, name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"] or None,
            )
        except ValidationError as error:
            form.add_error(None, error)
            return render(request, "console/tenant_list.html", {
                "console": self.console, "tenants": self.console.admin_tenants, "create_form": form,
            }, status=400)
        staff.staff_access_grant(
            tenant=tenant, actor=self.console.actor, user=request.user,
            permissions=list(staff.TENANT_PERMISSIONS),
        )
        messages.success(request, f"Tenant {tenant.name} created.")
        return _secret_once(request, self.console, tenant, issued)


def _secret_once(request, console, tenant, issued, replaced=None):
    """The one page that ever shows a new secret; never cached, never shown again."""
    if replaced is not None:
        replaced.refresh_from_db(fields=["expires_at", "revoked_at"])
    response = render(request, "console/credential_secret.html", {
        "console": console, "tenant": tenant, "credential": issued.credential, "raw_secret": issued.raw_secret,
        "replaced": replaced,
    })
    response["Cache-Control"] = "no-store"
    return response


class TenantDetailView(AdminMixin, TemplateView):
    template_name = "console/tenant_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.admin_tenant(kwargs["slug"])
        context.update(
            tenant=tenant,
            credentials=list(ApiCredential.objects.filter(tenant=tenant)),
            settings_form=kwargs.get("settings_form") or TenantSettingsForm(tenant=tenant),
            create_form=CredentialCreateForm(),
            grant_form=kwargs.get("grant_form") or StaffGrantForm(),
            staff_rows=staff.tenant_staff_list(tenant=tenant),
            permission_labels=staff.TENANT_PERMISSIONS,
        )
        return context


class TenantSettingsView(AdminMixin, View):
    def post(self, request, slug):
        tenant = self.admin_tenant(slug)
        form = TenantSettingsForm(request.POST, tenant=tenant)
        if form.is_valid():
            changes = form.changes()
            if changes:
                try:
                    portal_services.tenant_update_settings(
                        tenant=tenant, actor=self.console.actor, changes=changes,
                        reason=form.cleaned_data.get("reason", ""),
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(request, f"Saved {len(changes)} setting(s).")
                    return redirect("console:tenant_detail", tenant.slug)
            else:
                messages.info(request, "Nothing changed.")
                return redirect("console:tenant_detail", tenant.slug)
        view = TenantDetailView()
        view.setup(request, slug=slug)
        view.console = self.console
        return render(request, view.template_name, view.get_context_data(slug=slug, settings_form=form), status=400)


class CredentialCreateView(AdminMixin, View):
    def post(self, request, slug):
        tenant = self.admin_tenant(slug)
        form = CredentialCreateForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Check the label and sections.")
            return redirect("console:tenant_detail", tenant.slug)
        issued = portal_services.credential_create(
            tenant=tenant, actor=self.console.actor, label=form.cleaned_data["label"],
            scopes=form.cleaned_data["scopes"],
        )
        messages.success(request, "New API secret created.")
        return _secret_once(request, self.console, tenant, issued)


class CredentialRotateView(AdminMixin, View):
    """Rotate one secret: choose the overlap and give a reason, review, confirm; the new secret
    (same label and sections) is then shown once. Anything short of that changes nothing."""

    template_name = "console/credential_rotate.html"

    def _form(self, tenant, data=None, initial=None):
        live = list(ApiCredential.objects.usable().filter(tenant=tenant).order_by("-created"))
        return CredentialRotateForm(data, initial=initial, credentials=live)

    def _render(self, request, tenant, form, *, confirming=False, status=200):
        context = {"console": self.console, "tenant": tenant, "form": form, "confirming": confirming}
        if confirming:
            credential = form.chosen()
            hours = form.cleaned_data["overlap_hours"]
            deadline = timezone.now() + timedelta(hours=hours)
            if credential.expires_at and credential.expires_at < deadline:
                deadline = credential.expires_at
            context.update(credential=credential, hours=hours, deadline=deadline,
                           reviewed=_rotation_state(tenant, credential))
        return render(request, self.template_name, context, status=status)

    def get(self, request, slug):
        tenant = self.admin_tenant(slug)
        return self._render(request, tenant, self._form(tenant, initial={"credential": request.GET.get("credential")}))

    def post(self, request, slug):
        tenant = self.admin_tenant(slug)
        form = self._form(tenant, data=request.POST)
        if not form.is_valid():
            return self._render(request, tenant, form, status=400)
        if not form.cleaned_data["confirmed"]:
            return self._render(request, tenant, form, confirming=True)
        credential = form.chosen()
        reviewed = request.POST.get("reviewed", "")
        if reviewed and reviewed != _rotation_state(tenant, credential):
            form.add_error(None, "The secrets of this tenant changed since you reviewed this rotation (was it "
                                 "already done?). Nothing was changed: check the list and review it again.")
            return self._render(request, tenant, form, status=409)
        hours = form.cleaned_data["overlap_hours"]
        try:
            issued = portal_services.credential_rotate(
                credential=credential, actor=self.console.actor, overlap=timedelta(hours=hours),
                reason=form.cleaned_data["reason"], ticket=form.cleaned_data["ticket"],
            )
        except portal_services.CredentialRotationRefused as refused:
            form.add_error(None, str(refused))
            return self._render(request, tenant, form, status=400)
        if hours == 0:
            messages.success(request, f"Secret …{credential.secret_hint} rotated and revoked.")
        else:
            messages.success(request, f"Secret …{credential.secret_hint} rotated; it stops working in {hours} hour(s).")
        return _secret_once(request, self.console, tenant, issued, replaced=credential)


def _rotation_state(tenant, credential) -> str:
    """What a rotation was reviewed against: a replayed or raced confirmation no longer matches."""
    latest = ApiCredential.objects.filter(tenant=tenant).order_by("-pk").values_list("pk", flat=True).first()
    stamp = credential.expires_at.isoformat() if credential.expires_at else "never"
    return f"{latest}:{credential.pk}:{stamp}"


class CredentialRevokeView(AdminMixin, View):
    def post(self, request, slug, pk):
        tenant = self.admin_tenant(slug)
        credential = get_object_or_404(ApiCredential, tenant=tenant, pk=pk)
        form = CredentialRevokeForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Give a reason to revoke a secret.")
            return redirect("console:tenant_detail", tenant.slug)
        portal_services.credential_revoke(credential=credential, actor=self.console.actor, reason=form.cleaned_data["reason"])
        messages.success(request, f"Secret …{credential.secret_hint} revoked.")
        return redirect("console:tenant_detail", tenant.slug)


class StaffAccessGrantView(AdminMixin, View):
    def post(self, request, slug):
        tenant = self.admin_tenant(slug)
        form = StaffGrantForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose a staff member and at least one permission.")
            return redirect("console:tenant_detail", tenant.slug)
        user = form.cleaned_data["user"]
        added = staff.staff_access_grant(
            tenant=tenant, actor=self.console.actor, user=user, permissions=form.cleaned_data["permissions"],
        )
        if added:
            messages.success(request, f"Granted {', '.join(added)} to {user.get_username()}.")
        else:
            messages.info(request, f"{user.get_username()} already held these permissions.")
        return redirect("console:tenant_detail", tenant.slug)


class StaffAccessRevokeView(AdminMixin, View):
    """Remove a staff member's access: a reason, then a confirmation; then the audited service."""

    template_name = "console/staff_revoke.html"

    def _render(self, request, tenant, form, user, *, confirming=False, status=200):
        return render(request, self.template_name, {
            "console": self.console, "tenant": tenant, "form": form, "member": user, "confirming": confirming,
            "held": [label for p, label in staff.TENANT_PERMISSIONS.items()
                     if staff.staff_can(user=user, tenant=tenant, permission=p)],
        }, status=status)

    def post(self, request, slug):
        tenant = self.admin_tenant(slug)
        form = StaffRevokeForm(request.POST)
        username = (request.POST.get("user") or "").strip()
        user = get_user_model().objects.filter(username=username).first() if username else None
        if user is None:
            messages.error(request, "No such staff member.")
            return redirect("console:tenant_detail", tenant.slug)
        if user == request.user:
            raise ConsoleDenied(
                "You cannot revoke your own access.", "Ask another Admin of this tenant to do it."
            )
        if not form.is_valid():
            return self._render(request, tenant, form, user, status=400)
        if not form.cleaned_data["confirmed"]:
            return self._render(request, tenant, form, user, confirming=True)
        removed = staff.staff_access_revoke(
            tenant=tenant, actor=self.console.actor, user=user, reason=form.cleaned_data["reason"],
        )
        if removed:
            messages.success(request, f"Access of {user.get_username()} to {tenant.name} revoked.")
        else:
            messages.info(request, f"{user.get_username()} held no access to {tenant.name}.")
        return redirect("console:tenant_detail", tenant.slug)

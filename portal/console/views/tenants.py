"""Tenants and their API credentials (Admin): create, configure, issue, rotate, revoke."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from portal import services as portal_services
from portal import staff
from portal.console.access import StaffRequiredMixin
from portal.console.forms import (
    CredentialCreateForm,
    CredentialRevokeForm,
    CredentialRotateForm,
    StaffGrantForm,
    TenantCreateForm,
    TenantSettingsForm,
)
from portal.errors import InvalidInput
from portal.models import ApiCredential, Tenant
from portal.tenant_commands import (
    CredentialCreate,
    CredentialRevoke,
    CredentialRotate,
    TenantCreate,
    TenantSettingsChange,
)


class AdminMixin(StaffRequiredMixin):
    def admin_tenant(self, slug: str) -> Tenant:
        self.require_role(staff.ADMIN, "manage tenants and credentials")
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None or not staff.staff_can(
            user=self.request.user, tenant=tenant, permission="view_accounts"
        ):
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
            return render(
                request,
                "console/tenant_list.html",
                {
                    "console": self.console,
                    "tenants": self.console.admin_tenants,
                    "create_form": form,
                },
                status=400,
            )
        try:
            command = TenantCreate(
                name=form.cleaned_data["name"], slug=form.cleaned_data["slug"] or None
            )
            tenant, issued = portal_services.tenant_create(command, actor=self.console.actor)
        except ValidationError as error:
            form.add_error(None, error)
            return render(
                request,
                "console/tenant_list.html",
                {
                    "console": self.console,
                    "tenants": self.console.admin_tenants,
                    "create_form": form,
                },
                status=400,
            )
        staff.staff_access_grant(
            tenant=tenant,
            actor=self.console.actor,
            user=request.user,
            permissions=list(staff.TENANT_PERMISSIONS),
        )
        messages.success(request, f"Tenant {tenant.name} created.")
        return _secret_once(request, self.console, tenant, issued)


def _secret_once(request, console, tenant, issued, replaced=None):
    """The one page that ever shows a new secret; never cached, never shown again."""
    if replaced is not None:
        replaced.refresh_from_db(fields=["expires_at", "revoked_at"])
    response = render(
        request,
        "console/credential_secret.html",
        {
            "console": console,
            "tenant": tenant,
            "credential": issued.credential,
            "raw_secret": issued.raw_secret,
            "replaced": replaced,
        },
    )
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
    """Save the settings form through the service; a refusal shows the form again with an
    error summary at the top and every typed value kept."""

    def post(self, request, slug):
        tenant = self.admin_tenant(slug)
        form = TenantSettingsForm(request.POST, tenant=tenant)
        if form.is_valid():
            changes = form.changes()
            if not changes:
                messages.info(request, "Nothing changed.")
                return redirect("console:tenant_detail", tenant.slug)
            command = TenantSettingsChange(
                changes=changes, reason=form.cleaned_data.get("reason", "")
            )
            try:
                portal_services.tenant_update_settings(
                    command, tenant=tenant, actor=self.console.actor
                )
            except InvalidInput as refused:
                form.add_refusal(refused.field_errors)
            else:
                messages.success(request, f"Saved {len(changes)} setting(s).")
                return redirect("console:tenant_detail", tenant.slug)
        view = TenantDetailView()
        view.setup(request, slug=slug)
        view.console = self.console
        return render(
            request,
            view.template_name,
            view.get_context_data(slug=slug, settings_form=form),
            status=400,
        )


class CredentialCreateView(AdminMixin, View):
    def post(self, request, slug):
        tenant = self.admin_tenant(slug)
        form = CredentialCreateForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Check the label and sections.")
            return redirect("console:tenant_detail", tenant.slug)
        command = CredentialCreate(
            label=form.cleaned_data["label"],
            scopes=tuple(form.cleaned_data["scopes"] or ()),
            requires_approval=form.cleaned_data["requires_approval"],
            masks_personal_data=form.cleaned_data["masks_personal_data"],
        )
        issued = portal_services.credential_create(command, tenant=tenant, actor=self.console.actor)
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
        context = {
            "console": self.console,
            "tenant": tenant,
            "form": form,
            "confirming": confirming,
        }
        if confirming:
            credential = form.chosen()
            hours = form.cleaned_data["overlap_hours"]
            deadline = timezone.now() + timedelta(hours=hours)
            if credential.expires_at and credential.expires_at < deadline:
                deadline = credential.expires_at
            context.update(
                credential=credential,
                hours=hours,
                deadline=deadline,
                reviewed=_rotation_state(tenant, credential),
            )
        return render(request, self.template_name, context, status=status)

    def get(self, request, slug):
        tenant = self.admin_tenant(slug)
        return self._render(
            request,
            tenant,
            self._form(tenant, initial={"credential": request.GET.get("credential")}),
        )

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
            form.add_error(
                None,
                "The secrets of this tenant changed since you reviewed this rotation (was it "
                "already done?). Nothing was changed: check the list and review it again.",
            )
            return self._render(request, tenant, form, status=409)
        hours = form.cleaned_data["overlap_hours"]
        try:
            command = CredentialRotate(
                credential_id=credential.pk,
                reason=form.cleaned_data["reason"],
                ticket=form.cleaned_data["ticket"],
                overlap_seconds=round(hours * 3600),
            )
            issued = portal_services.credential_rotate(
                command, tenant=tenant, actor=self.console.actor
            )
        except portal_services.CredentialRotationRefused as refused:
            form.add_error(None, str(refused))
            return self._render(request, tenant, form, status=400)
        if hours == 0:
            messages.success(request, f"Secret …{credential.secret_hint} rotated and revoked.")
        else:
            messages.success(
                request,
                f"Secret …{credential.secret_hint} rotated; it stops working in {hours} hour(s).",
            )
        return _secret_once(request, self.console, tenant, issued, replaced=credential)


def _rotation_state(tenant, credential) -> str:
    """What a rotation was reviewed against: a replayed or raced confirmation no longer matches."""
    latest = (
        ApiCredential.objects.filter(tenant=tenant)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
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
        command = CredentialRevoke(credential_id=credential.pk, reason=form.cleaned_data["reason"])
        portal_services.credential_revoke(command, tenant=tenant, actor=self.console.actor)
        messages.success(request, f"Secret …{credential.secret_hint} revoked.")
        return redirect("console:tenant_detail", tenant.slug)

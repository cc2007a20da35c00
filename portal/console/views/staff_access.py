"""Which staff may act on a tenant (Admin): grant and revoke access."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import redirect, render
from django.views import View

from portal import staff
from portal.console.access import ConsoleDenied
from portal.console.forms import StaffGrantForm, StaffRevokeForm
from portal.console.views.tenants import AdminMixin


class StaffAccessGrantView(AdminMixin, View):
    def post(self, request, slug):
        tenant = self.admin_tenant(slug)
        form = StaffGrantForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose a staff member and at least one permission.")
            return redirect("console:tenant_detail", tenant.slug)
        user = form.cleaned_data["user"]
        added = staff.staff_access_grant(
            tenant=tenant,
            actor=self.console.actor,
            user=user,
            permissions=form.cleaned_data["permissions"],
        )
        if added:
            labels = ", ".join(staff.TENANT_PERMISSIONS.get(p, p) for p in added)
            messages.success(request, f"Granted {labels} to {user.get_username()}.")
        else:
            messages.info(request, f"{user.get_username()} already held these permissions.")
        return redirect("console:tenant_detail", tenant.slug)


class StaffAccessRevokeView(AdminMixin, View):
    """Remove a staff member's access: a reason, then a confirmation; then the audited service."""

    template_name = "console/staff_revoke.html"

    def _render(self, request, tenant, form, user, *, confirming=False, status=200):
        return render(
            request,
            self.template_name,
            {
                "console": self.console,
                "tenant": tenant,
                "form": form,
                "member": user,
                "confirming": confirming,
                "held": [
                    label
                    for p, label in staff.TENANT_PERMISSIONS.items()
                    if staff.staff_can(user=user, tenant=tenant, permission=p)
                ],
            },
            status=status,
        )

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
            tenant=tenant,
            actor=self.console.actor,
            user=user,
            reason=form.cleaned_data["reason"],
        )
        if removed:
            messages.success(request, f"Access of {user.get_username()} to {tenant.name} revoked.")
        else:
            messages.info(request, f"{user.get_username()} held no access to {tenant.name}.")
        return redirect("console:tenant_detail", tenant.slug)

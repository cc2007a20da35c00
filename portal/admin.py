import contextlib

from django.contrib import admin
from django.contrib.admin.sites import AdminSite, NotRegistered
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.admin import GuardedModelAdmin

from portal.models import ApiCredential, AuditEvent, StaffTotpDevice, Tenant
from portal.staff_session import apply_security_headers, console_sign_in_current, safe_admin_next


class StaffAdminSite(AdminSite):
    """The admin, for superusers, entered only through the console sign-in.

    It has no sign-in form of its own: its login address sends everyone to the console's
    (password, then TOTP, with the console's failure limit) and reads no password, so no
    admin address tells a right password from a wrong one. A request gets in only with
    a current console sign-in (same idle timeout and maximum age) of an active superuser.
    """

    def has_permission(self, request):
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and user.is_superuser
            and console_sign_in_current(request)
        )

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        admin_root = reverse("admin:index", current_app=self.name)
        target = safe_admin_next(request, admin_root)
        if console_sign_in_current(request):
            if self.has_permission(request):
                return redirect(target)
            request.current_app = self.name
            context = {**self.each_context(request), "title": "The admin is for superusers"}
            response = TemplateResponse(request, "admin/staff_refused.html", context, status=403)
            return apply_security_headers(response)
        if request.user.is_authenticated:  # signed in elsewhere, idle, or past its maximum age
            logout(request)
        login_url = reverse("console:login")
        return apply_security_headers(redirect(f"{login_url}?{urlencode({'next': target})}"))

    def password_change(self, request, extra_context=None):
        """The stock form checks the old password and says whether it was right; the
        user's own set-password page needs none (they proved it, and a TOTP code, to get in)."""
        try:
            target = reverse(
                "admin:auth_user_password_change", args=[request.user.pk], current_app=self.name
            )
        except NoReverseMatch:
            target = reverse("admin:index", current_app=self.name)
        return redirect(target)


admin.site.__class__ = StaffAdminSite

# django-otp's own TOTP device table is emptied by migration portal 0005 (its seeds were in
# plaintext); staff devices are StaffTotpDevice.
with contextlib.suppress(NotRegistered):
    admin.site.unregister(TOTPDevice)


@admin.register(StaffTotpDevice)
class StaffTotpDeviceAdmin(admin.ModelAdmin):
    """See and remove staff authenticators (removing one lets its owner enrol anew at their
    next sign-in); the seed is never shown."""

    list_display = (
        "user",
        "name",
        "confirmed",
        "created_at",
        "last_used_at",
        "throttling_failure_count",
    )
    list_filter = ("confirmed",)
    search_fields = ("user__username", "name")
    fields = (
        "user",
        "name",
        "confirmed",
        "created_at",
        "last_used_at",
        "throttling_failure_count",
        "throttling_failure_timestamp",
    )
    readonly_fields = (
        "user",
        "confirmed",
        "created_at",
        "last_used_at",
        "throttling_failure_count",
        "throttling_failure_timestamp",
    )

    def has_add_permission(self, request):
        return False  # made by the console enrolment, which shows the seed once


@admin.register(Tenant)
class TenantAdmin(GuardedModelAdmin):
    list_display = ("name", "slug", "api_key", "is_active", "created")
    search_fields = ("name", "slug", "api_key")
    readonly_fields = ("api_key", "created")


@admin.register(ApiCredential)
class ApiCredentialAdmin(admin.ModelAdmin):
    list_display = (
        "tenant",
        "label",
        "secret_hint",
        "scopes",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_filter = ("tenant",)
    readonly_fields = ("secret_hint", "last_used_at", "created")
    exclude = ("secret_encrypted", "secret_hash")

    def has_add_permission(self, request):
        return False  # secrets are issued by credential_rotate / the console, shown once


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "tenant", "action", "actor_type", "actor_label", "subject_uid")
    list_filter = ("action", "actor_type", "tenant")
    search_fields = ("subject_uid", "request_id", "actor_label")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

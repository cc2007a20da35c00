from django.contrib import admin
from django_otp.admin import OTPAdminSite
from guardian.admin import GuardedModelAdmin

from portal.models import ApiCredential, AuditEvent, Tenant

# Superusers reach the admin only with a verified TOTP device.
admin.site.__class__ = OTPAdminSite


@admin.register(Tenant)
class TenantAdmin(GuardedModelAdmin):
    list_display = ("name", "slug", "api_key", "is_active", "created")
    search_fields = ("name", "slug", "api_key")
    readonly_fields = ("api_key", "created")


@admin.register(ApiCredential)
class ApiCredentialAdmin(admin.ModelAdmin):
    list_display = ("tenant", "label", "secret_hint", "scopes", "expires_at", "revoked_at", "last_used_at")
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

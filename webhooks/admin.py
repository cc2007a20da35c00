"""Read-only views of the webhooks for superusers: every change goes through the API's
audited services, and no secret is shown."""

from django.contrib import admin

from webhooks.models import WebhookDelivery, WebhookEndpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ("url", "tenant", "format", "enabled", "consecutive_failures", "created_at")
    list_filter = ("enabled", "format", "tenant")
    exclude = ("secret_encrypted",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "endpoint", "state", "attempt", "status_code", "latency_ms")
    list_filter = ("state",)

"""Django admin registrations of the tokens app (read-only views for superusers)."""

from django.contrib import admin

from tokens.models import AccessToken, RefreshToken, TokenFamily


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tokens change only through the services, which audit and keep the cache in step."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TokenFamily)
class TokenFamilyAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "tenant",
        "account",
        "login_date",
        "expires_at",
        "revoked_at",
        "revoked_reason",
        "is_impersonation",
        "actor_label",
        "browser",
        "os",
        "ip",
    )
    list_filter = ("tenant", "is_impersonation", "revoked_reason")
    search_fields = ("account__uid", "actor_label", "ip")
    raw_id_fields = ("account",)


@admin.register(RefreshToken)
class RefreshTokenAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "tenant",
        "account",
        "family",
        "created",
        "expires_at",
        "rotated_at",
        "revoked_at",
    )
    list_filter = ("tenant",)
    search_fields = ("account__uid",)
    exclude = ("token_hash", "successor_encrypted")
    raw_id_fields = ("account", "family", "replaced_by")


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "tenant",
        "account",
        "family",
        "hint",
        "created",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("tenant",)
    search_fields = ("account__uid", "hint")
    exclude = ("token_hash",)
    raw_id_fields = ("account", "family")


# Multipurpose tokens and the outbox (read-only: hashes and encrypted contexts stay hidden).
from tokens.models import OutboxMessage, MultipurposeToken  # noqa: E402, I001


@admin.register(MultipurposeToken)
class MultipurposeTokenAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "tenant",
        "account",
        "kind",
        "purpose",
        "destination",
        "created",
        "expires_at",
        "used_at",
        "retired_at",
    )
    list_filter = ("tenant", "kind", "purpose")
    search_fields = ("account__uid", "destination")
    exclude = ("token_hash",)
    raw_id_fields = ("account",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "tenant",
        "account",
        "channel",
        "template",
        "recipient",
        "status",
        "attempts",
        "last_error",
        "created",
        "sent_at",
    )
    list_filter = ("tenant", "channel", "status", "template")
    search_fields = ("account__uid", "recipient", "provider_message_id", "idempotency_key")
    exclude = ("context_encrypted",)
    raw_id_fields = ("account", "token")

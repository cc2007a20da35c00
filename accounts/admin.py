from django.contrib import admin

from accounts.models import (
    Account,
    AccountEmail,
    AccountIdentity,
    AccountIdentityEmail,
    ConsentLog,
    PrivacyPolicyAcceptance,
)


class AccountEmailInline(admin.TabularInline):
    model = AccountEmail
    extra = 0
    fields = ("type", "value", "verified", "created")
    readonly_fields = ("created",)


class AccountIdentityInline(admin.TabularInline):
    model = AccountIdentity
    extra = 0
    fields = ("provider", "provider_id", "created")
    readonly_fields = ("created",)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Superuser view of accounts. Changes that matter (block, unlock, delete, passwords)
    belong in the console, which goes through the audited services."""

    list_display = (
        "uid",
        "tenant",
        "username",
        "phone_id",
        "first_name",
        "last_name",
        "is_active",
        "created",
    )
    list_filter = ("tenant", "is_active", "email_verified")
    search_fields = ("uid", "username", "phone_id", "emails__value", "last_name")
    readonly_fields = (
        "password",
        "secret_hashes",
        "search_text",
        "signup_date",
        "created",
        "modified",
        "no_of_logins",
    )
    list_select_related = ("tenant",)
    inlines = [AccountEmailInline, AccountIdentityInline]
    show_full_result_count = False


@admin.register(AccountEmail)
class AccountEmailAdmin(admin.ModelAdmin):
    list_display = ("value", "type", "verified", "account", "tenant")
    search_fields = ("value", "account__uid")
    list_select_related = ("account", "tenant")
    raw_id_fields = ("account",)


@admin.register(AccountIdentity)
class AccountIdentityAdmin(admin.ModelAdmin):
    list_display = ("provider", "provider_id", "account", "tenant", "created")
    list_filter = ("provider",)
    search_fields = ("provider_id", "account__uid")
    raw_id_fields = ("account",)


@admin.register(AccountIdentityEmail)
class AccountIdentityEmailAdmin(admin.ModelAdmin):
    list_display = ("value", "type", "identity", "tenant")
    search_fields = ("value",)
    raw_id_fields = ("identity",)


@admin.register(PrivacyPolicyAcceptance)
class PrivacyPolicyAcceptanceAdmin(admin.ModelAdmin):
    list_display = ("account", "version", "accept_source", "accepted_at")
    raw_id_fields = ("account",)


@admin.register(ConsentLog)
class ConsentLogAdmin(admin.ModelAdmin):
    list_display = ("log_id", "account", "update_type", "logged_at")
    raw_id_fields = ("account",)

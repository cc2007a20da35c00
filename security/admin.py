from django.contrib import admin

from security.models import (
    AccountLockout,
    BackupCode,
    DuoConfig,
    LoginFailureCounter,
    OtpFactor,
    PasskeyCredential,
    PushDevice,
    SecurityAnswer,
    TotpFactor,
    VerifierThrottle,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Factors change through the services (audited); the admin only shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TotpFactor)
class TotpFactorAdmin(ReadOnlyAdmin):
    list_display = ("account", "tenant", "confirmed", "created")
    exclude = ("secret_encrypted",)


@admin.register(OtpFactor)
class OtpFactorAdmin(ReadOnlyAdmin):
    list_display = ("account", "channel", "confirmed", "created")


@admin.register(BackupCode)
class BackupCodeAdmin(ReadOnlyAdmin):
    list_display = ("account", "used_at", "created")
    exclude = ("code_hash",)


@admin.register(SecurityAnswer)
class SecurityAnswerAdmin(ReadOnlyAdmin):
    list_display = ("account", "question_id", "created")
    exclude = ("answer_hash",)


@admin.register(PasskeyCredential)
class PasskeyCredentialAdmin(ReadOnlyAdmin):
    list_display = ("account", "authenticator", "identifier", "sign_count", "created")


@admin.register(PushDevice)
class PushDeviceAdmin(ReadOnlyAdmin):
    list_display = ("account", "name", "created")
    exclude = ("device_token_encrypted", "device_secret_hash")


@admin.register(LoginFailureCounter)
class LoginFailureCounterAdmin(ReadOnlyAdmin):
    list_display = ("account", "failure_count", "last_failure_at")


@admin.register(VerifierThrottle)
class VerifierThrottleAdmin(ReadOnlyAdmin):
    list_display = ("account", "verifier", "failure_count", "last_failure_at")


@admin.register(DuoConfig)
class DuoConfigAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "client_id", "api_host", "enabled", "modified")
    exclude = ("client_secret_encrypted",)


@admin.register(AccountLockout)
class AccountLockoutAdmin(ReadOnlyAdmin):
    """Sign-in locks; staff lift them with the console's Unlock (audited)."""

    list_display = ("account", "tenant", "locked_type", "locked_until", "created")
    list_filter = ("tenant", "locked_type")
    list_select_related = ("account", "tenant")

"""Management side of account security: backup codes and factor resets by UID."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from accounts.selectors import account_get
from portal.lrapi.errors import required
from portal.lrapi.params import parse_bool
from portal.lrapi.views import LRAPIView
from security import services
from security.api.views.common import (
    TAG_ACCOUNT_SECURITY,
    UID_PATH,
    UID_QUERY,
    IsDeleted,
    M,
    Operation,
    RoutedOperationSchema,
)
from security.commands import BackupCodesGenerate, FactorReset

BackupCodes = inline_serializer(
    "BackupCodes", {"BackUpCodes": serializers.ListField(child=serializers.CharField())}
)


class BackupCodeGenerateView(LRAPIView):
    """Generate the ten backup codes of an account (1127 when it already has some)."""

    section = "security"
    reset = False
    schema = RoutedOperationSchema()
    operations = {
        ("GET", f"{M}/2fa/backupcode"): Operation(
            "mfaGenerateBackupCodesByUid",
            "Generate the backup codes of an account",
            TAG_ACCOUNT_SECURITY,
        ),
        ("GET", f"{M}/2fa/backupcode/reset"): Operation(
            "mfaResetBackupCodesByUid",
            "Replace the backup codes of an account",
            TAG_ACCOUNT_SECURITY,
        ),
    }

    @extend_schema(
        parameters=[UID_QUERY], responses=BackupCodes, description="Backup codes by UID."
    )
    def get(self, request):
        account = account_get(tenant=self.tenant, uid=self.query.get("uid"))
        codes = services.backup_codes_generate(
            BackupCodesGenerate(reset=self.reset),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return self.respond({"BackUpCodes": codes})


class BackupCodeResetView(BackupCodeGenerateView):
    """Replace the backup codes of an account with a new set."""

    reset = True


class FactorResetView(LRAPIView):
    """Remove one second factor (v12 per-factor paths and the legacy spellings)."""

    section = "security"
    factor = ""
    schema = RoutedOperationSchema()
    operations = {
        ("DELETE", f"{M}/2fa/sms"): Operation(
            "mFAResetSMSAuthByUid", "Reset the SMS factor of an account", TAG_ACCOUNT_SECURITY
        ),
        ("DELETE", f"{M}/2fa/totp"): Operation(
            "mFAResetTotpByUid", "Reset the authenticator app of an account", TAG_ACCOUNT_SECURITY
        ),
        ("DELETE", f"{M}/2fa/email"): Operation(
            "resetEmailAuthenticatorByUid",
            "Reset the email factor of an account",
            TAG_ACCOUNT_SECURITY,
        ),
        ("DELETE", f"{M}/2fa/duo"): Operation(
            "resetDuoAuthByUid", "Reset the Duo factor of an account", TAG_ACCOUNT_SECURITY
        ),
        ("DELETE", f"{M}/2fa/passkey"): Operation(
            "resetMfaPasskeyByUid", "Remove the passkeys of an account", TAG_ACCOUNT_SECURITY
        ),
        ("DELETE", f"{M}/2fa/push"): Operation(
            "resetMfaPushByUid", "Remove the push devices of an account", TAG_ACCOUNT_SECURITY
        ),
        ("DELETE", f"{M}/2fa/authenticator/otp/email"): Operation(
            "mfaResetEmailOtpAuthenticatorByUid",
            "Reset the email factor of an account (v11 path)",
            TAG_ACCOUNT_SECURITY,
        ),
        ("DELETE", f"{M}/2fa/authenticator/securityquestionanswer"): Operation(
            "mfaResetSecurityQuestionAuthenticatorByUid",
            "Remove the security answers of an account",
            TAG_ACCOUNT_SECURITY,
        ),
        ("DELETE", f"{M}/2fa/authenticator/duo"): Operation(
            "resetDuoAuthByUidLegacy",
            "Reset the Duo factor of an account (legacy path)",
            TAG_ACCOUNT_SECURITY,
        ),
        ("DELETE", f"{M}/2fa/authenticator/passkey"): Operation(
            "resetMfaPasskeyByUidLegacy",
            "Remove the passkeys of an account (legacy path)",
            TAG_ACCOUNT_SECURITY,
        ),
        ("DELETE", f"{M}/2fa/authenticator/push"): Operation(
            "resetMfaPushByUidLegacy",
            "Remove the push devices of an account (legacy path)",
            TAG_ACCOUNT_SECURITY,
        ),
    }

    @extend_schema(parameters=[UID_QUERY], request=None, responses=IsDeleted)
    def delete(self, request, uid: str | None = None):
        account = account_get(tenant=self.tenant, uid=uid or self.query.get("uid"))
        services.mfa_factor_reset(
            FactorReset(factor=self.factor), tenant=self.tenant, actor=self.actor, account=account
        )
        return self.respond({"IsDeleted": True})


class FactorResetByPathView(FactorResetView):
    """The legacy form with the UID in the path (DELETE .../2FA/authenticator/push/{uid})."""

    @extend_schema(
        tags=TAG_ACCOUNT_SECURITY,
        operation_id="resetMfaPushByUidLegacyPath",
        summary="Remove the push devices of an account (legacy path with the UID)",
        parameters=[UID_PATH],
        request=None,
        responses=IsDeleted,
    )
    def delete(self, request, uid: str | None = None):
        return super().delete(request, uid=uid)


class AuthenticatorResetView(LRAPIView):
    """The v11 form: DELETE .../2fa/authenticator with a body flag naming the factor."""

    section = "security"

    @extend_schema(
        tags=TAG_ACCOUNT_SECURITY,
        operation_id="mfaResetAuthenticatorByUid",
        summary="Reset the SMS factor or the authenticator app of an account (v11 form)",
        parameters=[UID_QUERY],
        request=inline_serializer(
            "AuthenticatorReset",
            {
                "otpauthenticator": serializers.BooleanField(required=False),
                "authenticator": serializers.BooleanField(required=False),
                "googleauthenticator": serializers.BooleanField(required=False),
            },
        ),
        responses=IsDeleted,
    )
    def delete(self, request):
        body = self.body()
        factors = []
        if parse_bool(body.get("otpauthenticator", False), name="otpauthenticator"):
            factors.append("sms")
        if parse_bool(body.get("authenticator", False), name="authenticator") or parse_bool(
            body.get("googleauthenticator", False), name="googleauthenticator"
        ):
            factors.append("totp")
        account = account_get(tenant=self.tenant, uid=self.query.get("uid"))
        if not factors:
            raise required("authenticator")
        for factor in factors:
            services.mfa_factor_reset(
                FactorReset(factor=factor), tenant=self.tenant, actor=self.actor, account=account
            )
        return self.respond({"IsDeleted": True})

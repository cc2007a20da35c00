"""Reauthentication: the account's own endpoints that issue a SecondFactorValidationToken,
and the management endpoint that checks one."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.selectors import account_get
from portal import ratelimit
from portal.lrapi.errors import LRError, required
from portal.lrapi.views import LRAPIView
from security import services
from security.api.views.common import (
    TAG_ACCOUNT_SECURITY,
    TAG_REAUTH,
    UID_PATH,
    A,
    IsPosted,
    IsValid,
    M,
    Operation,
    RoutedOperationSchema,
    ValidationToken,
    iso,
    second_factor_check,
)


class ReauthValidateView(LRAPIView):
    """Check a SecondFactorValidationToken the account obtained by reauthenticating."""

    section = "security"
    group = ""
    schema = RoutedOperationSchema()
    operations = {
        ("POST", f"{M}/{{uid}}/reauth/password"): Operation(
            "validateSecondFactorTokenForPassword",
            "Check a validation token the account got by reauthenticating with its password",
            TAG_ACCOUNT_SECURITY,
        ),
        ("POST", f"{M}/{{uid}}/reauth/pin"): Operation(
            "validateSecondFactorTokenForPin",
            "Check a validation token the account got by reauthenticating with its PIN",
            TAG_ACCOUNT_SECURITY,
        ),
        ("POST", f"{M}/{{uid}}/reauth/2fa"): Operation(
            "verifyMultiFactorOtpReauthentication",
            "Check a validation token the account got by reauthenticating with a second factor",
            TAG_ACCOUNT_SECURITY,
        ),
    }

    @extend_schema(
        parameters=[UID_PATH],
        request=inline_serializer(
            "ReauthValidate", {"secondfactorvalidationtoken": serializers.CharField()}
        ),
        responses=IsValid,
    )
    def post(self, request, uid: str):
        token = self.body().get("secondfactorvalidationtoken")
        if not token or not isinstance(token, str):
            raise required("secondfactorvalidationtoken")
        account = account_get(tenant=self.tenant, uid=uid)
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="reauth", key=account.uid)
        if not services.reauth_token_validate(
            tenant=self.tenant, account=account, token=token, group=self.group
        ):
            raise LRError(1193)
        return self.respond({"IsValid": True})


class ReauthView(LRAPIView):
    """Re-enter a credential to get a short-lived SecondFactorValidationToken."""

    section = "security"
    auth_mode = "access_token"
    method = ""
    schema = RoutedOperationSchema()
    operations = {
        ("PUT", f"{A}/account/reauth/password"): Operation(
            "mfaReAuthenticateByPassword", "Reauthenticate with the password", TAG_REAUTH
        ),
        ("POST", f"{A}/account/reauth/password"): Operation(
            "mfaReAuthenticateByPasswordPost",
            "Reauthenticate with the password (POST form)",
            TAG_REAUTH,
        ),
        ("PUT", f"{A}/account/reauth/pin"): Operation(
            "verifyPinAuthentication", "Reauthenticate with the PIN", TAG_REAUTH
        ),
        ("POST", f"{A}/account/reauth/pin"): Operation(
            "verifyPinAuthenticationPost", "Reauthenticate with the PIN (POST form)", TAG_REAUTH
        ),
        ("PUT", f"{A}/account/reauth/2fa/otp"): Operation(
            "mfaReAuthenticateByOtp", "Reauthenticate with the SMS code", TAG_REAUTH
        ),
        ("POST", f"{A}/account/reauth/2fa/otp"): Operation(
            "mfaReAuthenticateByOtpPost", "Reauthenticate with the SMS code (POST form)", TAG_REAUTH
        ),
        ("PUT", f"{A}/account/reauth/2fa/backupcode"): Operation(
            "mfaReAuthenticateByBackupCode", "Reauthenticate with a backup code", TAG_REAUTH
        ),
        ("POST", f"{A}/account/reauth/2fa/backupcode"): Operation(
            "mfaReAuthenticateByBackupCodePost",
            "Reauthenticate with a backup code (POST form)",
            TAG_REAUTH,
        ),
        ("PUT", f"{A}/account/reauth/2fa/authenticatorcode"): Operation(
            "mfaReAuthenticateByAuthenticatorCode",
            "Reauthenticate with an authenticator code",
            TAG_REAUTH,
        ),
        ("POST", f"{A}/account/reauth/2fa/authenticatorcode"): Operation(
            "mfaReAuthenticateByAuthenticatorCodePost",
            "Reauthenticate with an authenticator code (POST form)",
            TAG_REAUTH,
        ),
        ("PUT", f"{A}/account/reauth/2fa/otp/email/verify"): Operation(
            "reAuthValidateEmailOtp", "Reauthenticate with the email code", TAG_REAUTH
        ),
        ("POST", f"{A}/account/reauth/2fa/otp/email/verify"): Operation(
            "reAuthValidateEmailOtpPost",
            "Reauthenticate with the email code (POST form)",
            TAG_REAUTH,
        ),
        ("POST", f"{A}/account/reauth/2fa/securityquestionanswer/verify"): Operation(
            "reAuthBySecurityQuestion", "Reauthenticate with security answers", TAG_REAUTH
        ),
        ("PUT", f"{A}/account/reauth/2fa/securityquestionanswer/verify"): Operation(
            "reAuthBySecurityQuestionPut",
            "Reauthenticate with security answers (PUT form)",
            TAG_REAUTH,
        ),
    }

    @extend_schema(
        request=inline_serializer(
            "ReauthBody",
            {
                "value": serializers.CharField(
                    help_text="password, otp, backupcode, authenticatorcode or securityquestionanswer, by path"
                )
            },
        ),
        responses=ValidationToken,
    )
    def put(self, request):
        body = self.body()
        ratelimit.sensitive_operation_hit(
            tenant=self.tenant, operation="reauth", key=self.account.uid
        )
        if self.method in ("password", "pin"):
            value = body.get(self.method)
            if not value or not isinstance(value, str):
                raise required(self.method)
            reauth = services.reauth_password if self.method == "password" else services.reauth_pin
            issued = reauth(tenant=self.tenant, account=self.account, **{self.method: value})
        else:
            second_factor_check(account=self.account, method=self.method, body=body)
            issued = services.reauth_token_issue(
                tenant=self.tenant, account=self.account, method=self.method
            )
        return self.respond(
            {"SecondFactorValidationToken": issued.token, "ExpireIn": iso(issued.expires_at)}
        )

    @extend_schema(
        request=inline_serializer(
            "ReauthSecurityAnswer", {"securityquestionanswer": serializers.DictField()}
        ),
        responses=ValidationToken,
    )
    def post(self, request):
        return self.put(request)


class ReauthTriggerView(LRAPIView):
    """GET /identity/v2/auth/account/reauth/2fa: which factors the account can reauthenticate
    with; sends the SMS code when that is its factor."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        tags=TAG_REAUTH,
        operation_id="mfaReAuthenticate",
        summary="Which factors the caller can reauthenticate with; sends the SMS code",
        parameters=[
            OpenApiParameter("smstemplate2fa", OpenApiTypes.STR, OpenApiParameter.QUERY),
            OpenApiParameter(
                "duoredirecturi",
                OpenApiTypes.URI,
                OpenApiParameter.QUERY,
                description="Where Duo sends the browser back (with `state` and `duo_code`) after a "
                "reauthentication prompt; when given and the tenant uses Duo, `DuoAuthEndpoint` is the prompt URL.",
            ),
        ],
        responses=inline_serializer(
            "ReauthTrigger",
            {
                "IsGoogleAuthenticatorVerified": serializers.BooleanField(),
                "IsAuthenticatorVerified": serializers.BooleanField(),
                "IsOTPAuthenticatorVerified": serializers.BooleanField(),
                "IsEmailOtpAuthenticatorVerified": serializers.BooleanField(),
                "IsSecurityQuestionAuthenticatorVerified": serializers.BooleanField(),
                "IsDuoAuthenticatorVerified": serializers.BooleanField(),
                "DuoAuthEndpoint": serializers.URLField(allow_null=True),
                "OTPStatus": serializers.DictField(allow_null=True),
            },
        ),
        description="Which factors the account can reauthenticate with. Sends the SMS code when "
        "the account has that factor; starts a Duo prompt when `duoredirecturi` is given and the "
        "tenant uses Duo (950 if Duo is unreachable, 908 if the address is not an http(s) URL).",
    )
    def get(self, request):
        state = services.account_mfa_state(account=self.account)
        duo_url = None
        redirect_uri = self.query.get("duoredirecturi")
        if redirect_uri and services.duo_required(tenant=self.tenant):
            duo_url = services.duo_reauth_start(
                tenant=self.tenant,
                account=self.account,
                redirect_uri=redirect_uri_checked(redirect_uri),
            )
        sent = False
        if state["sms"]:
            services.otp_send(
                tenant=self.tenant,
                account=self.account,
                channel="sms",
                template=self.query.get("smstemplate2fa") or "",
            )
            sent = True
        return self.respond(
            {
                "IsGoogleAuthenticatorVerified": state["totp"],
                "IsAuthenticatorVerified": state["totp"],
                "IsOTPAuthenticatorVerified": state["sms"],
                "IsEmailOtpAuthenticatorVerified": state["email"],
                "IsSecurityQuestionAuthenticatorVerified": state["securityquestion"],
                "IsDuoAuthenticatorVerified": state["duo"],
                "DuoAuthEndpoint": duo_url,
                "OTPStatus": {"IsPosted": True} if sent else None,
            }
        )


def redirect_uri_checked(value: str) -> str:
    """An absolute http(s) URL, or 908."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 2000:
        raise LRError(908, "The duoredirecturi must be an absolute http or https URL.")
    return value


class ReauthDuoView(LRAPIView):
    """PUT /identity/v2/auth/account/reauth/2fa/duo: finish the Duo prompt started by the
    trigger with the `state` and `duo_code` Duo returned, for a SecondFactorValidationToken
    that the manage side checks on `.../{uid}/reauth/2fa`."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        tags=TAG_REAUTH,
        operation_id="mfaReAuthenticateByDuo",
        summary="Reauthenticate with the Duo prompt",
        request=inline_serializer(
            "ReauthDuo",
            {
                "State": serializers.CharField(
                    help_text="The `state` Duo returned to duoredirecturi"
                ),
                "Code": serializers.CharField(
                    help_text="The `duo_code` Duo returned to duoredirecturi"
                ),
            },
        ),
        responses=ValidationToken,
        description="Exchanges Duo's code for the prompt this account started. Missing State or "
        "Code: 908; a state that is unknown, used, expired or another account's, or a prompt Duo "
        "did not approve: 1193.",
    )
    def put(self, request):
        body = self.body()
        state, code = body.get("state"), body.get("code")
        if not state or not isinstance(state, str):
            raise required("state")
        if not code or not isinstance(code, str):
            raise required("code")
        issued = services.reauth_duo(
            tenant=self.tenant, account=self.account, state=state, duo_code=code
        )
        return self.respond(
            {"SecondFactorValidationToken": issued.token, "ExpireIn": iso(issued.expires_at)}
        )


class ReauthEmailOtpSendView(LRAPIView):
    """GET /identity/v2/auth/account/reauth/2fa/otp/email: send an email code."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        tags=TAG_REAUTH,
        operation_id="reAuthSendEmailOtp",
        summary="Send a reauthentication code by email",
        parameters=[OpenApiParameter("emailid", OpenApiTypes.STR, OpenApiParameter.QUERY)],
        responses=IsPosted,
    )
    def get(self, request):
        ratelimit.sensitive_operation_hit(
            tenant=self.tenant, operation="token_send", key=self.account.uid
        )
        services.otp_send(
            tenant=self.tenant,
            account=self.account,
            channel="email",
            template=self.query.get("emailtemplate2fa") or "",
        )
        return self.respond({"IsPosted": True})

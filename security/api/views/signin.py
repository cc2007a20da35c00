"""Sign-in on the Authentication API: password, then the second factor when one is needed."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from accounts.selectors import account_get, account_profile
from flows import signin as signin_flow
from portal import ratelimit
from portal.lrapi.errors import LRError, required
from portal.lrapi.views import LRAPIView
from security import selectors, services
from security.api.views.common import (
    TAG_AUTHENTICATION,
    TAG_MFA,
    TOKEN_QUERY,
    A,
    IsPosted,
    Operation,
    RoutedOperationSchema,
    iso,
    second_factor_check,
)

LoginBody = inline_serializer(
    "LoginBody",
    {
        "email": serializers.CharField(required=False),
        "username": serializers.CharField(required=False),
        "phone": serializers.CharField(required=False),
        "password": serializers.CharField(),
    },
)
LoginResponse = inline_serializer(
    "LoginResponse",
    {
        "Profile": serializers.DictField(allow_null=True),
        "access_token": serializers.CharField(allow_null=True),
        "refresh_token": serializers.CharField(allow_null=True),
        "expires_in": serializers.CharField(allow_null=True),
        "SecondFactorAuthentication": serializers.DictField(required=False, allow_null=True),
    },
)


def session_body(*, tenant, account, reason: str, issued=None) -> dict:
    """The answer of a completed sign-in; opens its session unless `issued` is given."""
    if issued is None:
        issued = signin_flow.signin_complete(tenant=tenant, account=account, reason=reason)
    # Read again after the sign-in counted, with what the profile shows (one query on
    # PostgreSQL, as GET account by UID reads it).
    account = account_get(tenant=tenant, uid=account.uid, for_profile=True)
    return {
        "Profile": account_profile(account=account),
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "expires_in": iso(issued.access_expires_at),
    }


class LoginView(LRAPIView):
    """Password sign-in by email, username or phone (POST /identity/v2/auth/login[/2fa])."""

    section = "security"
    auth_mode = "apikey"
    schema = RoutedOperationSchema()
    operations = {
        ("POST", f"{A}/login"): Operation(
            "loginByEmail",
            "Sign in with a password (email, username or phone)",
            TAG_AUTHENTICATION,
        ),
        ("POST", f"{A}/login/2fa"): Operation(
            "mfaLoginByEmail",
            "Sign in with a password; asks for the second factor when the account has one",
            TAG_MFA,
        ),
    }

    @extend_schema(request=LoginBody, responses=LoginResponse)
    def post(self, request):
        body = self.body()
        password = body.get("password")
        identifiers = [
            (kind, body.get(kind)) for kind in ("email", "username", "phone") if body.get(kind)
        ]
        if len(identifiers) != 1 or not all(isinstance(v, str) for _, v in identifiers):
            raise required("email")
        if not password or not isinstance(password, str):
            raise required("password")
        kind, login_id = identifiers[0]
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="signin", key=login_id)
        account = selectors.account_for_login(tenant=self.tenant, kind=kind, login_id=login_id)
        outcome = signin_flow.password_signin(
            tenant=self.tenant, account=account, password=password, reason="password sign-in"
        )
        if outcome.challenge is None:
            return self.respond(
                session_body(
                    tenant=self.tenant,
                    account=outcome.account,
                    reason="password sign-in",
                    issued=outcome.session,
                )
            )
        state = services.account_mfa_state(account=outcome.account)
        sent = False
        if state["sms"] and not state["totp"]:  # the code is the only way in: send it now
            services.otp_send(
                tenant=self.tenant,
                account=outcome.account,
                channel="sms",
                template=self.query.get("smstemplate2fa") or "",
            )
            sent = True
        challenge = selectors.second_factor_challenge_json(
            account=outcome.account,
            state=state,
            token=outcome.challenge.token,
            expires_at=iso(outcome.challenge.expires_at),
        )
        challenge["OTPStatus"] = {"IsPosted": True} if sent else None
        return self.respond(
            {
                "SecondFactorAuthentication": challenge,
                "Profile": None,
                "access_token": None,
                "refresh_token": None,
                "expires_in": None,
            }
        )


class LoginSecondFactorView(LRAPIView):
    """Complete a sign-in with its second factor (/identity/v2/auth/login/2fa/verification/...)."""

    section = "security"
    auth_mode = "apikey"
    method = ""
    schema = RoutedOperationSchema()
    operations = {
        ("PUT", f"{A}/login/2fa/verification/authenticatorcode"): Operation(
            "mfaValidateAuthenticatorCode", "Complete a sign-in with an authenticator code", TAG_MFA
        ),
        ("POST", f"{A}/login/2fa/verification/authenticatorcode"): Operation(
            "mfaValidateAuthenticatorCodePost",
            "Complete a sign-in with an authenticator code (POST form)",
            TAG_MFA,
        ),
        ("PUT", f"{A}/login/2fa/verification/backupcode"): Operation(
            "mfaValidateBackupCode", "Complete a sign-in with a backup code", TAG_MFA
        ),
        ("POST", f"{A}/login/2fa/verification/backupcode"): Operation(
            "mfaValidateBackupCodePost",
            "Complete a sign-in with a backup code (POST form)",
            TAG_MFA,
        ),
        ("PUT", f"{A}/login/2fa/verification/otp"): Operation(
            "mfaValidateOtpByPhone", "Complete a sign-in with the SMS code", TAG_MFA
        ),
        ("POST", f"{A}/login/2fa/verification/otp"): Operation(
            "mfaValidateOtpByPhonePost", "Complete a sign-in with the SMS code (POST form)", TAG_MFA
        ),
        ("PUT", f"{A}/login/2fa/verification/otp/email"): Operation(
            "mfaValidateEmailOtp", "Complete a sign-in with the email code", TAG_MFA
        ),
        ("POST", f"{A}/login/2fa/verification/otp/email"): Operation(
            "mfaValidateEmailOtpPost", "Complete a sign-in with the email code (POST form)", TAG_MFA
        ),
        ("POST", f"{A}/login/2fa/verification/securityquestionanswer"): Operation(
            "mfaSecurityQuestionAnswerVerification",
            "Complete a sign-in with security answers",
            TAG_MFA,
        ),
        ("PUT", f"{A}/login/2fa/verification/securityquestionanswer"): Operation(
            "mfaSecurityQuestionAnswerVerificationPut",
            "Complete a sign-in with security answers (PUT form)",
            TAG_MFA,
        ),
    }

    @extend_schema(
        parameters=[TOKEN_QUERY],
        request=inline_serializer(
            "LoginSecondFactorBody",
            {
                "code": serializers.CharField(
                    help_text="authenticatorcode, backupcode, otp or securityquestionanswer, by path"
                )
            },
        ),
        responses=LoginResponse,
    )
    def put(self, request):
        row = services.login_challenge_get(
            tenant=self.tenant, token=self.query.get("secondfactorauthenticationtoken")
        )
        ratelimit.sensitive_operation_hit(
            tenant=self.tenant, operation="otp_verify", key=row.account.uid
        )
        second_factor_check(
            account=row.account,
            method=self.method,
            body=self.body(),
            on_wrong=lambda: services.login_second_factor_refused(
                tenant=self.tenant, account=row.account, method=self.method
            ),
        )
        if not services.login_challenge_complete(row=row):
            raise LRError(1193)
        return self.respond(
            session_body(
                tenant=self.tenant, account=row.account, reason=f"sign-in with {self.method}"
            )
        )

    @extend_schema(
        parameters=[TOKEN_QUERY],
        request=inline_serializer(
            "LoginSecurityAnswer", {"securityquestionanswer": serializers.DictField()}
        ),
        responses=LoginResponse,
    )
    def post(self, request):
        return self.put(request)


class LoginOtpSendView(LRAPIView):
    """Send the sign-in code again: SMS (GET .../login/2fa/resend) or email (POST .../login/2fa/otp/email)."""

    section = "security"
    auth_mode = "apikey"
    channel = "sms"
    schema = RoutedOperationSchema()
    operations = {
        ("GET", f"{A}/login/2fa/resend"): Operation(
            "mfaResendOtp", "Send the sign-in SMS code again", TAG_MFA
        ),
        ("POST", f"{A}/login/2fa/resend"): Operation(
            "mfaResendOtpPost", "Send the sign-in SMS code again (POST form)", TAG_MFA
        ),
        ("POST", f"{A}/login/2fa/otp/email"): Operation(
            "mfaEmailOtp", "Send the sign-in code by email", TAG_MFA
        ),
        ("GET", f"{A}/login/2fa/otp/email"): Operation(
            "mfaEmailOtpGet", "Send the sign-in code by email (GET form)", TAG_MFA
        ),
    }

    def _send(self, template: str):
        row = services.login_challenge_get(
            tenant=self.tenant, token=self.query.get("secondfactorauthenticationtoken")
        )
        ratelimit.sensitive_operation_hit(
            tenant=self.tenant, operation="token_send", key=row.account.uid
        )
        services.otp_send(
            tenant=self.tenant, account=row.account, channel=self.channel, template=template
        )
        return self.respond({"IsPosted": True})

    @extend_schema(parameters=[TOKEN_QUERY], responses=IsPosted)
    def get(self, request):
        return self._send(self.query.get("smstemplate2fa") or "")

    @extend_schema(
        parameters=[TOKEN_QUERY],
        request=inline_serializer("EmailIdBody", {"EmailId": serializers.CharField()}),
        responses=IsPosted,
    )
    def post(self, request):
        return self._send(self.query.get("emailtemplate2fa") or "")

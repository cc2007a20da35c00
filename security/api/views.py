"""Account Security on the LoginRadius wire: factor resets, backup codes, reauthentication
validation (management side), and the sign-in and reauthentication endpoints of the
Authentication API that produce what those endpoints check."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.selectors import account_get
from portal.lrapi.errors import LRError, required
from portal.lrapi.params import parse_bool
from portal.lrapi.views import LRAPIView
from security import selectors, services

UID_QUERY = OpenApiParameter("uid", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True, description="Account UID")
UID_PATH = OpenApiParameter("uid", OpenApiTypes.STR, OpenApiParameter.PATH)
TOKEN_QUERY = OpenApiParameter("secondfactorauthenticationtoken", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True)

IsDeleted = inline_serializer("SecurityIsDeleted", {"IsDeleted": serializers.BooleanField()})
IsPosted = inline_serializer("SecurityIsPosted", {"IsPosted": serializers.BooleanField()})
IsValid = inline_serializer("SecurityIsValid", {"IsValid": serializers.BooleanField()})
BackupCodes = inline_serializer("BackupCodes", {"BackUpCodes": serializers.ListField(child=serializers.CharField())})
ValidationToken = inline_serializer(
    "SecondFactorValidationToken",
    {"SecondFactorValidationToken": serializers.CharField(), "ExpireIn": serializers.DateTimeField()},
)


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --------------------------------------------------------------------------- backup codes


class BackupCodeGenerateView(LRAPIView):
    """Generate the ten backup codes of an account (1127 when it already has some)."""

    section = "security"
    reset = False

    @extend_schema(parameters=[UID_QUERY], responses=BackupCodes, description="Backup codes by UID.")
    def get(self, request):
        account = account_get(tenant=self.tenant, uid=self.query.get("uid"))
        codes = services.backup_codes_generate(tenant=self.tenant, actor=self.actor, account=account, reset=self.reset)
        return self.respond({"BackUpCodes": codes})


class BackupCodeResetView(BackupCodeGenerateView):
    """Replace the backup codes of an account with a new set."""

    reset = True


# --------------------------------------------------------------------------- factor resets


class FactorResetView(LRAPIView):
    """Remove one second factor (v12 per-factor paths and the legacy spellings)."""

    section = "security"
    factor = ""

    @extend_schema(parameters=[UID_QUERY], request=None, responses=IsDeleted)
    def delete(self, request, uid: str | None = None):
        account = account_get(tenant=self.tenant, uid=uid or self.query.get("uid"))
        services.mfa_factor_reset(tenant=self.tenant, actor=self.actor, account=account, factor=self.factor)
        return self.respond({"IsDeleted": True})


class AuthenticatorResetView(LRAPIView):
    """The v11 form: DELETE .../2fa/authenticator with a body flag naming the factor."""

    section = "security"

    @extend_schema(
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
            services.mfa_factor_reset(tenant=self.tenant, actor=self.actor, account=account, factor=factor)
        return self.respond({"IsDeleted": True})


# --------------------------------------------------------------------------- reauthentication (manage)


class ReauthValidateView(LRAPIView):
    """Check a SecondFactorValidationToken the account obtained by reauthenticating."""

    section = "security"
    group = ""

    @extend_schema(
        parameters=[UID_PATH],
        request=inline_serializer("ReauthValidate", {"secondfactorvalidationtoken": serializers.CharField()}),
        responses=IsValid,
    )
    def post(self, request, uid: str):
        token = self.body().get("secondfactorvalidationtoken")
        if not token or not isinstance(token, str):
            raise required("secondfactorvalidationtoken")
        account = account_get(tenant=self.tenant, uid=uid)
        if not services.reauth_token_validate(tenant=self.tenant, account=account, token=token, group=self.group):
            raise LRError(1193)
        return self.respond({"IsValid": True})


# --------------------------------------------------------------------------- reauthentication (token side)


# The body key each second-factor method reads, and how it is checked.
METHOD_BODY_KEY = {
    "authenticatorcode": "authenticatorcode",
    "backupcode": "backupcode",
    "otp": "otp",
    "emailotp": "otp",
    "securityquestion": "securityquestionanswer",
}


def second_factor_check(*, account, method: str, body) -> None:
    """Verify the second factor `method` named in `body`, or raise its LoginRadius error."""
    key = METHOD_BODY_KEY[method]
    value = body.get(key)
    if method == "securityquestion":
        if not value or not hasattr(value, "items"):
            raise required(key)
        answers = {str(q): a for q, a in value.items()}
        if not all(isinstance(a, str) for a in answers.values()):
            raise required(key)
        if not services.security_answers_verify(account=account, answers=answers):
            raise LRError(1134, errors=[{"FieldName": key, "ErrorMessage": "The security answer is incorrect."}])
        return
    if not value or not isinstance(value, str):
        raise required(key)
    if method == "authenticatorcode":
        ok, code = services.totp_verify(account=account, code=value), 1102
    elif method == "backupcode":
        ok, code = services.backup_code_verify(account=account, code=value), 1128
    else:
        channel = "sms" if method == "otp" else "email"
        ok, code = services.otp_verify(account=account, channel=channel, code=value), 1067
    if not ok:
        raise LRError(code)


class ReauthView(LRAPIView):
    """Re-enter a credential to get a short-lived SecondFactorValidationToken."""

    section = "security"
    auth_mode = "access_token"
    method = ""

    @extend_schema(
        request=inline_serializer(
            "ReauthBody",
            {"value": serializers.CharField(help_text="password, otp, backupcode, authenticatorcode or securityquestionanswer, by path")},
        ),
        responses=ValidationToken,
    )
    def put(self, request):
        body = self.body()
        if self.method == "password":
            password = body.get("password")
            if not password or not isinstance(password, str):
                raise required("password")
            issued = services.reauth_password(tenant=self.tenant, account=self.account, password=password)
        else:
            second_factor_check(account=self.account, method=self.method, body=body)
            issued = services.reauth_token_issue(tenant=self.tenant, account=self.account, method=self.method)
        return self.respond({"SecondFactorValidationToken": issued.token, "ExpireIn": iso(issued.expires_at)})

    @extend_schema(request=inline_serializer("ReauthSecurityAnswer", {"securityquestionanswer": serializers.DictField()}), responses=ValidationToken)
    def post(self, request):
        return self.put(request)


class ReauthTriggerView(LRAPIView):
    """GET /identity/v2/auth/account/reauth/2fa: which factors the account can reauthenticate
    with; sends the SMS code when that is its factor."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        parameters=[OpenApiParameter("smstemplate2fa", OpenApiTypes.STR, OpenApiParameter.QUERY)],
        responses=inline_serializer("ReauthTrigger", {"IsOTPAuthenticatorVerified": serializers.BooleanField()}),
    )
    def get(self, request):
        state = services.account_mfa_state(account=self.account)
        sent = False
        if state["sms"]:
            services.otp_send(tenant=self.tenant, account=self.account, channel="sms", template=self.query.get("smstemplate2fa") or "")
            sent = True
        return self.respond(
            {
                "IsGoogleAuthenticatorVerified": state["totp"],
                "IsAuthenticatorVerified": state["totp"],
                "IsOTPAuthenticatorVerified": state["sms"],
                "IsEmailOtpAuthenticatorVerified": state["email"],
                "IsSecurityQuestionAuthenticatorVerified": state["securityquestion"],
                "OTPStatus": {"IsPosted": True} if sent else None,
            }
        )


class ReauthEmailOtpSendView(LRAPIView):
    """GET /identity/v2/auth/account/reauth/2fa/otp/email: send an email code."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(parameters=[OpenApiParameter("emailid", OpenApiTypes.STR, OpenApiParameter.QUERY)], responses=IsPosted)
    def get(self, request):
        services.otp_send(tenant=self.tenant, account=self.account, channel="email", template=self.query.get("emailtemplate2fa") or "")
        return self.respond({"IsPosted": True})


# --------------------------------------------------------------------------- sign-in


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


def session_body(*, tenant, account, reason: str) -> dict:
    issued = services.session_for(tenant=tenant, account=account, reason=reason)
    account.refresh_from_db()
    return {
        "Profile": selectors.account_profile_json(account=account),
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "expires_in": iso(issued.access_expires_at),
    }


class LoginView(LRAPIView):
    """Password sign-in by email, username or phone (POST /identity/v2/auth/login[/2fa])."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(request=LoginBody, responses=LoginResponse)
    def post(self, request):
        body = self.body()
        password = body.get("password")
        identifiers = [(kind, body.get(kind)) for kind in ("email", "username", "phone") if body.get(kind)]
        if len(identifiers) != 1 or not all(isinstance(v, str) for _, v in identifiers):
            raise required("email")
        if not password or not isinstance(password, str):
            raise required("password")
        kind, login_id = identifiers[0]
        account = selectors.account_for_login(tenant=self.tenant, kind=kind, login_id=login_id)
        outcome = services.login_password(tenant=self.tenant, account=account, password=password)
        if outcome.challenge is None:
            return self.respond(session_body(tenant=self.tenant, account=outcome.account, reason="password sign-in"))
        state = services.account_mfa_state(account=outcome.account)
        sent = False
        if state["sms"] and not state["totp"]:  # the code is the only way in: send it now
            services.otp_send(tenant=self.tenant, account=outcome.account, channel="sms", template=self.query.get("smstemplate2fa") or "")
            sent = True
        challenge = selectors.second_factor_challenge_json(
            account=outcome.account, state=state, token=outcome.challenge.token,
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

    @extend_schema(
        parameters=[TOKEN_QUERY],
        request=inline_serializer(
            "LoginSecondFactorBody",
            {"code": serializers.CharField(help_text="authenticatorcode, backupcode, otp or securityquestionanswer, by path")},
        ),
        responses=LoginResponse,
    )
    def put(self, request):
        row = services.login_challenge_get(tenant=self.tenant, token=self.query.get("secondfactorauthenticationtoken"))
        second_factor_check(account=row.account, method=self.method, body=self.body())
        if not services.login_challenge_complete(row=row):
            raise LRError(1193)
        return self.respond(session_body(tenant=self.tenant, account=row.account, reason=f"sign-in with {self.method}"))

    @extend_schema(parameters=[TOKEN_QUERY], request=inline_serializer("LoginSecurityAnswer", {"securityquestionanswer": serializers.DictField()}), responses=LoginResponse)
    def post(self, request):
        return self.put(request)


class LoginOtpSendView(LRAPIView):
    """Send the sign-in code again: SMS (GET .../login/2fa/resend) or email (POST .../login/2fa/otp/email)."""

    section = "security"
    auth_mode = "apikey"
    channel = "sms"

    def _send(self, template: str):
        row = services.login_challenge_get(tenant=self.tenant, token=self.query.get("secondfactorauthenticationtoken"))
        services.otp_send(tenant=self.tenant, account=row.account, channel=self.channel, template=template)
        return self.respond({"IsPosted": True})

    @extend_schema(parameters=[TOKEN_QUERY], responses=IsPosted)
    def get(self, request):
        return self._send(self.query.get("smstemplate2fa") or "")

    @extend_schema(parameters=[TOKEN_QUERY], request=inline_serializer("EmailIdBody", {"EmailId": serializers.CharField()}), responses=IsPosted)
    def post(self, request):
        return self._send(self.query.get("emailtemplate2fa") or "")

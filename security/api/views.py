"""Account Security on the LoginRadius wire: factor resets, backup codes, reauthentication
validation (management side), and the sign-in and reauthentication endpoints of the
Authentication API that produce what those endpoints check."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.selectors import account_get
from portal import ratelimit
from portal.lrapi.errors import LRError, field_errors, required
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


class FactorResetByPathView(FactorResetView):
    """The legacy form with the UID in the path (DELETE .../2FA/authenticator/push/{uid})."""

    @extend_schema(operation_id="mfa_reset_push_by_path", parameters=[UID_PATH], request=None, responses=IsDeleted)
    def delete(self, request, uid: str | None = None):
        return super().delete(request, uid=uid)


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
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="reauth", key=account.uid)
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
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="reauth", key=self.account.uid)
        if self.method in ("password", "pin"):
            value = body.get(self.method)
            if not value or not isinstance(value, str):
                raise required(self.method)
            reauth = services.reauth_password if self.method == "password" else services.reauth_pin
            issued = reauth(tenant=self.tenant, account=self.account, **{self.method: value})
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
        parameters=[
            OpenApiParameter("smstemplate2fa", OpenApiTypes.STR, OpenApiParameter.QUERY),
            OpenApiParameter(
                "duoredirecturi", OpenApiTypes.URI, OpenApiParameter.QUERY,
                description="Where Duo sends the browser back (with `state` and `duo_code`) after a "
                "reauthentication prompt; when given and the tenant uses Duo, `DuoAuthEndpoint` is the prompt URL.",
            ),
        ],
        responses=inline_serializer("ReauthTrigger", {
            "IsGoogleAuthenticatorVerified": serializers.BooleanField(),
            "IsAuthenticatorVerified": serializers.BooleanField(),
            "IsOTPAuthenticatorVerified": serializers.BooleanField(),
            "IsEmailOtpAuthenticatorVerified": serializers.BooleanField(),
            "IsSecurityQuestionAuthenticatorVerified": serializers.BooleanField(),
            "IsDuoAuthenticatorVerified": serializers.BooleanField(),
            "DuoAuthEndpoint": serializers.URLField(allow_null=True),
            "OTPStatus": serializers.DictField(allow_null=True),
        }),
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
                tenant=self.tenant, account=self.account, redirect_uri=redirect_uri_checked(redirect_uri)
            )
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
        request=inline_serializer("ReauthDuo", {
            "State": serializers.CharField(help_text="The `state` Duo returned to duoredirecturi"),
            "Code": serializers.CharField(help_text="The `duo_code` Duo returned to duoredirecturi"),
        }),
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
        issued = services.reauth_duo(tenant=self.tenant, account=self.account, state=state, duo_code=code)
        return self.respond({"SecondFactorValidationToken": issued.token, "ExpireIn": iso(issued.expires_at)})


class ReauthEmailOtpSendView(LRAPIView):
    """GET /identity/v2/auth/account/reauth/2fa/otp/email: send an email code."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(parameters=[OpenApiParameter("emailid", OpenApiTypes.STR, OpenApiParameter.QUERY)], responses=IsPosted)
    def get(self, request):
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="token_send", key=self.account.uid)
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
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="signin", key=login_id)
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
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="otp_verify", key=row.account.uid)
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
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="token_send", key=row.account.uid)
        services.otp_send(tenant=self.tenant, account=row.account, channel=self.channel, template=template)
        return self.respond({"IsPosted": True})

    @extend_schema(parameters=[TOKEN_QUERY], responses=IsPosted)
    def get(self, request):
        return self._send(self.query.get("smstemplate2fa") or "")

    @extend_schema(parameters=[TOKEN_QUERY], request=inline_serializer("EmailIdBody", {"EmailId": serializers.CharField()}), responses=IsPosted)
    def post(self, request):
        return self._send(self.query.get("emailtemplate2fa") or "")


# --------------------------------------------------------------------------- factor setup (by the account)


def qr_data_uri(text: str) -> str:
    import base64
    import io

    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


MfaSettings = inline_serializer(
    "MfaSettings",
    {
        "QRCode": serializers.CharField(allow_null=True),
        "ManualEntryCode": serializers.CharField(allow_null=True),
        "IsAuthenticatorVerified": serializers.BooleanField(),
        "IsOTPAuthenticatorVerified": serializers.BooleanField(),
    },
)


def mfa_settings_json(*, tenant, account, secret: str | None) -> dict:
    state = services.account_mfa_state(account=account)
    uri = services.totp_provisioning_uri(tenant=tenant, account=account, secret_b32=secret) if secret else None
    return {
        "QRCode": qr_data_uri(uri) if uri else None,
        "ManualEntryCode": secret,
        "IsGoogleAuthenticatorVerified": state["totp"],
        "IsAuthenticatorVerified": state["totp"],
        "IsOTPAuthenticatorVerified": state["sms"],
        "IsEmailOtpAuthenticatorVerified": state["email"],
        "IsSecurityQuestionAuthenticatorVerified": state["securityquestion"],
        "OTPPhoneNo": None,
        "OTPStatus": None,
    }


class MfaSetupView(LRAPIView):
    """GET /identity/v2/auth/account/2fa: the account's factors, and a new authenticator
    seed with its otpauth QR code while no authenticator is confirmed.
    PUT with {"phoneno2fa"}: set the SMS factor's number and send it a code. A confirmed
    factor keeps its number (sign-in codes still go there) until PUT .../2fa/verification/otp
    confirms the new one with the code sent to it."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(responses=MfaSettings)
    def get(self, request):
        secret = services.totp_enroll(tenant=self.tenant, actor=self.actor, account=self.account)
        return self.respond(mfa_settings_json(tenant=self.tenant, account=self.account, secret=secret))

    @extend_schema(request=inline_serializer("PhoneNo2FA", {"phoneno2fa": serializers.CharField()}), responses=MfaSettings)
    def put(self, request):
        phone = self.body().get("phoneno2fa")
        if not phone or not isinstance(phone, str):
            raise required("phoneno2fa")
        phone = phone.strip()
        if not phone.startswith("+") or not phone[1:].isdigit() or not 8 <= len(phone) <= 16:
            raise LRError(1096)
        services.otp_factor_set(tenant=self.tenant, actor=self.actor, account=self.account, channel="sms", destination=phone)
        services.otp_factor_code_send(
            tenant=self.tenant, account=self.account, channel="sms", template=self.query.get("smstemplate2fa") or ""
        )
        body = mfa_settings_json(tenant=self.tenant, account=self.account, secret=None)
        body["OTPStatus"] = {"IsPosted": True}
        return self.respond(body)


class MfaSetupVerifyView(LRAPIView):
    """Confirm a factor being set up with its first code
    (PUT /identity/v2/auth/account/2fa/verification/authenticatorcode | otp)."""

    section = "security"
    auth_mode = "access_token"
    method = ""

    @extend_schema(
        request=inline_serializer("MfaSetupVerify", {"code": serializers.CharField(help_text="authenticatorcode or otp, by path")}),
        responses=MfaSettings,
    )
    def put(self, request):
        body = self.body()
        key = METHOD_BODY_KEY[self.method]
        value = body.get(key)
        if not value or not isinstance(value, str):
            raise required(key)
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="otp_verify", key=self.account.uid)
        if self.method == "authenticatorcode":
            ok, code = services.totp_verify(account=self.account, code=value, confirm=True), 1102
        else:
            channel = "email" if self.method == "emailotp" else "sms"
            ok = services.otp_factor_confirm(
                tenant=self.tenant, actor=self.actor, account=self.account, channel=channel, code=value
            )
            code = 1067
        if not ok:
            raise LRError(code)
        return self.respond(mfa_settings_json(tenant=self.tenant, account=self.account, secret=None))


# --------------------------------------------------------------------------- passkeys


PasskeyList = inline_serializer(
    "PasskeyList",
    {"Credentials": serializers.ListField(child=inline_serializer("Passkey", {
        "Id": serializers.CharField(), "Authenticator": serializers.CharField(),
        "Identifier": serializers.CharField(), "CreatedAt": serializers.CharField(),
    }))},
)
PASSKEY_ID = OpenApiParameter("passkey_id", OpenApiTypes.STR, OpenApiParameter.PATH)
WebAuthnCredential = inline_serializer(
    "WebAuthnCredential",
    {"id": serializers.CharField(), "rawId": serializers.CharField(), "type": serializers.CharField(), "response": serializers.DictField()},
)


def credential_from_body(body_json) -> dict:
    """The PublicKeyCredential JSON, sent bare or under `PasskeyCredential`."""
    if not isinstance(body_json, dict):
        raise required("PasskeyCredential")
    for key, value in body_json.items():
        if key.lower() == "passkeycredential":
            body_json = value
            break
    if not isinstance(body_json, dict) or not isinstance(body_json.get("response"), dict) or not body_json.get("id"):
        raise required("PasskeyCredential")
    return body_json


class PasskeyManageListView(LRAPIView):
    """GET /identity/v2/manage/account/passkey?uid=: the account's passkeys."""

    section = "security"

    @extend_schema(parameters=[UID_QUERY], responses=PasskeyList)
    def get(self, request):
        account = account_get(tenant=self.tenant, uid=self.query.get("uid"))
        return self.respond({"Credentials": selectors.passkey_list_json(account=account)})


class PasskeyManageDeleteView(LRAPIView):
    """DELETE /identity/v2/manage/account/passkey/{passkeyId}?uid=."""

    section = "security"

    @extend_schema(parameters=[UID_QUERY, PASSKEY_ID], request=None, responses=IsDeleted)
    def delete(self, request, passkey_id: str):
        account = account_get(tenant=self.tenant, uid=self.query.get("uid"))
        services.passkey_delete(tenant=self.tenant, actor=self.actor, account=account, passkey_id=passkey_id)
        return self.respond({"IsDeleted": True})


class PasskeyAccountListView(LRAPIView):
    """GET /identity/v2/auth/account/passkey: the caller's passkeys."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(responses=PasskeyList)
    def get(self, request):
        return self.respond({"Credentials": selectors.passkey_list_json(account=self.account)})


class PasskeyAccountDeleteView(LRAPIView):
    section = "security"
    auth_mode = "access_token"

    @extend_schema(parameters=[PASSKEY_ID], request=None, responses=IsDeleted)
    def delete(self, request, passkey_id: str):
        services.passkey_delete(tenant=self.tenant, actor=self.actor, account=self.account, passkey_id=passkey_id)
        return self.respond({"IsDeleted": True})


class PasskeyRegisterBeginView(LRAPIView):
    """GET /identity/v2/auth/account/register/passkey/begin: creation options."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(responses=inline_serializer("RegisterBegin", {"RegisterBeginCredential": serializers.DictField()}))
    def get(self, request):
        identifier = self.query.get("identifier") or ""
        options = services.passkey_registration_begin(tenant=self.tenant, account=self.account, identifier=identifier)
        return self.respond({"RegisterBeginCredential": {"publicKey": options}}, project=False)


class PasskeyRegisterFinishView(LRAPIView):
    """POST /identity/v2/auth/account/register/passkey/finish: the attestation."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(request=WebAuthnCredential, responses=IsPosted)
    def post(self, request):
        credential = credential_from_body(self.body_json())
        services.passkey_register(tenant=self.tenant, actor=self.actor, account=self.account, credential=credential)
        return self.respond({"IsPosted": True})


class PasskeyLoginBeginView(LRAPIView):
    """GET /identity/v2/auth/login/passkey/begin?identifier=<email|username|phone>."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        parameters=[OpenApiParameter("identifier", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True)],
        responses=inline_serializer("LoginBegin", {"LoginBeginCredential": serializers.DictField()}),
    )
    def get(self, request):
        identifier = self.query.get_plus_preserving("identifier")
        if not identifier:
            raise required("identifier")
        account = selectors.account_for_identifier(tenant=self.tenant, identifier=identifier)
        if account is None:
            options = services.passkey_decoy_options()
        else:
            options = services.passkey_authentication_begin(tenant=self.tenant, account=account)
        return self.respond({"LoginBeginCredential": {"publicKey": options}}, project=False)


class PasskeyLoginFinishView(LRAPIView):
    """POST /identity/v2/auth/login/passkey/finish: the assertion; answers with a session."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(request=WebAuthnCredential, responses=LoginResponse)
    def post(self, request):
        body = self.body()
        identifier = next((body.get(k) for k in ("email", "username", "phone", "identifier") if body.get(k)), None)
        if not identifier or not isinstance(identifier, str):
            raise required("email")
        credential = credential_from_body(self.body_json())
        account = selectors.account_for_identifier(tenant=self.tenant, identifier=identifier)
        services.passkey_login(tenant=self.tenant, identifier=identifier, account=account, credential=credential)
        return self.respond(session_body(tenant=self.tenant, account=account, reason="passkey sign-in"))


# --------------------------------------------------------------------------- push approval


class PushDeviceRegisterView(LRAPIView):
    """POST /identity/v2/auth/account/2fa/push: register the caller's device for push approval."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        request=inline_serializer("PushDevice", {"DeviceToken": serializers.CharField(), "DeviceName": serializers.CharField(required=False)}),
        responses=inline_serializer("PushDeviceRegistered", {"DeviceId": serializers.IntegerField(), "DeviceSecret": serializers.CharField()}),
    )
    def post(self, request):
        body = self.body()
        address = body.get("devicetoken")
        name = body.get("devicename") or ""
        if not address or not isinstance(address, str) or not isinstance(name, str):
            raise required("devicetoken")
        registered = services.push_device_register(tenant=self.tenant, actor=self.actor, account=self.account, device_address=address, name=name)
        return self.respond({"DeviceId": registered.device.pk, "DeviceSecret": registered.device_secret})


class PushChallengeStartView(LRAPIView):
    """POST /identity/v2/auth/login/2fa/push: send the pending sign-in to the device."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        parameters=[TOKEN_QUERY], request=None,
        responses=inline_serializer("PushChallenge", {"ChallengeId": serializers.CharField(), "ExpireIn": serializers.CharField()}),
    )
    def post(self, request):
        login = services.login_challenge_get(tenant=self.tenant, token=self.query.get("secondfactorauthenticationtoken"))
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="token_send", key=login.account.uid)
        challenge = services.push_challenge_start(tenant=self.tenant, login=login)
        return self.respond({"ChallengeId": challenge.public_id, "ExpireIn": iso(challenge.expires_at)})


class PushChallengeRespondView(LRAPIView):
    """PUT /identity/v2/auth/login/2fa/push/respond: the device approves or denies."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        request=inline_serializer("PushRespond", {
            "ChallengeId": serializers.CharField(), "DeviceSecret": serializers.CharField(), "Approve": serializers.BooleanField(),
        }),
        responses=IsPosted,
    )
    def put(self, request):
        body = self.body()
        challenge_id, secret = body.get("challengeid"), body.get("devicesecret")
        if not isinstance(challenge_id, str) or not challenge_id:
            raise required("challengeid")
        if not isinstance(secret, str) or not secret:
            raise required("devicesecret")
        if "approve" not in body:
            raise required("approve")
        approve = parse_bool(body.get("approve"), name="approve")
        services.push_challenge_decide(tenant=self.tenant, challenge_id=challenge_id, device_secret=secret, approve=approve)
        return self.respond({"IsPosted": True})


class PushChallengeStatusView(LRAPIView):
    """GET /identity/v2/auth/login/2fa/push/status: pending, or the session once approved."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        parameters=[TOKEN_QUERY, OpenApiParameter("challengeid", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True)],
        responses=LoginResponse,
    )
    def get(self, request):
        login = services.login_challenge_get(tenant=self.tenant, token=self.query.get("secondfactorauthenticationtoken"))
        status = services.push_challenge_status(login=login, challenge_id=self.query.get("challengeid"))
        if status == "pending":
            return self.respond({"Status": "pending"})
        if status != "approved":
            raise LRError(1193, f"The sign-in was {status} on the device.")
        if not services.login_challenge_complete(row=login):
            raise LRError(1193)
        return self.respond(session_body(tenant=self.tenant, account=login.account, reason="sign-in approved on device"))


# --------------------------------------------------------------------------- Duo Universal Prompt


class DuoPromptStartView(LRAPIView):
    """GET /identity/v2/auth/login/2fa/duo: the Duo prompt URL for a pending sign-in."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(parameters=[TOKEN_QUERY], responses=inline_serializer("DuoPrompt", {"AuthUrl": serializers.URLField()}))
    def get(self, request):
        login = services.login_challenge_get(tenant=self.tenant, token=self.query.get("secondfactorauthenticationtoken"))
        return self.respond({"AuthUrl": services.duo_prompt_start(tenant=self.tenant, login=login)})


class DuoPromptCallbackView(LRAPIView):
    """GET /identity/v2/auth/login/2fa/duo/callback: where Duo sends the browser back."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        parameters=[
            OpenApiParameter("duo_code", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True),
            OpenApiParameter("state", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True),
        ],
        responses=LoginResponse,
    )
    def get(self, request):
        state, code = self.query.get("state"), self.query.get("duo_code")
        if not state:
            raise required("state")
        if not code:
            raise required("duo_code")
        login = services.duo_prompt_complete(tenant=self.tenant, state=state, duo_code=code)
        if not services.login_challenge_complete(row=login):
            raise LRError(1193)
        return self.respond(session_body(tenant=self.tenant, account=login.account, reason="sign-in with Duo"))


class MfaEmailOtpSetupView(LRAPIView):
    """GET /identity/v2/auth/account/2fa/otp/email?emailid=: make one of the account's
    emails its email factor and send it a code (confirmed by .../verification/otp/email)."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(parameters=[OpenApiParameter("emailid", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True)], responses=IsPosted)
    def get(self, request):
        email = self.query.get_plus_preserving("emailid")
        if not email:
            raise required("emailid")
        known = {e.lower() for e in selectors.account_emails(account=self.account)}
        if email.lower() not in known:
            raise LRError(1340)
        services.otp_factor_set(tenant=self.tenant, actor=self.actor, account=self.account, channel="email", destination=email)
        services.otp_factor_code_send(
            tenant=self.tenant, account=self.account, channel="email", template=self.query.get("emailtemplate2fa") or ""
        )
        return self.respond({"IsPosted": True})


class MfaSecurityQuestionSetupView(LRAPIView):
    """PUT /identity/v2/auth/account/2fa/securityquestionanswer: set the caller's answers,
    as {"securityquestionanswer": {"<questionId>": "answer"}} or a list of
    {"QuestionId", "Answer"} objects.

    An account without a second factor gets them at once ({"IsPosted": true}). Otherwise they
    are held, a code goes to the primary email (the 2FA phone without an email) and the
    answer is {"IsPosted": true, "OTPStatus": {"IsPosted": true}}; the same PUT with
    {"otp": "<code>"} then puts them in force (1067 for a wrong, used or expired code)."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        request=inline_serializer("SecurityAnswers", {
            "securityquestionanswer": serializers.JSONField(required=False),
            "otp": serializers.CharField(required=False, help_text="Confirms answers held for confirmation"),
        }),
        responses=inline_serializer("SecurityAnswersPosted", {
            "IsPosted": serializers.BooleanField(),
            "OTPStatus": serializers.DictField(required=False, help_text="Present when the answers wait for the code"),
        }),
        parameters=[
            OpenApiParameter("emailtemplate2fa", OpenApiTypes.STR, OpenApiParameter.QUERY),
            OpenApiParameter("smstemplate2fa", OpenApiTypes.STR, OpenApiParameter.QUERY),
        ],
    )
    def put(self, request):
        body = self.body()
        if "otp" in body and "securityquestionanswer" not in body:
            otp = body.get("otp")
            if not otp or not isinstance(otp, str):
                raise required("otp")
            ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="otp_verify", key=self.account.uid)
            if not services.security_answers_confirm(tenant=self.tenant, actor=self.actor, account=self.account, code=otp):
                raise LRError(1067)
            return self.respond({"IsPosted": True})
        value = body.get("securityquestionanswer")
        answers: dict[str, str] = {}
        if hasattr(value, "items"):
            answers = {str(q): a for q, a in value.items()}
        elif isinstance(value, list):
            for item in value:
                if not isinstance(item, dict):
                    raise required("securityquestionanswer")
                lowered = {str(k).lower(): v for k, v in item.items()}
                answers[str(lowered.get("questionid", ""))] = lowered.get("answer")
        if not answers or not all(isinstance(a, str) for a in answers.values()):
            raise required("securityquestionanswer")
        pending = services.security_answers_request(
            tenant=self.tenant, actor=self.actor, account=self.account, answers=answers,
            email_template=self.query.get("emailtemplate2fa") or "", sms_template=self.query.get("smstemplate2fa") or "",
        )
        return self.respond({"IsPosted": True, "OTPStatus": {"IsPosted": True}} if pending else {"IsPosted": True})


# --------------------------------------------------------------------------- native: Duo configuration

DuoConfigOut = inline_serializer(
    "DuoConfiguration",
    {
        "client_id": serializers.CharField(),
        "api_host": serializers.CharField(),
        "enabled": serializers.BooleanField(),
        "modified": serializers.DateTimeField(),
    },
)
DuoConfigIn = inline_serializer(
    "DuoConfigurationWrite",
    {
        "client_id": serializers.CharField(),
        "client_secret": serializers.CharField(required=False, help_text="Write-only; required the first time, kept when omitted"),
        "api_host": serializers.CharField(help_text="api-XXXXXXXX.duosecurity.com, or api-XXXXXXXX.duofederal.com for Duo Federal; any other host is refused (1134)"),
        "enabled": serializers.BooleanField(required=False, help_text="Default: the stored value, or true"),
    },
)


def duo_config_json(config) -> dict:
    return {
        "client_id": config.client_id, "api_host": config.api_host, "enabled": config.enabled,
        "modified": config.modified.isoformat(),
    }


class DuoConfigView(LRAPIView):
    """/api/v1/security/duo: the tenant's Duo Universal Prompt application. The client
    secret is write-only: stored encrypted, never returned."""

    section = "security"

    @extend_schema(
        operation_id="security_duo_retrieve", tags=["Security"], responses=DuoConfigOut,
        description="The tenant's Duo application without its secret; 404 when none is configured.",
    )
    def get(self, request):
        config = selectors.duo_config_get(tenant=self.tenant)
        if config is None:
            raise LRError(404, "Duo is not configured for this tenant.")
        return self.respond(duo_config_json(config))

    @extend_schema(
        operation_id="security_duo_update", tags=["Security"], request=DuoConfigIn, responses=DuoConfigOut,
        description="Creates or changes the Duo application; checked by the Duo client's rules "
        "(1134 with Errors). While enabled, every sign-in of the tenant needs Duo. Audited.",
    )
    def put(self, request):
        body = self.body()
        current = selectors.duo_config_get(tenant=self.tenant)
        errors = {}
        values = {}
        for name in ("client_id", "client_secret", "api_host"):
            value = body.get(name)
            if value is None:
                continue
            if not isinstance(value, str):
                errors[name] = "Must be a string."
            values[name] = value
        if body.get("ca_bundle") not in (None, ""):  # Duo's pinned CAs are the only trust
            errors["ca_bundle"] = "Custom CA bundles are not accepted; Duo's own pinned certificates are always used."
        for name in ("client_id", "api_host"):
            if not values.get(name) and name not in errors:
                errors[name] = "This field is required."
        if current is None and not values.get("client_secret") and "client_secret" not in errors:
            errors["client_secret"] = "This field is required."
        if errors:
            raise field_errors(errors)
        enabled = parse_bool(body.get("enabled"), name="enabled") if body.get("enabled") is not None else (
            current.enabled if current else True
        )
        config = services.duo_config_set(
            tenant=self.tenant, actor=self.actor, client_id=values["client_id"],
            client_secret=values.get("client_secret") or None, api_host=values["api_host"],
            enabled=enabled,
        )
        return self.respond(duo_config_json(config))

    @extend_schema(
        operation_id="security_duo_destroy", tags=["Security"], request=None, responses={204: None},
        parameters=[OpenApiParameter("reason", OpenApiTypes.STR, OpenApiParameter.QUERY, description="Kept in the audit log.")],
        description="Removes the Duo application (404 when none): sign-ins stop asking for Duo. Audited.",
    )
    def delete(self, request):
        services.duo_config_delete(tenant=self.tenant, actor=self.actor, reason=self.query.get("reason") or "")
        return self.respond(None, status=204, project=False)

"""Second-factor setup by the account: authenticator, SMS and email codes, security answers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from portal import ratelimit
from portal.lrapi.errors import LRError, required
from portal.lrapi.views import LRAPIView
from security import selectors, services
from security.api.views.common import (
    METHOD_BODY_KEY,
    TAG_MFA,
    A,
    IsPosted,
    Operation,
    RoutedOperationSchema,
)
from security.commands import OtpFactorSet, SecurityAnswersRequest, TotpEnroll


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
    uri = (
        services.totp_provisioning_uri(tenant=tenant, account=account, secret_b32=secret)
        if secret
        else None
    )
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

    @extend_schema(
        tags=TAG_MFA,
        operation_id="mfaConfigureByAccessToken",
        summary="The caller's second factors, and a new authenticator seed while none is confirmed",
        responses=MfaSettings,
    )
    def get(self, request):
        secret = services.totp_enroll(
            TotpEnroll(), tenant=self.tenant, actor=self.actor, account=self.account
        )
        return self.respond(
            mfa_settings_json(tenant=self.tenant, account=self.account, secret=secret)
        )

    @extend_schema(
        tags=TAG_MFA,
        operation_id="mfaUpdatePhoneNumberByToken",
        summary="Set the phone number of the caller's SMS factor and send it a code",
        request=inline_serializer("PhoneNo2FA", {"phoneno2fa": serializers.CharField()}),
        responses=MfaSettings,
    )
    def put(self, request):
        phone = self.body().get("phoneno2fa")
        if not phone or not isinstance(phone, str):
            raise required("phoneno2fa")
        phone = phone.strip()
        if not phone.startswith("+") or not phone[1:].isdigit() or not 8 <= len(phone) <= 16:
            raise LRError(1096)
        services.otp_factor_set(
            OtpFactorSet(channel="sms", destination=phone),
            tenant=self.tenant,
            actor=self.actor,
            account=self.account,
        )
        services.otp_factor_code_send(
            tenant=self.tenant,
            account=self.account,
            channel="sms",
            template=self.query.get("smstemplate2fa") or "",
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
    schema = RoutedOperationSchema()
    operations = {
        ("PUT", f"{A}/account/2fa/verification/authenticatorcode"): Operation(
            "mfaVerifyAuthenticatorCode",
            "Confirm the caller's authenticator with its first code",
            TAG_MFA,
        ),
        ("PUT", f"{A}/account/2fa/verification/otp"): Operation(
            "mfaUpdateSetting", "Confirm the caller's SMS factor with the code sent to it", TAG_MFA
        ),
        ("PUT", f"{A}/account/2fa/verification/otp/email"): Operation(
            "mfaValidateEmailOtpByAccessToken",
            "Confirm the caller's email factor with the code sent to it",
            TAG_MFA,
        ),
    }

    @extend_schema(
        request=inline_serializer(
            "MfaSetupVerify",
            {"code": serializers.CharField(help_text="authenticatorcode or otp, by path")},
        ),
        responses=MfaSettings,
    )
    def put(self, request):
        body = self.body()
        key = METHOD_BODY_KEY[self.method]
        value = body.get(key)
        if not value or not isinstance(value, str):
            raise required(key)
        ratelimit.sensitive_operation_hit(
            tenant=self.tenant, operation="otp_verify", key=self.account.uid
        )
        if self.method == "authenticatorcode":
            ok, code = services.totp_confirm(account=self.account, code=value), 1102
        else:
            channel = "email" if self.method == "emailotp" else "sms"
            ok = services.otp_factor_confirm(
                tenant=self.tenant,
                actor=self.actor,
                account=self.account,
                channel=channel,
                code=value,
            )
            code = 1067
        if not ok:
            raise LRError(code)
        return self.respond(
            mfa_settings_json(tenant=self.tenant, account=self.account, secret=None)
        )


class MfaEmailOtpSetupView(LRAPIView):
    """GET /identity/v2/auth/account/2fa/otp/email?emailid=: make one of the account's
    emails its email factor and send it a code (confirmed by .../verification/otp/email)."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        tags=TAG_MFA,
        operation_id="mfaEmailOtpByAccessToken",
        summary="Make one of the caller's emails its email factor and send it a code",
        parameters=[
            OpenApiParameter("emailid", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True)
        ],
        responses=IsPosted,
    )
    def get(self, request):
        email = self.query.get_plus_preserving("emailid")
        if not email:
            raise required("emailid")
        known = {e.lower() for e in selectors.account_emails(account=self.account)}
        if email.lower() not in known:
            raise LRError(1340)
        services.otp_factor_set(
            OtpFactorSet(channel="email", destination=email),
            tenant=self.tenant,
            actor=self.actor,
            account=self.account,
        )
        services.otp_factor_code_send(
            tenant=self.tenant,
            account=self.account,
            channel="email",
            template=self.query.get("emailtemplate2fa") or "",
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
        tags=TAG_MFA,
        operation_id="mfaSecurityQuestionAnswerByAccessToken",
        summary="Set the caller's security answers (confirmed by a code when it has a second factor)",
        request=inline_serializer(
            "SecurityAnswers",
            {
                "securityquestionanswer": serializers.JSONField(required=False),
                "otp": serializers.CharField(
                    required=False, help_text="Confirms answers held for confirmation"
                ),
            },
        ),
        responses=inline_serializer(
            "SecurityAnswersPosted",
            {
                "IsPosted": serializers.BooleanField(),
                "OTPStatus": serializers.DictField(
                    required=False, help_text="Present when the answers wait for the code"
                ),
            },
        ),
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
            ratelimit.sensitive_operation_hit(
                tenant=self.tenant, operation="otp_verify", key=self.account.uid
            )
            if not services.security_answers_confirm(
                tenant=self.tenant, actor=self.actor, account=self.account, code=otp
            ):
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
        command = SecurityAnswersRequest(
            answers=answers,
            email_template=self.query.get("emailtemplate2fa") or "",
            sms_template=self.query.get("smstemplate2fa") or "",
        )
        pending = services.security_answers_request(
            command, tenant=self.tenant, actor=self.actor, account=self.account
        )
        return self.respond(
            {"IsPosted": True, "OTPStatus": {"IsPosted": True}} if pending else {"IsPosted": True}
        )

"""The consuming side of multipurpose tokens, on the Authentication API paths (API key
only): verify an email or phone, reset a password, delete the account."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from accounts import selectors as account_selectors
from flows import token_consumption
from portal import ratelimit
from portal.lrapi.errors import required
from portal.lrapi.views import LRAPIView
from tokens.api.multipurpose.params import ERROR, phone_e164, query_param, required_text
from tokens.services import multipurpose as service

AUTH_TAG = ["Authentication (token use)"]
_POSTED = inline_serializer("IsPosted", {"IsPosted": serializers.BooleanField()})


def _required_password(body) -> str:
    """The new password as sent (never stripped: spaces may be part of it)."""
    password = body.get("password")
    if not isinstance(password, str) or not password:
        raise required("password")
    return password


class EmailVerifyByTokenView(LRAPIView):
    """Verify an email with the token from a verification (or add-email) message."""

    section = "tokens"
    auth_mode = "apikey"

    @extend_schema(
        operation_id="verifyEmail",
        tags=AUTH_TAG,
        parameters=[
            query_param("verificationtoken", "Token from the verification email", required_=True),
            query_param("url", "Site URL (logged only)"),
            query_param("welcomeemailtemplate", "Welcome email template (not sent)"),
        ],
        responses={
            200: inline_serializer(
                "EmailVerified",
                {
                    "IsPosted": serializers.BooleanField(),
                    "Data": serializers.DictField(allow_null=True),
                },
            ),
            400: ERROR,
            403: ERROR,
        },
    )
    def get(self, request):
        value = required_text(self.query, "verificationtoken")
        token_consumption.email_verify_by_token(tenant=self.tenant, value=value)
        return self.respond({"IsPosted": True, "Data": None})


class PasswordResetByTokenView(LRAPIView):
    """Set a new password with a forgot-password token."""

    section = "tokens"
    auth_mode = "apikey"

    @extend_schema(
        operation_id="resetPasswordByResetToken",
        tags=AUTH_TAG,
        request=inline_serializer(
            "ResetPasswordByResetToken",
            {
                "resettoken": serializers.CharField(),
                "password": serializers.CharField(),
                "welcomeemailtemplate": serializers.CharField(required=False),
                "resetpasswordemailtemplate": serializers.CharField(required=False),
            },
        ),
        responses={200: _POSTED, 400: ERROR, 403: ERROR},
    )
    def put(self, request):
        body = self.body()
        value = required_text(body, "resettoken")
        password = _required_password(body)
        token_consumption.password_reset_by_token(
            tenant=self.tenant, value=value, password=password
        )
        return self.respond({"IsPosted": True})


class PasswordResetByOtpView(LRAPIView):
    """Set a new password with a forgot-password SMS OTP."""

    section = "tokens"
    auth_mode = "apikey"

    @extend_schema(
        operation_id="resetPasswordByPhoneOTP",
        tags=AUTH_TAG,
        request=inline_serializer(
            "ResetPasswordByOtp",
            {
                "phone": serializers.CharField(),
                "otp": serializers.CharField(),
                "password": serializers.CharField(),
            },
        ),
        responses={200: _POSTED, 400: ERROR, 403: ERROR},
    )
    def put(self, request):
        body = self.body()
        phone = phone_e164(body.get("phone"))
        otp = required_text(body, "otp")
        password = _required_password(body)
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="otp_verify", key=phone)
        token_consumption.password_reset_by_otp(
            tenant=self.tenant, phone=phone, otp=otp, password=password
        )
        return self.respond({"IsPosted": True})


class PhoneVerifyByOtpView(LRAPIView):
    """Verify a phone number with the OTP sent to it."""

    section = "tokens"
    auth_mode = "apikey"

    @extend_schema(
        operation_id="phoneVerificationByOTP",
        tags=AUTH_TAG,
        parameters=[
            query_param("otp", "The OTP", required_=True),
            query_param("smstemplate", "SMS template name"),
        ],
        request=inline_serializer("PhoneBody", {"phone": serializers.CharField()}),
        responses={
            200: inline_serializer(
                "PhoneVerifiedSession",
                {
                    "access_token": serializers.CharField(),
                    "refresh_token": serializers.CharField(),
                    "expires_in": serializers.CharField(),
                    "Profile": serializers.DictField(),
                },
            ),
            400: ERROR,
            403: ERROR,
        },
    )
    def put(self, request):
        otp = required_text(self.query, "otp")
        phone = phone_e164(self.body().get("phone"))
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="otp_verify", key=phone)
        account, session = token_consumption.phone_verify_by_otp(
            tenant=self.tenant,
            phone=phone,
            otp=otp,
            device={
                "user_agent": request.headers.get("X-Origin-User-Agent")
                or request.headers.get("User-Agent", "")
            },
        )
        return self.respond(
            {
                "access_token": session.access_token,
                "refresh_token": session.refresh_token,
                "expires_in": service.lr_datetime(session.access_expires_at),
                "Profile": account_selectors.account_profile(account=account),
            }
        )


class AccountDeleteByTokenView(LRAPIView):
    """Delete an account with the token from a delete-confirmation email."""

    section = "tokens"
    auth_mode = "apikey"

    @extend_schema(
        operation_id="deleteAccountByDeleteToken",
        tags=AUTH_TAG,
        parameters=[query_param("deletetoken", "Token from the delete email", required_=True)],
        responses={200: _POSTED, 400: ERROR, 403: ERROR},
    )
    def get(self, request):
        value = required_text(self.query, "deletetoken")
        token_consumption.account_delete_by_token(tenant=self.tenant, value=value)
        return self.respond({"IsPosted": True})

"""Multipurpose Tokens (management API), their consuming side on the Authentication API
paths, and the native delivery-status listing. Views parse, call a service, shape."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers

from accounts import selectors as account_selectors
from accounts.models import Account, AccountEmail
from portal import ratelimit
from portal.lrapi.errors import LRError, required
from portal.lrapi.views import LRAPIView
from tokens.models import MultipurposeToken, OutboxMessage
from tokens.services import multipurpose as service

TAG = ["Multipurpose Tokens"]
AUTH_TAG = ["Authentication (token use)"]


# ---------------------------------------------------------------------------------------
# Input helpers
# ---------------------------------------------------------------------------------------


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _required_text(source, name: str) -> str:
    """`name` from a query or body, stripped; 908-style "required" when absent or blank."""
    value = _text(source.get(name))
    if not value:
        raise required(name)
    return value


def _required_password(body) -> str:
    """The new password as sent (never stripped: spaces may be part of it)."""
    password = body.get("password")
    if not isinstance(password, str) or not password:
        raise required("password")
    return password


def _name_data(body) -> dict:
    """The optional `name` a message greets the recipient with."""
    name = _text(body.get("name"))
    return {"name": name} if name else {}


def _account_by_body_uid(tenant, body) -> Account:
    return account_selectors.account_get(tenant=tenant, uid=_text(body.get("uid")))


def _email(value) -> str:
    email = _text(value)
    if not email:
        raise required("email")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise LRError(1038) from exc
    return email


def _phone(value) -> str:
    import phonenumbers

    phone = _text(value).replace(" ", "")
    if not phone:
        raise required("phone")
    try:
        parsed = phonenumbers.parse(phone if phone.startswith("+") else "+" + phone, None)
    except phonenumbers.NumberParseException as exc:
        raise LRError(1096) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise LRError(1096)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _account_by_username(tenant, username: str) -> Account:
    selector = getattr(account_selectors, "account_get_by_username", None)
    if selector is not None:
        return selector(tenant=tenant, username=username)
    account = Account.objects.filter(tenant=tenant, username__iexact=username).first()
    if account is None:
        raise LRError(938)
    return account


def _account_by_phone(tenant, phone: str) -> Account:
    selector = getattr(account_selectors, "account_get_by_phone", None)
    if selector is not None:
        return selector(tenant=tenant, phone=phone)
    account = Account.objects.filter(tenant=tenant, phone_id=phone).first()
    if account is None:
        raise LRError(938)
    return account


def _primary_email(account: Account) -> str:
    emails = list(account.emails.all())
    primary = next((e for e in emails if e.type.lower() == "primary"), emails[0] if emails else None)
    if primary is None:
        raise LRError(1039)
    return primary.value


def _account_and_email(tenant, body, *, allow_username: bool) -> tuple[Account, str]:
    """The account named by `email` (or `username`) in the body, and the email to use."""
    if body.get("email") not in (None, ""):
        email = _email(body.get("email"))
        return account_selectors.account_get_by_email(tenant=tenant, email=email), email
    username = _text(body.get("username"))
    if allow_username and username:
        account = _account_by_username(tenant, username)
        return account, _primary_email(account)
    raise required("email")


def _identity_providers(account: Account) -> list[str]:
    identities = account.profile.get("Identities") if isinstance(account.profile, dict) else None
    providers = [i.get("Provider") for i in identities or [] if isinstance(i, dict) and i.get("Provider")]
    return sorted(set(providers))


def _email_template(value) -> str:
    return _text(value)


def _token_send_hit(tenant, destination: str) -> None:
    """Count one token sent to `destination` (429 once the tenant's per-account limit of
    token sends is reached), before anything is issued or queued."""
    ratelimit.sensitive_operation_hit(tenant=tenant, operation="token_send", key=destination)


# ---------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------

_ERROR = inline_serializer(
    "LoginRadiusError",
    {
        "Description": serializers.CharField(),
        "ErrorCode": serializers.IntegerField(),
        "Message": serializers.CharField(),
        "IsProviderError": serializers.BooleanField(),
        "ProviderErrorResponse": serializers.CharField(allow_null=True),
    },
)
_EMAIL_BODY = inline_serializer(
    "MultipurposeEmailBody",
    {
        "email": serializers.EmailField(required=False),
        "username": serializers.CharField(required=False),
        "uid": serializers.CharField(required=False),
        "type": serializers.CharField(required=False),
        "ClientGuid": serializers.CharField(required=False),
        "Name": serializers.CharField(required=False),
    },
)
_VERIFICATION_TOKEN = inline_serializer(
    "VerificationToken",
    {"VerificationToken": serializers.CharField(), "expires_in": serializers.CharField()},
)
_POSTED = inline_serializer("IsPosted", {"IsPosted": serializers.BooleanField()})
_FLAG = OpenApiTypes.STR


def _q(name: str, description: str, *, required_: bool = False, type_=_FLAG) -> OpenApiParameter:
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, required=required_, description=description)


# ---------------------------------------------------------------------------------------
# Management endpoints
# ---------------------------------------------------------------------------------------


class ForgotPasswordTokenView(LRAPIView):
    """Generate a forgot-password token (and, with sendemail=true, email it)."""

    section = "tokens"

    @extend_schema(
        operation_id="forgotPasswordTokenAndEmail",
        tags=TAG,
        parameters=[
            _q("sendemail", "true: also send the forgot-password email", type_=OpenApiTypes.BOOL),
            _q("emailtemplate", "Email template name (templates/emails/<name>/)"),
            _q("resetpasswordurl", "Reset page the emailed link points at"),
        ],
        request=_EMAIL_BODY,
        responses={
            200: inline_serializer(
                "ForgotToken",
                {"ForgotToken": serializers.CharField(), "IdentityProviders": serializers.ListField(child=serializers.CharField())},
            ),
            400: _ERROR,
            403: _ERROR,
            429: _ERROR,
        },
    )
    def post(self, request):
        body = self.body()
        send = self.query.get_bool("sendemail")
        account, email = _account_and_email(self.tenant, body, allow_username=True)
        _token_send_hit(self.tenant, email)
        issued = service.token_issue(
            tenant=self.tenant, account=account, actor=self.actor, kind=MultipurposeToken.KIND_EMAIL,
            purpose="forgotpassword", destination=email, send=send,
            template=_email_template(self.query.get("emailtemplate")),
            link_base=_text(self.query.get("resetpasswordurl")),
        )
        return self.respond({"ForgotToken": issued.value, "IdentityProviders": _identity_providers(account)})


class EmailVerificationTokenView(LRAPIView):
    """v11: generate an email-verification token for an email of an account."""

    section = "tokens"

    @extend_schema(
        operation_id="getEmailVerificationToken",
        tags=TAG,
        request=inline_serializer("EmailBody", {"email": serializers.EmailField()}),
        responses={200: _VERIFICATION_TOKEN, 400: _ERROR, 403: _ERROR, 429: _ERROR},
    )
    def post(self, request):
        email = _email(self.body().get("email"))
        account = account_selectors.account_get_by_email(tenant=self.tenant, email=email)
        _token_send_hit(self.tenant, email)
        issued = service.token_issue(
            tenant=self.tenant, account=account, actor=self.actor, kind=MultipurposeToken.KIND_EMAIL,
            purpose="emailverification", destination=email,
        )
        return self.respond(
            {"VerificationToken": issued.value, "expires_in": service.lr_datetime(issued.expires_at)}
        )


class VerificationTokenView(LRAPIView):
    """v12: generate (and optionally send) an email-verification token."""

    section = "tokens"
    MAX_EXPIRES_IN = 365 * 24 * 3600

    @extend_schema(
        operation_id="getVerificationToken",
        tags=TAG,
        parameters=[
            _q("vtype", "Must be `email`", required_=True),
            _q("email", "The email to verify", required_=True),
            _q("expires_in", "Lifetime in seconds", type_=OpenApiTypes.INT),
            _q("sendemail", "true: also send the verification email", type_=OpenApiTypes.BOOL),
            _q("verificationurl", "Verification page the emailed link points at"),
            _q("emailtemplate", "Email template name"),
        ],
        responses={200: _VERIFICATION_TOKEN, 400: _ERROR, 403: _ERROR, 429: _ERROR},
    )
    def get(self, request):
        from datetime import timedelta

        vtype = _required_text(self.query, "vtype")
        if vtype.lower() != "email":
            raise LRError(1306)
        email = _email(self.query.get_plus_preserving("email"))
        lifetime = None
        raw = self.query.get("expires_in")
        if raw not in (None, ""):
            if not raw.strip().isdigit() or not 0 < int(raw) <= self.MAX_EXPIRES_IN:
                raise LRError(1307)
            lifetime = timedelta(seconds=int(raw))
        account = account_selectors.account_get_by_email(tenant=self.tenant, email=email)
        _token_send_hit(self.tenant, email)
        issued = service.token_issue(
            tenant=self.tenant, account=account, actor=self.actor, kind=MultipurposeToken.KIND_EMAIL,
            purpose="emailverification", destination=email, lifetime=lifetime,
            send=self.query.get_bool("sendemail"),
            template=_email_template(self.query.get("emailtemplate")),
            link_base=_text(self.query.get("verificationurl")),
        )
        return self.respond(
            {"VerificationToken": issued.value, "expires_in": service.lr_datetime(issued.expires_at)}
        )


class EmailTokenView(LRAPIView):
    """Generate a multipurpose email token of one of the eight types."""

    section = "tokens"

    @extend_schema(
        operation_id="multipurposeEmailTokenAPI",
        tags=TAG,
        parameters=[
            OpenApiParameter(
                "tokentype", OpenApiTypes.STR, OpenApiParameter.PATH,
                enum=list(service.EMAIL_TOKEN_TYPES), description="Token type",
            )
        ],
        request=_EMAIL_BODY,
        responses={
            200: inline_serializer(
                "MultiToken",
                {
                    "Token": serializers.CharField(),
                    "ExpiresIn": serializers.CharField(),
                    "IdentityProviders": serializers.ListField(child=serializers.CharField(), allow_null=True),
                },
            ),
            400: _ERROR,
            403: _ERROR,
            429: _ERROR,
        },
    )
    def post(self, request, tokentype: str = ""):
        tokentype = tokentype.strip().lower()
        if not tokentype:
            raise required("tokentype")
        if tokentype not in service.EMAIL_TOKEN_TYPES:
            raise LRError(1181)
        body = self.body()
        data: dict = {}
        if tokentype == "deleteuser":
            account = _account_by_body_uid(self.tenant, body)
            email = next(iter(account.emails.values_list("value", flat=True)), "")
        elif tokentype == "addemail":
            email = _email(body.get("email"))
            account = _account_by_body_uid(self.tenant, body)
            taken = AccountEmail.objects.filter(tenant=self.tenant, value__iexact=email).exclude(account=account)
            if taken.exists():
                raise LRError(936)
            data["type"] = _text(body.get("type")) or "Secondary"
        else:
            account, email = _account_and_email(
                self.tenant, body, allow_username=tokentype in ("forgotpassword", "passwordlesslogin", "autologin")
            )
            if tokentype in ("onetouchlogin", "autologin"):
                data["client_guid"] = _required_text(body, "clientguid")
            data.update(_name_data(body))
        _token_send_hit(self.tenant, email or account.uid)
        issued = service.token_issue(
            tenant=self.tenant, account=account, actor=self.actor, kind=MultipurposeToken.KIND_EMAIL,
            purpose=tokentype, destination=email, data=data,
        )
        return self.respond(
            {"Token": issued.value, "ExpiresIn": service.lr_datetime(issued.expires_at), "IdentityProviders": None}
        )


class SmsOtpView(LRAPIView):
    """Generate a multipurpose SMS OTP of one of the eight types."""

    section = "tokens"

    @extend_schema(
        operation_id="multipurposeSmsOtpAPI",
        tags=TAG,
        parameters=[
            OpenApiParameter(
                "smsotptype", OpenApiTypes.STR, OpenApiParameter.PATH,
                enum=list(service.SMS_OTP_TYPES), description="OTP type",
            )
        ],
        request=inline_serializer(
            "MultipurposeSmsBody",
            {"Phone": serializers.CharField(), "Uid": serializers.CharField(required=False), "Name": serializers.CharField(required=False)},
        ),
        responses={
            200: inline_serializer("MultiSmsToken", {"Token": serializers.CharField(), "ExpiresIn": serializers.CharField()}),
            400: _ERROR,
            403: _ERROR,
            429: _ERROR,
        },
    )
    def post(self, request, smsotptype: str = ""):
        smsotptype = smsotptype.strip().lower()
        if not smsotptype:
            raise required("smsotptype")
        if smsotptype not in service.SMS_OTP_TYPES:
            raise LRError(1181)
        body = self.body()
        phone = _phone(body.get("phone"))
        if smsotptype == "addphone":
            account = _account_by_body_uid(self.tenant, body)
            if Account.objects.filter(tenant=self.tenant, phone_id=phone).exclude(pk=account.pk).exists():
                raise LRError(1058)
        else:
            account = _account_by_phone(self.tenant, phone)
        data = _name_data(body)
        _token_send_hit(self.tenant, phone)
        issued = service.token_issue(
            tenant=self.tenant, account=account, actor=self.actor, kind=MultipurposeToken.KIND_SMS,
            purpose=smsotptype, destination=phone, data=data,
        )
        return self.respond({"Token": issued.value, "ExpiresIn": service.lr_datetime(issued.expires_at)})


# ---------------------------------------------------------------------------------------
# Consuming side (Authentication API paths, API key only)
# ---------------------------------------------------------------------------------------


class EmailVerifyByTokenView(LRAPIView):
    """Verify an email with the token from a verification (or add-email) message."""

    section = "tokens"
    auth_mode = "apikey"

    @extend_schema(
        operation_id="verifyEmail",
        tags=AUTH_TAG,
        parameters=[
            _q("verificationtoken", "Token from the verification email", required_=True),
            _q("url", "Site URL (logged only)"),
            _q("welcomeemailtemplate", "Welcome email template (not sent)"),
        ],
        responses={200: inline_serializer("EmailVerified", {"IsPosted": serializers.BooleanField(), "Data": serializers.DictField(allow_null=True)}), 400: _ERROR, 403: _ERROR},
    )
    def get(self, request):
        value = _required_text(self.query, "verificationtoken")
        service.email_verify_by_token(tenant=self.tenant, value=value)
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
            {"resettoken": serializers.CharField(), "password": serializers.CharField(),
             "welcomeemailtemplate": serializers.CharField(required=False),
             "resetpasswordemailtemplate": serializers.CharField(required=False)},
        ),
        responses={200: _POSTED, 400: _ERROR, 403: _ERROR},
    )
    def put(self, request):
        body = self.body()
        value = _required_text(body, "resettoken")
        password = _required_password(body)
        service.password_reset_by_token(tenant=self.tenant, value=value, password=password)
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
            {"phone": serializers.CharField(), "otp": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses={200: _POSTED, 400: _ERROR, 403: _ERROR},
    )
    def put(self, request):
        body = self.body()
        phone = _phone(body.get("phone"))
        otp = _required_text(body, "otp")
        password = _required_password(body)
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="otp_verify", key=phone)
        service.password_reset_by_otp(tenant=self.tenant, phone=phone, otp=otp, password=password)
        return self.respond({"IsPosted": True})


class PhoneVerifyByOtpView(LRAPIView):
    """Verify a phone number with the OTP sent to it."""

    section = "tokens"
    auth_mode = "apikey"

    @extend_schema(
        operation_id="phoneVerificationByOTP",
        tags=AUTH_TAG,
        parameters=[_q("otp", "The OTP", required_=True), _q("smstemplate", "SMS template name")],
        request=inline_serializer("PhoneBody", {"phone": serializers.CharField()}),
        responses={
            200: inline_serializer(
                "PhoneVerifiedSession",
                {"access_token": serializers.CharField(), "refresh_token": serializers.CharField(),
                 "expires_in": serializers.CharField(), "Profile": serializers.DictField()},
            ),
            400: _ERROR,
            403: _ERROR,
        },
    )
    def put(self, request):
        otp = _required_text(self.query, "otp")
        phone = _phone(self.body().get("phone"))
        ratelimit.sensitive_operation_hit(tenant=self.tenant, operation="otp_verify", key=phone)
        account, session = service.phone_verify_by_otp(
            tenant=self.tenant, phone=phone, otp=otp,
            device={"user_agent": request.headers.get("X-Origin-User-Agent") or request.headers.get("User-Agent", "")},
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
        parameters=[_q("deletetoken", "Token from the delete email", required_=True)],
        responses={200: _POSTED, 400: _ERROR, 403: _ERROR},
    )
    def get(self, request):
        value = _required_text(self.query, "deletetoken")
        service.account_delete_by_token(tenant=self.tenant, value=value)
        return self.respond({"IsPosted": True})


# ---------------------------------------------------------------------------------------
# Native API: delivery status
# ---------------------------------------------------------------------------------------


def message_as_dict(message: OutboxMessage) -> dict:
    return {
        "id": message.pk,
        "channel": message.channel,
        "template": message.template,
        "recipient": message.recipient,
        "status": message.status,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "provider_message_id": message.provider_message_id,
        "idempotency_key": str(message.idempotency_key),
        "created": message.created.isoformat(),
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "expires_at": message.expires_at.isoformat() if message.expires_at else None,
    }


_MESSAGE = inline_serializer(
    "OutboxMessage",
    {
        "id": serializers.IntegerField(),
        "channel": serializers.ChoiceField(choices=["email", "sms"]),
        "template": serializers.CharField(),
        "recipient": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["queued", "sending", "sent", "failed"]),
        "attempts": serializers.IntegerField(),
        "last_error": serializers.CharField(),
        "provider_message_id": serializers.CharField(),
        "idempotency_key": serializers.UUIDField(),
        "created": serializers.DateTimeField(),
        "sent_at": serializers.DateTimeField(allow_null=True),
        "expires_at": serializers.DateTimeField(allow_null=True),
    },
)


class MessageListView(LRAPIView):
    """Delivery status of the messages sent to an account, newest first."""

    section = "tokens"
    MAX_PAGE_SIZE = 200

    @extend_schema(
        operation_id="messages_list",
        tags=["Native"],
        parameters=[
            _q("uid", "Account UID", required_=True),
            _q("page", "Page number (1-based)", type_=OpenApiTypes.INT),
            _q("page_size", "Items per page (max 200)", type_=OpenApiTypes.INT),
            _q("status", "Only messages with this status"),
        ],
        responses={
            200: inline_serializer(
                "OutboxMessagePage",
                {
                    "count": serializers.IntegerField(),
                    "page": serializers.IntegerField(),
                    "page_size": serializers.IntegerField(),
                    "results": _MESSAGE.__class__(many=True),
                },
            ),
            400: _ERROR,
            403: _ERROR,
        },
    )
    def get(self, request):
        account = account_selectors.account_get(tenant=self.tenant, uid=_text(self.query.get("uid")))
        page = self._int("page", 1, minimum=1)
        size = min(self._int("page_size", 50, minimum=1), self.MAX_PAGE_SIZE)
        status = _text(self.query.get("status")).lower()
        if status and status not in dict(OutboxMessage.STATUSES):
            raise LRError(908, "The status must be one of queued, sending, sent, failed.")
        rows = service.account_messages_list(tenant=self.tenant, account=account, status=status)
        total = rows.count()
        items = rows[(page - 1) * size : page * size]
        return self.respond(
            {"count": total, "page": page, "page_size": size, "results": [message_as_dict(m) for m in items]}
        )

    def _int(self, name: str, default: int, *, minimum: int) -> int:
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        if not raw.strip().isdigit() or int(raw) < minimum:
            raise LRError(908, f"The {name} must be a whole number of at least {minimum}.")
        return int(raw)


@extend_schema_view(post=extend_schema(exclude=True))
class EmailTokenMissingTypeView(EmailTokenView):
    """`emailtoken` without a type: answers 908 like LoginRadius."""


@extend_schema_view(post=extend_schema(exclude=True))
class SmsOtpMissingTypeView(SmsOtpView):
    """`smsotp` without a type: answers 908 like LoginRadius."""

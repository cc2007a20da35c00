"""Multipurpose email tokens (management API): forgot-password, email-verification and
the eight typed email tokens, each optionally emailed."""

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
from portal.lrapi.errors import LRError, required
from portal.lrapi.views import LRAPIView
from tokens.api.multipurpose.params import (
    ERROR,
    account_by_body_uid,
    name_data,
    query_param,
    required_text,
    stripped_text,
    token_send_hit,
)
from tokens.commands import TokenIssue
from tokens.models import MultipurposeToken
from tokens.services import multipurpose as service

TAG = ["Multipurpose Tokens"]


def _email(value) -> str:
    email = stripped_text(value)
    if not email:
        raise required("email")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise LRError(1038) from exc
    return email


def _primary_email(account: Account) -> str:
    emails = list(account.emails.all())
    primary = next(
        (e for e in emails if e.type.lower() == "primary"), emails[0] if emails else None
    )
    if primary is None:
        raise LRError(1039)
    return primary.value


def _account_and_email(tenant, body, *, allow_username: bool) -> tuple[Account, str]:
    """The account named by `email` (or `username`) in the body, and the email to use."""
    if body.get("email") not in (None, ""):
        email = _email(body.get("email"))
        return account_selectors.account_get_by_email(tenant=tenant, email=email), email
    username = stripped_text(body.get("username"))
    if allow_username and username:
        account = account_selectors.account_get_by_username(tenant=tenant, username=username)
        return account, _primary_email(account)
    raise required("email")


def _identity_providers(tenant, account: Account) -> list[str]:
    """The providers of the account's linked identities (`["Facebook"]`), so the caller can
    tell a user who signs in through a provider that a password reset will not help."""
    return account_selectors.account_identity_providers(tenant=tenant, account=account)


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


class ForgotPasswordTokenView(LRAPIView):
    """Generate a forgot-password token (and, with sendemail=true, email it)."""

    section = "tokens"

    @extend_schema(
        operation_id="forgotPasswordTokenAndEmail",
        tags=TAG,
        parameters=[
            query_param(
                "sendemail", "true: also send the forgot-password email", type_=OpenApiTypes.BOOL
            ),
            query_param("emailtemplate", "Email template name (templates/emails/<name>/)"),
            query_param("resetpasswordurl", "Reset page the emailed link points at"),
        ],
        request=_EMAIL_BODY,
        responses={
            200: inline_serializer(
                "ForgotToken",
                {
                    "ForgotToken": serializers.CharField(),
                    "IdentityProviders": serializers.ListField(child=serializers.CharField()),
                },
            ),
            400: ERROR,
            403: ERROR,
            429: ERROR,
        },
    )
    def post(self, request):
        body = self.body()
        send = self.query.get_bool("sendemail")
        account, email = _account_and_email(self.tenant, body, allow_username=True)
        if send:  # a token only handed back sends nothing: no per-destination send limit
            token_send_hit(self.tenant, email)
        issued = service.token_issue(
            TokenIssue(
                kind=MultipurposeToken.KIND_EMAIL,
                purpose="forgotpassword",
                destination=email,
                send=send,
                template=stripped_text(self.query.get("emailtemplate")),
                link_base=stripped_text(self.query.get("resetpasswordurl")),
            ),
            tenant=self.tenant,
            account=account,
            actor=self.actor,
        )
        return self.respond(
            {
                "ForgotToken": issued.value,
                "IdentityProviders": _identity_providers(self.tenant, account),
            }
        )


class EmailVerificationTokenView(LRAPIView):
    """v11: generate an email-verification token for an email of an account."""

    section = "tokens"

    @extend_schema(
        operation_id="getEmailVerificationToken",
        tags=TAG,
        request=inline_serializer("EmailBody", {"email": serializers.EmailField()}),
        responses={200: _VERIFICATION_TOKEN, 400: ERROR, 403: ERROR, 429: ERROR},
    )
    def post(self, request):
        email = _email(self.body().get("email"))
        account = account_selectors.account_get_by_email(tenant=self.tenant, email=email)
        issued = service.token_issue(  # handed back, never sent: no send limits
            TokenIssue(
                kind=MultipurposeToken.KIND_EMAIL,
                purpose="emailverification",
                destination=email,
            ),
            tenant=self.tenant,
            account=account,
            actor=self.actor,
        )
        return self.respond(
            {
                "VerificationToken": issued.value,
                "expires_in": service.lr_datetime(issued.expires_at),
            }
        )


class VerificationTokenView(LRAPIView):
    """v12: generate (and optionally send) an email-verification token."""

    section = "tokens"
    MAX_EXPIRES_IN = 365 * 24 * 3600

    @extend_schema(
        operation_id="getVerificationToken",
        tags=TAG,
        parameters=[
            query_param("vtype", "Must be `email`", required_=True),
            query_param("email", "The email to verify", required_=True),
            query_param("expires_in", "Lifetime in seconds", type_=OpenApiTypes.INT),
            query_param(
                "sendemail", "true: also send the verification email", type_=OpenApiTypes.BOOL
            ),
            query_param("verificationurl", "Verification page the emailed link points at"),
            query_param("emailtemplate", "Email template name"),
        ],
        responses={200: _VERIFICATION_TOKEN, 400: ERROR, 403: ERROR, 429: ERROR},
    )
    def get(self, request):
        vtype = required_text(self.query, "vtype")
        if vtype.lower() != "email":
            raise LRError(1306)
        email = _email(self.query.get_plus_preserving("email"))
        lifetime_seconds = None
        raw = self.query.get("expires_in")
        if raw not in (None, ""):
            if not raw.strip().isdigit() or not 0 < int(raw) <= self.MAX_EXPIRES_IN:
                raise LRError(1307)
            lifetime_seconds = int(raw)
        account = account_selectors.account_get_by_email(tenant=self.tenant, email=email)
        send = self.query.get_bool("sendemail")
        if send:  # a token only handed back sends nothing: no per-destination send limit
            token_send_hit(self.tenant, email)
        issued = service.token_issue(
            TokenIssue(
                kind=MultipurposeToken.KIND_EMAIL,
                purpose="emailverification",
                destination=email,
                lifetime_seconds=lifetime_seconds,
                send=send,
                template=stripped_text(self.query.get("emailtemplate")),
                link_base=stripped_text(self.query.get("verificationurl")),
            ),
            tenant=self.tenant,
            account=account,
            actor=self.actor,
        )
        return self.respond(
            {
                "VerificationToken": issued.value,
                "expires_in": service.lr_datetime(issued.expires_at),
            }
        )


class EmailTokenView(LRAPIView):
    """Generate a multipurpose email token of one of the eight types."""

    section = "tokens"

    @extend_schema(
        operation_id="multipurposeEmailTokenAPI",
        tags=TAG,
        parameters=[
            OpenApiParameter(
                "tokentype",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(service.EMAIL_TOKEN_TYPES),
                description="Token type",
            )
        ],
        request=_EMAIL_BODY,
        responses={
            200: inline_serializer(
                "MultiToken",
                {
                    "Token": serializers.CharField(),
                    "ExpiresIn": serializers.CharField(),
                    "IdentityProviders": serializers.ListField(
                        child=serializers.CharField(), allow_null=True
                    ),
                },
            ),
            400: ERROR,
            403: ERROR,
            429: ERROR,
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
            account = account_by_body_uid(self.tenant, body)
            email = next(iter(account.emails.values_list("value", flat=True)), "")
        elif tokentype == "addemail":
            email = _email(body.get("email"))
            account = account_by_body_uid(self.tenant, body)
            taken = AccountEmail.objects.filter(tenant=self.tenant, value__iexact=email).exclude(
                account=account
            )
            if taken.exists():
                raise LRError(936)
            data["type"] = stripped_text(body.get("type")) or "Secondary"
        else:
            account, email = _account_and_email(
                self.tenant,
                body,
                allow_username=tokentype in ("forgotpassword", "passwordlesslogin", "autologin"),
            )
            if tokentype in ("onetouchlogin", "autologin"):
                data["client_guid"] = required_text(body, "clientguid")
            data.update(name_data(body))
        issued = service.token_issue(  # handed back, never sent: no send limits
            TokenIssue(
                kind=MultipurposeToken.KIND_EMAIL,
                purpose=tokentype,
                destination=email,
                data=data,
            ),
            tenant=self.tenant,
            account=account,
            actor=self.actor,
        )
        return self.respond(
            {
                "Token": issued.value,
                "ExpiresIn": service.lr_datetime(issued.expires_at),
                "IdentityProviders": _identity_providers(self.tenant, account) or None,
            }
        )


@extend_schema_view(post=extend_schema(exclude=True))
class EmailTokenMissingTypeView(EmailTokenView):
    """`emailtoken` without a type: answers 908 like LoginRadius."""

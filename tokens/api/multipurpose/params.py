"""What the multipurpose token views share: reading their parameters, finding the
account, the per-destination send limit, and the pieces of their schemas."""

import phonenumbers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from accounts import selectors as account_selectors
from accounts.models import Account
from portal import ratelimit
from portal.lrapi.errors import LRError, required

__all__ = [
    "ERROR",
    "account_by_body_uid",
    "name_data",
    "phone_e164",
    "query_param",
    "required_text",
    "stripped_text",
    "token_send_hit",
]


def stripped_text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def required_text(source, name: str) -> str:
    """`name` from a query or body, stripped; 908-style "required" when absent or blank."""
    value = stripped_text(source.get(name))
    if not value:
        raise required(name)
    return value


def name_data(body) -> dict:
    """The optional `name` a message greets the recipient with."""
    name = stripped_text(body.get("name"))
    return {"name": name} if name else {}


def account_by_body_uid(tenant, body) -> Account:
    return account_selectors.account_get(tenant=tenant, uid=stripped_text(body.get("uid")))


def phone_e164(value) -> str:
    phone = stripped_text(value).replace(" ", "")
    if not phone:
        raise required("phone")
    try:
        parsed = phonenumbers.parse(phone if phone.startswith("+") else "+" + phone, None)
    except phonenumbers.NumberParseException as exc:
        raise LRError(1096) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise LRError(1096)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def token_send_hit(tenant, destination: str) -> None:
    """Count one token sent to `destination` (429 once the tenant's per-account limit of
    token sends is reached), before anything is issued or queued. Only a call that sends a
    message counts: a token or OTP only handed back to the caller is limited by the API
    rate limits of its credential alone."""
    ratelimit.sensitive_operation_hit(tenant=tenant, operation="token_send", key=destination)


# ---------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------

ERROR = inline_serializer(
    "LoginRadiusError",
    {
        "Description": serializers.CharField(),
        "ErrorCode": serializers.IntegerField(),
        "Message": serializers.CharField(),
        "IsProviderError": serializers.BooleanField(),
        "ProviderErrorResponse": serializers.CharField(allow_null=True),
    },
)
_FLAG = OpenApiTypes.STR


def query_param(
    name: str, description: str, *, required_: bool = False, type_=_FLAG
) -> OpenApiParameter:
    return OpenApiParameter(
        name, type_, OpenApiParameter.QUERY, required=required_, description=description
    )

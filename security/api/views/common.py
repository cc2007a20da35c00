"""What several security views share: OpenAPI parameters and bodies, the date format of
the wire, and the check of a second factor named in a request body."""

from collections.abc import Callable
from typing import NamedTuple

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from portal.lrapi.errors import LRError, required
from security import services

# OpenAPI tags, after the grouping of the LoginRadius API reference.
TAG_AUTHENTICATION = ["Authentication"]
TAG_ACCOUNTS = ["Accounts"]
TAG_ACCOUNT_SECURITY = ["Account Security"]
TAG_MFA = ["Multi-factor Authentication"]
TAG_REAUTH = ["Reauthentication"]
TAG_PASSKEYS = ["Passkeys"]

A = "/identity/v2/auth"
M = "/identity/v2/manage/account"


class Operation(NamedTuple):
    operation_id: str
    summary: str
    tags: list[str]


class RoutedOperationSchema(AutoSchema):
    """The OpenAPI operation of a view class routed on several paths (one handler, given
    another method or factor by `as_view(...)`): its operationId, summary and tags come
    from the view's `operations`, keyed by HTTP method and path."""

    def _routed(self) -> Operation | None:
        return getattr(self.view, "operations", {}).get((self.method, self.path))

    def get_operation_id(self) -> str:
        routed = self._routed()
        return routed.operation_id if routed else super().get_operation_id()

    def get_summary(self) -> str | None:
        routed = self._routed()
        return routed.summary if routed else super().get_summary()

    def get_tags(self) -> list[str]:
        routed = self._routed()
        return list(routed.tags) if routed else super().get_tags()


UID_QUERY = OpenApiParameter(
    "uid", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True, description="Account UID"
)
UID_PATH = OpenApiParameter("uid", OpenApiTypes.STR, OpenApiParameter.PATH)
TOKEN_QUERY = OpenApiParameter(
    "secondfactorauthenticationtoken", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True
)

IsDeleted = inline_serializer("SecurityIsDeleted", {"IsDeleted": serializers.BooleanField()})
IsPosted = inline_serializer("SecurityIsPosted", {"IsPosted": serializers.BooleanField()})
IsValid = inline_serializer("SecurityIsValid", {"IsValid": serializers.BooleanField()})
ValidationToken = inline_serializer(
    "SecondFactorValidationToken",
    {
        "SecondFactorValidationToken": serializers.CharField(),
        "ExpireIn": serializers.DateTimeField(),
    },
)


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# The body key each second-factor method reads, and how it is checked.
METHOD_BODY_KEY = {
    "authenticatorcode": "authenticatorcode",
    "backupcode": "backupcode",
    "otp": "otp",
    "emailotp": "otp",
    "securityquestion": "securityquestionanswer",
}


def second_factor_check(
    *, account, method: str, body, on_wrong: Callable[[], None] | None = None
) -> None:
    """Verify the second factor `method` named in `body`, or raise its LoginRadius error.
    `on_wrong` runs when a value was given and did not verify (not when one is missing)."""
    key = METHOD_BODY_KEY[method]
    value = body.get(key)
    if method == "securityquestion":
        if not value or not hasattr(value, "items"):
            raise required(key)
        answers = {str(q): a for q, a in value.items()}
        if not all(isinstance(a, str) for a in answers.values()):
            raise required(key)
        if not services.security_answers_verify(account=account, answers=answers):
            if on_wrong is not None:
                on_wrong()
            raise LRError(
                1134,
                errors=[{"FieldName": key, "ErrorMessage": "The security answer is incorrect."}],
            )
        return
    if not value or not isinstance(value, str):
        raise required(key)
    if method == "authenticatorcode":
        ok, code = services.totp_code_check(account=account, code=value), 1102
    elif method == "backupcode":
        ok, code = services.backup_code_verify(account=account, code=value), 1128
    else:
        channel = "sms" if method == "otp" else "email"
        ok, code = services.otp_verify(account=account, channel=channel, code=value), 1067
    if not ok:
        if on_wrong is not None:
            on_wrong()
        raise LRError(code)

"""What several security views share: OpenAPI parameters and bodies, the date format of
the wire, and the check of a second factor named in a request body."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from portal.lrapi.errors import LRError, required
from security import services

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
        raise LRError(code)

"""POST /api/v1/accounts/{uid}/secure: the native front door of securing a compromised
account (flows.securing.account_secure). Unknown or another tenant's UID: 404."""

from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.selectors import account_get
from flows.securing import account_secure
from portal.errors import AccountNotFound
from portal.lrapi.errors import LRError
from portal.lrapi.params import canonical_keys, parse_bool
from portal.lrapi.views import LRAPIView
from security.commands import AccountSecure
from security.errors import SecureAccountNotFound, SecureReasonRequired

OPTIONS = (
    "revoke_sessions",
    "remove_passkeys",
    "remove_push_devices",
    "reset_second_factors",
    "require_password_change",
)
FIELDS = {name: name for name in ("reason", "ticket", "devices_added_since", *OPTIONS)}

SecureBody = inline_serializer(
    "AccountSecureBody",
    {
        "reason": serializers.CharField(help_text="Why (required); written to the audit event."),
        "ticket": serializers.CharField(
            required=False, help_text="Optional ticket reference (at most 100 characters)."
        ),
        **{name: serializers.BooleanField(required=False, default=True) for name in OPTIONS},
        "devices_added_since": serializers.DateTimeField(
            required=False,
            allow_null=True,
            help_text="ISO-8601; only passkeys and push devices added since then are removed (UTC if no offset).",
        ),
    },
)
SecuredBody = inline_serializer(
    "AccountSecured",
    {
        "uid": serializers.CharField(),
        "sessions_revoked": serializers.IntegerField(
            help_text="Live access and refresh tokens ended."
        ),
        "pending_sign_ins_cancelled": serializers.IntegerField(),
        "passkeys_removed": serializers.IntegerField(),
        "push_devices_removed": serializers.IntegerField(),
        "factors_reset": serializers.ListField(child=serializers.CharField()),
        "backup_codes_removed": serializers.IntegerField(),
        "password_change_required": serializers.BooleanField(),
    },
)


def _invalid(field: str, message: str) -> LRError:
    return LRError(1134, errors=[{"FieldName": field, "ErrorMessage": message}])


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid(name, f"The {name} must be a string.")
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    if name not in body:
        return True
    value = body[name]
    if not isinstance(value, bool | str):
        raise LRError(908, f"The {name} must be true or false.")
    return parse_bool(value, name=name)


def _since(body: dict[str, Any]):
    value = body.get("devices_added_since")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _invalid(
            "devices_added_since", "An ISO-8601 date-time is required, e.g. 2024-05-01T12:00:00Z."
        )
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        moment = None
    if moment is None:
        raise _invalid(
            "devices_added_since", "An ISO-8601 date-time is required, e.g. 2024-05-01T12:00:00Z."
        )
    return moment


class AccountSecureView(LRAPIView):
    section = "security"

    @extend_schema(
        tags=["Native"],
        operation_id="account_secure",
        summary="Secure a compromised account",
        description="Revoke every session, remove passkeys and push devices (all, or those added since a time), "
        "reset the second factors and require a new password, in one audited operation.",
        parameters=[
            OpenApiParameter(
                "uid", OpenApiTypes.STR, OpenApiParameter.PATH, description="The account UID."
            )
        ],
        request=SecureBody,
        responses={200: SecuredBody},
    )
    def post(self, request, uid):
        try:
            account = account_get(tenant=self.tenant, uid=uid)
        except (LRError, AccountNotFound):
            raise SecureAccountNotFound() from None
        body, unknown = canonical_keys(self.body(), FIELDS)
        if unknown:
            raise LRError(
                1134,
                errors=[{"FieldName": name, "ErrorMessage": "Unknown field."} for name in unknown],
            )
        reason = _text(body, "reason")
        if not reason.strip():
            raise SecureReasonRequired()
        command = AccountSecure(
            reason=reason,
            ticket=_text(body, "ticket"),
            devices_added_since=_since(body),
            **{name: _flag(body, name) for name in OPTIONS},
        )
        result = account_secure(command, tenant=self.tenant, actor=self.actor, account=account)
        return self.respond(
            {
                "uid": account.uid,
                "sessions_revoked": result.sessions_revoked,
                "passkeys_removed": result.passkeys_removed,
                "push_devices_removed": result.push_devices_removed,
                "factors_reset": list(result.factors_reset),
                "backup_codes_removed": result.backup_codes_removed,
                "pending_sign_ins_cancelled": result.pending_sign_ins_cancelled,
                "password_change_required": result.password_change_required,
            },
            project=False,
        )

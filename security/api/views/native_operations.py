"""Security operations as native resources (docs/api.md): unlock an account, secure a
compromised account, and the tenant's Duo application. Each is the command and service the
console and the LoginRadius paths use (AccountLockSet, flows.securing.account_secure,
DuoConfigSet / DuoConfigDelete), so the checks and events are the same on every path."""

from datetime import datetime
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts.selectors import account_get
from flows.securing import account_secure
from portal.api.native import (
    REASON,
    TICKET,
    NativeAPIView,
    held_for_approval,
    moment,
    moment_of,
    query_parameter,
    reason_and_ticket,
)
from portal.errors import AccountNotFound, FieldError, InvalidInput
from security import selectors, services
from security.commands import AccountLockSet, AccountSecure, DuoConfigDelete, DuoConfigSet
from security.errors import DuoNotConfigured, SecureAccountNotFound

# --- request bodies -----------------------------------------------------------------------


def body_object(
    body: Any, allowed: tuple[str, ...], *, refused: dict[str, str] | None = None
) -> dict[str, Any]:
    """The body as an object with no key outside `allowed` (400 naming each other key;
    `refused` gives some of them a message of their own)."""
    if not isinstance(body, dict):
        raise InvalidInput("The body is a JSON object.")
    unknown = [key for key in body if key not in allowed]
    if unknown:
        raise InvalidInput(
            field_errors=[
                FieldError(
                    key, (refused or {}).get(key, "The resource has no such field."), "unknown"
                )
                for key in unknown
            ]
        )
    return body


def text_of(body: dict[str, Any], name: str, *, default: str = "") -> str:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidInput(field_errors=[FieldError(name, "A string.", "invalid")])
    return value


def flag_of(body: dict[str, Any], name: str, *, default: bool) -> bool:
    if name not in body:
        return default
    if not isinstance(body[name], bool):
        raise InvalidInput(field_errors=[FieldError(name, "true or false.", "invalid")])
    return body[name]


def why_of(request, body: dict[str, Any]) -> dict[str, str]:
    """The reason and ticket of a write: from the body when it names them, otherwise from
    the `X-Reason` and `X-Ticket` headers."""
    headers = reason_and_ticket(request)
    return {
        "reason": text_of(body, "reason", default=headers["reason"]),
        "ticket": text_of(body, "ticket", default=headers["ticket"]),
    }


# --- unlock -------------------------------------------------------------------------------

_LOCK_STATE = inline_serializer(
    "NativeLockState",
    {
        "uid": serializers.CharField(),
        "locked": serializers.BooleanField(),
        "locked_type": serializers.CharField(allow_null=True),
        "locked_until": serializers.DateTimeField(allow_null=True),
        "unlocked": serializers.BooleanField(help_text="Whether this call lifted a lock."),
    },
)


def lock_state_json(account, *, unlocked: bool) -> dict[str, Any]:
    row = selectors.account_lockout(account=account)
    locked = selectors.lock_in_force(row)
    return {
        "uid": account.uid,
        "locked": locked,
        "locked_type": row.locked_type if locked else None,
        "locked_until": moment(row.locked_until) if locked else None,
        "unlocked": unlocked,
    }


class NativeAccountUnlockView(NativeAPIView):
    """POST /api/v1/accounts/{uid}/unlock: let a locked account sign in again now."""

    section = "security"

    @extend_schema(
        tags=["Account security"],
        operation_id="account_unlock",
        summary="Unlock an account",
        description="Removes the sign-in lock (too many wrong passwords, or set by hand) and "
        "forgets the failed sign-ins (`account.unlocked`). An account that is not locked "
        "answers 200 with `unlocked` false and records nothing.",
        parameters=[REASON, TICKET],
        request=inline_serializer(
            "NativeUnlock",
            {
                "reason": serializers.CharField(required=False, help_text="Why (recorded)."),
                "ticket": serializers.CharField(required=False),
            },
        ),
        responses={200: _LOCK_STATE},
        examples=[
            OpenApiExample(
                "Unlock", request_only=True, value={"reason": "customer verified by phone"}
            ),
            OpenApiExample(
                "Unlocked",
                response_only=True,
                value={
                    "uid": "9f2c4b7e0c3a4d1e8f6a5b4c3d2e1f00",
                    "locked": False,
                    "locked_type": None,
                    "locked_until": None,
                    "unlocked": True,
                },
            ),
        ],
    )
    def post(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        body = body_object(self.body_json(), ("reason", "ticket"))
        command = AccountLockSet(locked=False, **why_of(request, body))
        held = held_for_approval(self, command, account_uid=uid, summary=f"Unlock {uid}")
        if held is not None:
            return held
        unlocked = services.account_lock_set(
            command, tenant=self.tenant, actor=self.actor, account=account
        )
        return self.respond(lock_state_json(account, unlocked=unlocked), project=False)


# --- securing a compromised account -------------------------------------------------------

SECURE_OPTIONS = (
    "revoke_sessions",
    "remove_passkeys",
    "remove_push_devices",
    "reset_second_factors",
    "require_password_change",
)

_SECURE_BODY = inline_serializer(
    "NativeAccountSecure",
    {
        "reason": serializers.CharField(help_text="Why (required); written to the event."),
        "ticket": serializers.CharField(required=False, help_text="At most 100 characters."),
        **{name: serializers.BooleanField(required=False, default=True) for name in SECURE_OPTIONS},
        "devices_added_since": serializers.DateTimeField(
            required=False,
            allow_null=True,
            help_text="RFC 3339; only passkeys and push devices added since then are removed.",
        ),
    },
)
_SECURED = inline_serializer(
    "NativeAccountSecured",
    {
        "uid": serializers.CharField(),
        "sessions_revoked": serializers.IntegerField(),
        "pending_sign_ins_cancelled": serializers.IntegerField(),
        "passkeys_removed": serializers.IntegerField(),
        "push_devices_removed": serializers.IntegerField(),
        "factors_reset": serializers.ListField(child=serializers.CharField()),
        "backup_codes_removed": serializers.IntegerField(),
        "password_change_required": serializers.BooleanField(),
    },
)


def _since(body: dict[str, Any]) -> datetime | None:
    value = body.get("devices_added_since")
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(
            field_errors=[FieldError("devices_added_since", "An RFC 3339 date-time.", "invalid")]
        )
    return moment_of("devices_added_since", value)


class NativeAccountSecureView(NativeAPIView):
    """POST /api/v1/accounts/{uid}/secure: take a compromised account back in one step."""

    section = "security"

    @extend_schema(
        tags=["Account security"],
        operation_id="account_secure",
        summary="Secure a compromised account",
        description="Ends every session, removes passkeys and push devices (all, or those "
        "added since a time), resets the second factors and requires a new password, in one "
        "audited operation (`account.secured`). Each measure is on unless set to false; "
        "turning all off is refused. Unknown or another tenant's UID: 404.",
        request=_SECURE_BODY,
        responses={200: _SECURED},
        examples=[
            OpenApiExample(
                "Keep the sessions",
                request_only=True,
                value={"reason": "takeover reported", "ticket": "SUP-7", "revoke_sessions": False},
            ),
            OpenApiExample(
                "Secured",
                response_only=True,
                value={
                    "uid": "9f2c4b7e0c3a4d1e8f6a5b4c3d2e1f00",
                    "sessions_revoked": 0,
                    "pending_sign_ins_cancelled": 0,
                    "passkeys_removed": 2,
                    "push_devices_removed": 1,
                    "factors_reset": ["totp", "sms"],
                    "backup_codes_removed": 10,
                    "password_change_required": True,
                },
            ),
        ],
    )
    def post(self, request, uid):
        try:
            account = account_get(tenant=self.tenant, uid=uid)
        except AccountNotFound:
            raise SecureAccountNotFound() from None
        body = body_object(
            self.body_json(), ("reason", "ticket", "devices_added_since", *SECURE_OPTIONS)
        )
        command = AccountSecure(
            reason=text_of(body, "reason"),
            ticket=text_of(body, "ticket"),
            devices_added_since=_since(body),
            **{name: flag_of(body, name, default=True) for name in SECURE_OPTIONS},
        )
        result = account_secure(command, tenant=self.tenant, actor=self.actor, account=account)
        return self.respond(
            {
                "uid": account.uid,
                "sessions_revoked": result.sessions_revoked,
                "pending_sign_ins_cancelled": result.pending_sign_ins_cancelled,
                "passkeys_removed": result.passkeys_removed,
                "push_devices_removed": result.push_devices_removed,
                "factors_reset": list(result.factors_reset),
                "backup_codes_removed": result.backup_codes_removed,
                "password_change_required": result.password_change_required,
            },
            project=False,
        )


# --- the tenant's Duo application ---------------------------------------------------------

_DUO = inline_serializer(
    "NativeDuoConfiguration",
    {
        "client_id": serializers.CharField(),
        "client_secret_set": serializers.BooleanField(
            help_text="Whether a client secret is stored (it is never returned)."
        ),
        "api_host": serializers.CharField(),
        "enabled": serializers.BooleanField(),
        "modified_at": serializers.DateTimeField(),
    },
)
_DUO_INPUT = inline_serializer(
    "NativeDuoConfigurationWrite",
    {
        "client_id": serializers.CharField(),
        "client_secret": serializers.CharField(
            required=False, help_text="Write-only; required the first time, kept when omitted."
        ),
        "api_host": serializers.CharField(
            help_text="api-XXXXXXXX.duosecurity.com (or .duofederal.com); any other host is "
            "refused."
        ),
        "enabled": serializers.BooleanField(
            required=False, help_text="Default: the stored value, or true."
        ),
    },
)
_DUO_EXAMPLE = {
    "client_id": "DIXXXXXXXXXXXXXXXXXX",
    "client_secret_set": True,
    "api_host": "api-1234abcd.duosecurity.com",
    "enabled": True,
    "modified_at": "2026-12-07T04:00:00.000Z",
}
DUO_FIELDS = ("client_id", "client_secret", "api_host", "enabled")


def duo_json(config) -> dict[str, Any]:
    return {
        "client_id": config.client_id,
        "client_secret_set": bool(config.client_secret_encrypted),
        "api_host": config.api_host,
        "enabled": config.enabled,
        "modified_at": moment(config.modified),
    }


class NativeDuoView(NativeAPIView):
    """/api/v1/security/duo: the tenant's Duo Universal Prompt application. The client
    secret is write-only: stored encrypted, never returned."""

    section = "security"
    query_parameters = ("reason",)

    def _answer(self, config) -> Response:
        return self.respond_versioned(duo_json(config), version=config.modified.isoformat())

    @extend_schema(
        tags=["Security"],
        operation_id="security_duo_retrieve",
        summary="The tenant's Duo application",
        description="Without its secret (`client_secret_set` says whether one is stored); "
        "404 `duo.not_configured` when none is configured.",
        responses={200: _DUO},
        examples=[OpenApiExample("Configured", response_only=True, value=_DUO_EXAMPLE)],
    )
    def get(self, request):
        config = selectors.duo_config_get(tenant=self.tenant)
        if config is None:
            raise DuoNotConfigured()
        return self._answer(config)

    @extend_schema(
        tags=["Security"],
        operation_id="security_duo_update",
        summary="Create or change the tenant's Duo application",
        description="Checked by the Duo client's rules; a host that is not a Duo API host is "
        "refused (`api_host`). While enabled, every sign-in of the tenant needs Duo. Records "
        "`duo.configured` (never the secret).",
        parameters=[REASON, TICKET],
        request=_DUO_INPUT,
        responses={200: _DUO},
        examples=[
            OpenApiExample(
                "Configure",
                request_only=True,
                value={
                    "client_id": "DIXXXXXXXXXXXXXXXXXX",
                    "client_secret": "<40 characters from the Duo admin panel>",
                    "api_host": "api-1234abcd.duosecurity.com",
                },
            ),
            OpenApiExample("Configured", response_only=True, value=_DUO_EXAMPLE),
        ],
    )
    def put(self, request):
        body = body_object(
            self.body_json(),
            DUO_FIELDS,
            refused={
                "ca_bundle": "Custom CA bundles are not accepted; Duo's own pinned certificates "
                "are always used."
            },
        )
        problems = [
            FieldError(name, "This field is required.", "required")
            for name in ("client_id", "api_host")
            if name not in body
        ]
        if problems:
            raise InvalidInput(field_errors=problems)
        current = selectors.duo_config_get(tenant=self.tenant)
        command = DuoConfigSet(
            client_id=text_of(body, "client_id"),
            client_secret=text_of(body, "client_secret") or None,
            api_host=text_of(body, "api_host"),
            enabled=flag_of(body, "enabled", default=current.enabled if current else True),
            **reason_and_ticket(request),
        )
        return self._answer(services.duo_config_set(command, tenant=self.tenant, actor=self.actor))

    @extend_schema(
        tags=["Security"],
        operation_id="security_duo_destroy",
        summary="Remove the tenant's Duo application",
        description="Sign-ins stop asking for Duo and open prompts can no longer complete "
        "(`duo.removed`); 404 when none is configured. The reason is `X-Reason` (or the older "
        "`reason` query parameter).",
        parameters=[REASON, TICKET, query_parameter("reason", "Why (recorded); older spelling.")],
        request=None,
        responses={204: None},
    )
    def delete(self, request):
        why = reason_and_ticket(request)
        why["reason"] = why["reason"] or request.query_params.get("reason", "")
        services.duo_config_delete(DuoConfigDelete(**why), tenant=self.tenant, actor=self.actor)
        return Response(status=204)

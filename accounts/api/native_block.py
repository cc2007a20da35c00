"""Blocking and unblocking an account as native operations (docs/api.md):
`POST /api/v1/accounts/{uid}/block` and `/unblock`, body `{"reason", "ticket"}`.

They are the `AccountBlock` and `AccountUnblock` commands the console and bulk jobs build,
so a block ends the account's sessions (tokens subscribes to `account.blocked`) on every
path. The answer is the account resource with its new ETag; `If-Match` is honoured.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers

from accounts import selectors, services
from accounts.api.native_account import ACCOUNT_EXAMPLE, ACCOUNT_SCHEMA, account_representation
from accounts.api.native_account_input import body_object, body_text
from accounts.commands import AccountBlock, AccountUnblock
from portal.api.native import IF_MATCH, NativeAPIView, held_for_approval

TAG = ["Accounts (native)"]
REASON_MAX_LENGTH = 1000

_WHY = inline_serializer(
    "NativeAccountBlockInput",
    {
        "reason": serializers.CharField(max_length=REASON_MAX_LENGTH),
        "ticket": serializers.CharField(required=False, max_length=200),
    },
)


def _why(body) -> dict[str, str]:
    body = body_object(body, ("reason", "ticket"))
    return {
        "reason": body_text(body, "reason", required=True, max_length=REASON_MAX_LENGTH),
        "ticket": body_text(body, "ticket", max_length=200),
    }


class _AccountStateView(NativeAPIView):
    section = "accounts"

    def changed(self, uid: str, command_class, service):
        account = selectors.account_get(tenant=self.tenant, uid=uid)
        why = _why(self.body_json())
        command = command_class(**why, expected_version=self.expected_version)
        held = held_for_approval(
            self, command, account_uid=uid, summary=f"{command_class.__name__[7:]} account {uid}"
        )
        if held is not None:
            return held
        service(command, tenant=self.tenant, actor=self.actor, account=account)
        account = selectors.account_get(tenant=self.tenant, uid=uid, for_profile=True)
        return self.respond_versioned(
            account_representation(account), version=selectors.account_version(account)
        )


def _schema(operation_id: str, summary: str, description: str, example: dict):
    return extend_schema(
        tags=TAG,
        operation_id=operation_id,
        summary=summary,
        description=description,
        parameters=[IF_MATCH],
        request=_WHY,
        responses={200: ACCOUNT_SCHEMA},
        examples=[
            OpenApiExample(
                "Why", request_only=True, value={"reason": "chargeback fraud", "ticket": "RISK-9"}
            ),
            OpenApiExample("The account", response_only=True, value=example),
        ],
    )


class NativeAccountBlockView(_AccountStateView):
    """Stop every sign-in of the account; its sessions end now."""

    @_schema(
        "native_account_block",
        "Block an account",
        "The account can no longer sign in and its sessions end. Blocking a blocked account "
        "changes nothing but is recorded.",
        {**ACCOUNT_EXAMPLE, "is_active": False},
    )
    def post(self, request, uid):
        return self.changed(uid, AccountBlock, services.account_block)


class NativeAccountUnblockView(_AccountStateView):
    """Let a blocked account sign in again."""

    @_schema(
        "native_account_unblock",
        "Unblock an account",
        "The account may sign in again (a sign-in lock is the security section's).",
        ACCOUNT_EXAMPLE,
    )
    def post(self, request, uid):
        return self.changed(uid, AccountUnblock, services.account_unblock)

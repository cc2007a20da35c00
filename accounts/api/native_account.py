"""The account as a native resource: `GET`, `PATCH` (JSON merge patch) and `DELETE` on
`/api/v1/accounts/{uid}`, with an ETag and `If-Match` (docs/api.md).

The representation is the LoginRadius profile with snake_case keys (custom field names are
the tenant's own and keep their spelling). A merge patch becomes the same `AccountChanges`
command the LoginRadius PUT and the console build: a value sets a field, `null` clears it,
and inside `custom_fields` a `null` removes that one field.
"""

import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from accounts import services
from accounts.commands import AccountChanges, AccountDelete
from accounts.profile_fields.vocabulary import READ_ONLY, WRITABLE
from accounts.selectors import account_get, account_profile, account_version
from portal.api.native import (
    IF_MATCH,
    REASON,
    TICKET,
    NativeAPIView,
    held_for_approval,
    reason_and_ticket,
)
from portal.errors import FieldError, InvalidInput

CUSTOM_FIELDS = "CustomFields"
# Changed through their own operations, where the rules of each live (verification,
# uniqueness, the password policy), never as a field of a patch.
NOT_PATCHABLE = frozenset({"Email", "Password", "Uid"})

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """`PhoneId` → `phone_id`, `ID` → `id`, `NoOfLogins` → `no_of_logins`."""
    return _WORD_BOUNDARY.sub("_", name).lower()


def pascal(name: str) -> str:
    """`postal_code` → `PostalCode`: the keys inside list items and nested objects."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


FIELD_BY_NATIVE_NAME = {snake(name): name for name in WRITABLE}
READ_ONLY_NATIVE_NAMES = {snake(name) for name in READ_ONLY}


def native_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            snake(key): (item if key == CUSTOM_FIELDS else native_keys(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [native_keys(item) for item in value]
    return value


def stored_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {pascal(key): stored_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stored_keys(item) for item in value]
    return value


def account_representation(account) -> dict[str, Any]:
    profile = account_profile(account=account)
    profile.pop("Password", None)
    return native_keys(profile)


def account_changes_from_merge_patch(
    patch: Any, *, reason: str, ticket: str, expected_version: str | None
) -> AccountChanges:
    """The command a merge patch (RFC 7396) of the representation asks for."""
    if not isinstance(patch, dict):
        raise InvalidInput("A merge patch is a JSON object.")
    problems: list[FieldError] = []
    values: dict[str, Any] = {}
    cleared: list[str] = []
    custom_fields: dict[str, Any] = {}
    custom_fields_removed: list[str] = []
    for key, value in patch.items():
        field = FIELD_BY_NATIVE_NAME.get(key)
        if field in NOT_PATCHABLE:
            problems.append(
                FieldError(key, f"{key} has its own operation; it is not patched.", "read_only")
            )
        elif field is None:
            known = key in READ_ONLY_NATIVE_NAMES
            problems.append(
                FieldError(
                    key,
                    "This field is read-only." if known else "The account has no such field.",
                    "read_only" if known else "unknown",
                )
            )
        elif field == CUSTOM_FIELDS and isinstance(value, dict):
            for name, item in value.items():
                if item is None:
                    custom_fields_removed.append(name)
                else:
                    custom_fields[name] = item
        elif value is None:
            cleared.append(field)
        else:
            values[field] = stored_keys(value)
    if problems:
        raise InvalidInput(field_errors=problems)
    return AccountChanges(
        values=values,
        cleared=tuple(cleared),
        custom_fields=custom_fields,
        custom_fields_removed=tuple(custom_fields_removed),
        reason=reason,
        ticket=ticket,
        expected_version=expected_version,
    )


# The profile with snake_case keys: the LoginRadius profile's fields, free-form by design
# (custom fields are the tenant's own).
ACCOUNT_SCHEMA = OpenApiTypes.OBJECT
# A shortened account as the examples show it (the resource has every profile key).
ACCOUNT_EXAMPLE = {
    "uid": "5e1a8c0f9b2d4e6fa1b3c5d7e9f0a2b4",
    "user_name": "annl",
    "first_name": "Ann",
    "last_name": "Lee",
    "full_name": "Ann Lee",
    "email": [{"type": "Primary", "value": "ann@example.com"}],
    "email_verified": True,
    "phone_id": "+14155552671",
    "phone_id_verified": False,
    "is_active": True,
    "is_login_locked": False,
    "roles": ["support"],
    "custom_fields": {"plan": "gold"},
    "created_date": "2026-12-07T04:00:00.000Z",
    "modified_date": "2026-12-07T04:00:00.000Z",
}


class NativeAccountView(NativeAPIView):
    """One account: read with its ETag, change by merge patch, delete."""

    section = "accounts"

    def _account(self, uid: str, *, for_profile: bool = False):
        return account_get(tenant=self.tenant, uid=uid, for_profile=for_profile)

    def _represented(self, uid: str, status: int = 200) -> Response:
        account = self._account(uid, for_profile=True)
        return self.respond_versioned(
            account_representation(account), version=account_version(account), status=status
        )

    @extend_schema(
        tags=["Accounts (native)"],
        operation_id="native_account_retrieve",
        summary="An account",
        responses={200: ACCOUNT_SCHEMA},
        examples=[OpenApiExample("An account", response_only=True, value=ACCOUNT_EXAMPLE)],
    )
    def get(self, request, uid):
        return self._represented(uid)

    @extend_schema(
        tags=["Accounts (native)"],
        operation_id="native_account_patch",
        summary="Change an account (JSON merge patch)",
        parameters=[IF_MATCH, REASON, TICKET],
        request={
            "application/merge-patch+json": ACCOUNT_SCHEMA,
            "application/json": ACCOUNT_SCHEMA,
        },
        responses={200: ACCOUNT_SCHEMA},
        examples=[
            OpenApiExample(
                "Rename and drop a custom field",
                value={"first_name": "Anna", "middle_name": None, "custom_fields": {"plan": None}},
                request_only=True,
            )
        ],
    )
    def patch(self, request, uid):
        account = self._account(uid)
        command = account_changes_from_merge_patch(
            self.body_json(),
            **reason_and_ticket(request),
            expected_version=self.expected_version,
        )
        held = held_for_approval(self, command, account_uid=uid, summary=f"Change account {uid}")
        if held is not None:
            return held
        services.account_update(command, tenant=self.tenant, actor=self.actor, account=account)
        return self._represented(uid)

    @extend_schema(
        tags=["Accounts (native)"],
        operation_id="native_account_destroy",
        summary="Delete an account",
        parameters=[IF_MATCH, REASON, TICKET],
        responses={204: None},
    )
    def delete(self, request, uid):
        account = self._account(uid)
        command = AccountDelete(
            **reason_and_ticket(request), expected_version=self.expected_version
        )
        held = held_for_approval(self, command, account_uid=uid, summary=f"Delete account {uid}")
        if held is not None:
            return held
        services.account_delete(command, tenant=self.tenant, actor=self.actor, account=account)
        return Response(status=204)

"""Wire shapes of the Roles Management API: parsing request bodies into the roles commands
(roles/commands.py), shaping responses."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from portal.lrapi.errors import LRError, field_errors
from portal.lrapi.params import CIBody
from roles.commands import ContextGrant, RoleContextGrant, RoleInput, RolesCreate
from roles.models import Role, RoleContext

# LoginRadius samples write expirations the .NET way ("07/15/2018 8:30:08 AM"); ISO 8601
# is accepted too. A time without a zone is UTC.
EXPIRATION_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S",
)


def parse_expiration(value: Any) -> datetime | None:
    """An expiration as sent, as an aware UTC datetime; `None`/"" = never; 1172 otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise LRError(1172)
    text = value.strip()
    parsed = None
    for fmt in EXPIRATION_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise LRError(1172) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError) as exc:  # 0001-01-01T00:00:00+01:00
        raise LRError(1172) from exc


def format_date(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def _squash(key: str) -> str:
    return str(key).lower().replace("_", "").replace("-", "")


def key_lookup(body: Mapping, *names: str, default: Any = None) -> Any:
    """The value under any of `names`, matched case-insensitively and ignoring `_`/`-`."""
    wanted = {_squash(name) for name in names}
    for key, value in body.items():
        if _squash(key) in wanted:
            return value
    return default


def name_list(body: Mapping, *keys: str, label: str) -> list[str]:
    """A list of names under `keys` (908 when missing, empty or not a list of strings)."""
    value = key_lookup(body, *keys)
    if not value:
        raise LRError(908, f"The value of {label} can not be null or empty.")
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item.strip() for item in value
    ):
        raise LRError(908, f"The value of {label} must be a list of names.")
    return [item.strip() for item in value]


def roles_create_command(body: CIBody) -> RolesCreate:
    items = key_lookup(body, "roles")
    if not items:
        raise LRError(908, "The value of Roles can not be null or empty.")
    if not isinstance(items, list):
        raise LRError(908, "The value of Roles must be a list of roles.")
    roles = []
    for item in items:
        if not isinstance(item, Mapping):
            raise LRError(1175)
        name = key_lookup(item, "name")
        roles.append(
            role_input(
                name.strip() if isinstance(name, str) else name, key_lookup(item, "permissions")
            )
        )
    return RolesCreate(roles=tuple(roles))


def role_context_grant_command(request_json: Any) -> RoleContextGrant:
    if isinstance(request_json, list):
        items = request_json
    elif isinstance(request_json, Mapping):
        items = key_lookup(request_json, "rolecontext", "rolecontexts")
    else:
        items = None
    if not items:
        raise LRError(908, "The value of RoleContext can not be null or empty.")
    if not isinstance(items, list):
        raise LRError(908, "The value of RoleContext must be a list of contexts.")
    contexts = []
    for item in items:
        if not isinstance(item, Mapping):
            raise LRError(908, "The value of RoleContext must be a list of contexts.")
        roles = key_lookup(item, "roles") or []
        additional = key_lookup(item, "additionalpermissions") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise LRError(908, "The value of Roles must be a list of names.")
        if not isinstance(additional, list):
            raise LRError(908, "The value of AdditionalPermissions must be a list of names.")
        missing = object()
        expiration = key_lookup(item, "expiration", default=missing)
        name = key_lookup(item, "context")
        contexts.append(
            ContextGrant(
                name=name.strip() if isinstance(name, str) else name,
                roles=tuple(r.strip() for r in roles),
                additional_permissions=tuple(additional),
                expiration=None if expiration is missing else parse_expiration(expiration),
                keep_expiration=expiration is missing,
            )
        )
    return RoleContextGrant(contexts=tuple(contexts))


def role_json(role: Role) -> dict:
    return {"Name": role.name, "Permissions": {name: True for name in role.permissions or []}}


def role_context_json(context: RoleContext) -> dict:
    return {
        "Context": context.name,
        "Roles": [role.name for role in context.roles.all()],
        "AdditionalPermissions": list(context.additional_permissions or []),
        "Expiration": format_date(context.expiration),
    }


def role_context_account_json(context: RoleContext) -> dict:
    """One entry of "accounts by context name", with the account's public profile fields."""
    account = context.account
    profile = account.profile or {}
    full_name = getattr(account, "full_name", "") or profile.get("FullName")
    return {
        "RoleContext": {
            "Roles": [role.name for role in context.roles.all()],
            "AdditionalPermissions": list(context.additional_permissions or []),
            "Expiration": format_date(context.expiration),
        },
        "Uid": account.uid,
        "LastLoginDate": format_date(getattr(account, "last_login_date", None)),
        "FullName": full_name or None,
        "Email": [{"Type": email.type, "Value": email.value} for email in account.emails.all()]
        or None,
        "ImageUrl": profile.get("ImageUrl"),
    }


def role_input(name, permissions: Mapping | list | None) -> RoleInput:
    """A role of a create body: `permissions` as `{"p": true}` (false ones are left out) or a list."""
    if permissions is None:
        perms: list = []
    elif isinstance(permissions, Mapping):
        not_flags = [
            str(key) for key, granted in permissions.items() if not isinstance(granted, bool)
        ]
        if not_flags:
            raise field_errors(
                {
                    "Permissions": f"Each permission must be true or false: {', '.join(not_flags)[:200]}."
                }
            )
        perms = [key for key, granted in permissions.items() if granted]
    elif isinstance(permissions, list):
        perms = permissions
    else:
        raise LRError(
            908, "The value of Permissions must be an object of names or a list of names."
        )
    return RoleInput(name=name, permissions=tuple(perms))

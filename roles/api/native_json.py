"""The native API's JSON of roles and role contexts, and the checks of its request bodies."""

from datetime import datetime
from typing import Any

from portal.api.native import (
    moment,
)
from portal.errors import FieldError, InvalidInput
from roles import selectors
from roles.models import Role, RoleContext

# --- input ------------------------------------------------------------------------------


def body_object(body: Any, allowed: tuple[str, ...], *, read_only: tuple[str, ...] = ()) -> dict:
    """The body as an object with no key outside `allowed` (400 naming each other key)."""
    if not isinstance(body, dict):
        raise InvalidInput("The body is a JSON object.")
    problems = [
        FieldError(key, "This field is read-only.", "read_only")
        if key in read_only
        else FieldError(key, "The resource has no such field.", "unknown")
        for key in body
        if key not in allowed
    ]
    if problems:
        raise InvalidInput(field_errors=problems)
    return body


def body_names(body: dict, key: str, *, required: bool = False) -> tuple[str, ...]:
    """A list of names (strings); absent: empty unless `required`; null: empty."""
    if key not in body:
        if required:
            raise InvalidInput(
                field_errors=[FieldError(key, "This field is required.", "required")]
            )
        return ()
    value = body[key]
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(field_errors=[FieldError(key, "A list of names.", "invalid")])
    return tuple(value)


def body_expiration(value: Any) -> datetime | None:
    if value is None:
        return None
    moment_ = None
    if isinstance(value, str):
        try:
            moment_ = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment_ = None
    if moment_ is None or moment_.tzinfo is None:
        raise InvalidInput(
            field_errors=[
                FieldError(
                    "expiration", "An RFC 3339 date-time with an offset, or null.", "invalid"
                )
            ]
        )
    return moment_


# --- representations --------------------------------------------------------------------


def role_json(role: Role) -> dict[str, Any]:
    return {
        "name": role.name,
        "description": role.description,
        "permissions": sorted(role.permissions or []),
        "privileged": role.privileged,
        "created_at": moment(role.created),
        "modified_at": moment(role.modified),
    }


def role_context_json(context: RoleContext) -> dict[str, Any]:
    return {
        "name": context.name,
        "roles": sorted(role.name for role in context.roles.all()),
        "additional_permissions": sorted(context.additional_permissions or []),
        "expiration": moment(context.expiration),
        "version": selectors.role_context_version(context),
    }

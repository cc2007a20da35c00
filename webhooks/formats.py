"""What a delivery's body holds, by the endpoint's format.

- `standard`: `{"type", "timestamp", "data"}` (the Standard Webhooks shape), `data` being the
  event as the event feed shows it (portal.api.events.event_json), `uid` included.
- `loginradius`: LoginRadius's webhook shape for the event types LoginRadius has
  (`Register`, `UpdateProfile`, ...): `{"Hook", "Time", "Data"}`, `Data` holding the
  account's `Uid` and the new values of the fields that changed. Types LoginRadius has no
  webhook event for are not sent to such an endpoint.
"""

from __future__ import annotations

import json
from typing import Any

from portal.api.events import event_json
from portal.api.native import rfc3339
from portal.models import AuditEvent
from webhooks import validation

STANDARD = "standard"
LOGINRADIUS = "loginradius"

# Our event types -> LoginRadius's webhook event names.
LOGINRADIUS_EVENTS = {
    "account.created": "Register",
    "account.updated": "UpdateProfile",
    "account.deleted": "DeleteAccount",
    "account.blocked": "BlockAccount",
    "account.login_recorded": "Login",
    "account_password.set": "SetPassword",
    "account_email.verified": "EmailVerification",
    "account_email.upserted": "AddEmail",
    "account_email.removed": "RemoveEmail",
    "account_email.verification_invalidated": "InvalidateEmailVerification",
    "account_phone.updated": "UpdatePhoneId",
    "account_phone.verified": "VerifyPhoneNumber",
    "account_phone.verification_invalidated": "InvalidatePhoneVerification",
    "account_identity.linked": "LinkAccount",
    "account_identity.unlinked": "UnlinkAccount",
    "account_roles.assigned": "AssignRoles",
    "account_roles.unassigned": "UnassignRoles",
    "customobject.created": "CreateCustomObject",
    "customobject.updated": "UpdateCustomobject",
    "customobject.deleted": "DeleteCustomObject",
    "role_context.deleted": "RemoveRoleContext",
}


def loginradius_event(action: str, *, actor_type: str = "") -> str | None:
    """LoginRadius's name for `action` (None: LoginRadius sends no webhook for it). A
    password the account holder set itself is a `ChangePassword`; one set for it (a reset
    link, an administrator) a `ResetPassword` or `SetPassword` as LoginRadius names them."""
    if action == "account_password.set" and actor_type == AuditEvent.ACTOR_ACCOUNT:
        return "ChangePassword"
    return LOGINRADIUS_EVENTS.get(action)


def delivered_in(format: str, action: str) -> bool:
    """Whether an endpoint of `format` receives events of `action` at all."""
    return format != LOGINRADIUS or action in LOGINRADIUS_EVENTS


def _new_values(diff: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for key, value in diff.items():
        values[key] = value[1] if isinstance(value, list) and len(value) == 2 else value
    return values


def body_of(format: str, row: AuditEvent) -> bytes:
    """The exact bytes a delivery of `row` sends (signed as they are)."""
    if format == LOGINRADIUS:
        hook = loginradius_event(row.action, actor_type=row.actor_type)
        payload: dict[str, Any] = {
            "Hook": hook,
            "Time": rfc3339(row.occurred_at),
            "Data": {**_new_values(row.diff), "Uid": row.subject_uid or None},
        }
    else:
        payload = {
            "type": row.action,
            "timestamp": rfc3339(row.occurred_at),
            "data": event_json(row),
        }
    return json.dumps(payload, separators=(",", ":"), sort_keys=False, default=str).encode()


def message_id(event_id: int) -> str:
    """The `webhook-id` of an event: the same on every attempt and every replay."""
    return f"evt_{event_id}"


def receives(*, subscribed: list[str], format: str, action: str) -> bool:
    """Whether an endpoint subscribed to `subscribed`, in `format`, receives `action`."""
    return validation.matches(subscribed, action) and delivered_in(format, action)

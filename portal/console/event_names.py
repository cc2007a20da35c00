"""Audit events as people read them: a short name per event type, who did it, what kind of
event it is, and its field diff as rows. The account timeline and the audit log both use it.

Names of accounts come from the caller (`names`: UID -> name, read in one query by
`portal.console.selectors.account_names`) so this module reads nothing itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portal import audit
from portal.console import display
from portal.models import AuditEvent

# Short past-tense names; an event type missing here reads as its registered description.
EVENT_NAMES: dict[str, str] = {
    "account.blocked": "Account blocked",
    "account.created": "Account created",
    "account.deleted": "Account deleted",
    "account.erased": "Personal data erased",
    "account.locked": "Sign-in locked",
    "account.login_recorded": "Sign-in counted",
    "account.secured": "Account secured after a compromise",
    "account.uid_changed": "UID changed",
    "account.unblocked": "Account unblocked",
    "account.unlocked": "Sign-in unlocked",
    "account.updated": "Profile updated",
    "account_email.made_primary": "Primary email changed",
    "account_email.removed": "Email removed",
    "account_email.upserted": "Email added or changed",
    "account_email.verification_invalidated": "Email verification withdrawn",
    "account_email.verified": "Email verified",
    "account_identity.linked": "Identity linked",
    "account_identity.unlinked": "Identity unlinked",
    "account_password.change_required": "New password required",
    "account_password.set": "Password set",
    "account_phone.updated": "Phone changed",
    "account_phone.verification_invalidated": "Phone verification withdrawn",
    "account_phone.verified": "Phone verified",
    "account_roles.assigned": "Roles assigned",
    "account_roles.unassigned": "Roles unassigned",
    "backup_codes.generated": "Backup codes generated",
    "backup_codes.removed": "Backup codes withdrawn",
    "backup_codes.reset": "Backup codes replaced",
    "customobject.created": "Custom record created",
    "customobject.deleted": "Custom record deleted",
    "customobject.updated": "Custom record changed",
    "duo.enrolled": "Duo enrolled",
    "mfa_factor.reset": "Second factor reset",
    "multipurpose_token.consumed": "One-time token used",
    "multipurpose_token.issued": "One-time token sent",
    "otp_factor.confirmed": "Code factor confirmed",
    "otp_factor.enrolled": "Code factor set up",
    "passkey.deleted": "Passkey removed",
    "passkey.registered": "Passkey registered",
    "push_device.deleted": "Push device removed",
    "push_device.registered": "Push device registered",
    "reauth_token.issued": "Reauthenticated",
    "role_context.created": "Role context added",
    "role_context.deleted": "Role context deleted",
    "role_context.updated": "Role context changed",
    "security_answers.change_requested": "Security answers change requested",
    "security_answers.updated": "Security answers set",
    "session.all_revoked": "All sessions revoked",
    "session.elevated": "Session elevated",
    "session.impersonated": "Impersonation session opened",
    "session.invalidated": "Access token invalidated",
    "session.issued": "Session opened",
    "session.refresh_repeated": "Refresh token repeated",
    "session.refreshed": "Session refreshed",
    "session.reuse_detected": "Refresh token reuse: session revoked",
    "session.revoked": "Session revoked",
    "session.revoked_by_id": "Session revoked",
    "session.slid": "Session slid",
    "signin.failed": "Sign-in refused",
    "signin.succeeded": "Signed in",
    "totp.confirmed": "Authenticator app confirmed",
    "totp.enrolled": "Authenticator app enrolment started",
}

# The same change made by staff for the person reads as support work.
STAFF_NAMES: dict[str, str] = {
    "account_password.set": "Password reset",
    "account.updated": "Profile edited",
}

# Why a sign-in was refused (signin.failed's `reason`), as a person says it.
SIGNIN_REASONS: dict[str, str] = {
    "wrong_password": "wrong password",
    "locked": "locked",
    "blocked": "blocked",
    "unknown_account": "unknown account",
    "password_change_required": "new password required",
    "second_factor_failed": "second factor failed",
    "second_factor": "second factor failed",
}

# Kinds for filtering, in the order a filter offers them: (key, label, entity prefixes).
KINDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("signin", "Sign-ins", ("signin", "account.login_recorded", "reauth_token")),
    (
        "profile",
        "Profile and contact",
        (
            "account.created",
            "account.updated",
            "account.uid_changed",
            "account_email",
            "account_phone",
            "account_identity",
        ),
    ),
    (
        "status",
        "Block, lock and delete",
        (
            "account.blocked",
            "account.unblocked",
            "account.locked",
            "account.unlocked",
            "account.deleted",
            "account.erased",
        ),
    ),
    (
        "security",
        "Password and factors",
        (
            "account_password",
            "account.secured",
            "mfa_factor",
            "backup_codes",
            "totp",
            "otp_factor",
            "passkey",
            "push_device",
            "security_answers",
            "duo",
        ),
    ),
    ("sessions", "Sessions", ("session",)),
    ("roles", "Roles", ("account_roles", "role_context")),
    ("records", "Custom records", ("customobject",)),
    ("messages", "Tokens and messages", ("multipurpose_token", "message")),
)
KIND_LABELS: dict[str, str] = {key: label for key, label, _ in KINDS}


def event_kind(action: str) -> str:
    """The filter kind of an event type ("other" when none fits)."""
    entity = action.partition(".")[0]
    for key, _label, prefixes in KINDS:
        if action in prefixes or entity in prefixes:
            return key
    return "other"


def kind_actions(kind: str) -> list[str]:
    """Every registered event type of `kind` (for an `action__in` filter)."""
    return sorted(a for a in audit.registered_actions() if event_kind(a) == kind)


def event_name(action: str, *, actor_type: str = "") -> str:
    """The short human name of an event type."""
    if actor_type == AuditEvent.ACTOR_STAFF and action in STAFF_NAMES:
        return STAFF_NAMES[action]
    if action in EVENT_NAMES:
        return EVENT_NAMES[action]
    return audit.registered_actions().get(action) or action


def signin_reason(reason: str | None) -> str:
    return SIGNIN_REASONS.get(reason or "", (reason or "").replace("_", " ") or "—")


def _with_names(text: str, names: Mapping[str, str]) -> str:
    for uid, name in names.items():
        if uid and uid in text:
            text = text.replace(uid, name)
    return text


def actor_text(event: AuditEvent, *, names: Mapping[str, str] | None = None) -> str:
    """Who did it, as a person reads it: "agent lee.lead", "API key Billing", "the account
    holder", "Maria Garcia", "the system (lockout policy)"."""
    names = names or {}
    label = event.actor_label or event.actor_id
    if event.actor_type == AuditEvent.ACTOR_STAFF:
        return f"agent {_with_names(label, names)}"
    if event.actor_type == AuditEvent.ACTOR_CREDENTIAL:
        return f"API key {_with_names(label, names)}"
    if event.actor_type == AuditEvent.ACTOR_ACCOUNT:
        if event.actor_id and event.actor_id == event.subject_uid:
            return "the account holder"
        return names.get(event.actor_id) or display.uid_short(event.actor_id)
    return f"the system ({label})" if label and label != "system" else "the system"


def event_sentence(event: AuditEvent, *, names: Mapping[str, str] | None = None) -> str:
    """One line for the event: "Password reset by agent lee.lead", "Sign-in refused: wrong
    password"."""
    diff = event.diff if isinstance(event.diff, dict) else {}
    if event.action == "signin.failed":
        return f"Sign-in refused: {signin_reason(diff.get('reason'))}"
    if event.action == "signin.succeeded":
        method = diff.get("method")
        return f"Signed in{f' ({method})' if method else ''}"
    name = event_name(event.action, actor_type=event.actor_type)
    return f"{name} by {actor_text(event, names=names)}"


@dataclass(frozen=True)
class DiffRow:
    field: str
    before: str
    after: str
    is_pair: bool


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _flattened(diff: dict, prefix: str = "") -> list[tuple[str, Any, bool]]:
    """`{"CustomObject": {"plan": [a, b]}}` as `[("CustomObject.plan", [a, b])]`: a nested
    change reads field by field."""
    out: list[tuple[str, Any, bool]] = []
    for key in sorted(diff, key=str):
        value = diff[key]
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and not prefix:
            out.extend(_flattened(value, prefix=f"{name}."))
        else:
            out.append((name, value, bool(prefix)))
    return out


def diff_rows(event: AuditEvent) -> list[DiffRow]:
    """The event's diff as rows: a `[before, after]` pair as two values, a plain value as
    `after` alone (the event type's declared payload says which)."""
    diff = event.diff if isinstance(event.diff, dict) else {}
    shape = audit.payload_shape(event.action)
    rows = []
    for key, value, nested in _flattened(diff):
        is_list_pair = isinstance(value, list) and len(value) == 2
        if shape is None or nested:
            as_pair = is_list_pair
        else:
            as_pair = is_list_pair and (
                key in shape.pairs or (shape.open and key not in shape.keys)
            )
        # Personal values read as the reader may see them (display.py masks for some roles).
        leaf = str(key).rsplit(".", 1)[-1]
        if as_pair:
            before, after = (display.field_value_shown(leaf, v) for v in value)
            rows.append(DiffRow(str(key), _shown(before), _shown(after), True))
        else:
            rows.append(
                DiffRow(str(key), "", _shown(display.field_value_shown(leaf, value)), False)
            )
    return rows


def account_uids_of(events: list[AuditEvent]) -> set[str]:
    """The UIDs whose names the lines of `events` show (subjects and account actors)."""
    uids = {e.subject_uid for e in events if e.subject_uid}
    uids |= {e.actor_id for e in events if e.actor_type == AuditEvent.ACTOR_ACCOUNT and e.actor_id}
    for e in events:
        if "(impersonating " in (e.actor_label or ""):
            uids.add(e.actor_label.rsplit("(impersonating ", 1)[1].rstrip(")"))
    return uids

"""How a person is shown to staff: one place for names, emails and phone numbers.

Every console screen, dialog title, typeahead entry, timeline line and export renders a
person through these functions (templates through the `people` filters), so the rule for
showing personal data lives here alone.

Masking (portal/masking.py): staff in the roles a tenant names (`masked_roles`, Viewer and
Agent by default) see `ma•••@example.com`, `+1 415 •••• 123`, `M••• G•••`, and `•••` for
the tenant's chosen custom fields. The console binds the reader's policy for the request
(`masking_bound`, in StaffRequiredMixin); code rendering outside a bound request masks, as
it cannot know who reads. A reveal, recorded with a reason, adds one account's values to
the policy for the rest of that page view only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from portal import masking
from portal.masking import FULL, MASKED, Masking, mask_email, mask_name, mask_phone

__all__ = [
    "FULL",
    "MASKED",
    "Masking",
    "mask_email",
    "mask_name",
    "mask_phone",
]

_current: ContextVar[Masking] = ContextVar("console_masking", default=MASKED)


def masking_of_tenant(*, role: str | None, tenant: Any) -> Masking:
    """The policy of a staff member holding `role` on `tenant` (its masking settings)."""
    return masking.masking_for(role=role, settings=masking.tenant_settings_of(tenant))


def current_masking() -> Masking:
    return _current.get()


def set_masking(policy: Masking) -> None:
    """Replace the policy of the request in progress (bound with `masking_bound`)."""
    _current.set(policy)


@contextmanager
def masking_bound(policy: Masking) -> Iterator[Masking]:
    """Everything rendered inside shows people as `policy` allows."""
    token = _current.set(policy)
    try:
        yield policy
    finally:
        _current.reset(token)


def person_name(account: Any) -> str:
    """The name staff call the account by: full name, else username, else primary email, else UID."""
    if account is None:
        return "—"
    full = " ".join(
        p
        for p in (
            getattr(account, "first_name", None),
            getattr(account, "middle_name", None),
            getattr(account, "last_name", None),
        )
        if p
    )
    if full:
        return name_shown(full)
    username = getattr(account, "username", None)
    if username:
        return name_shown(str(username))
    email = primary_email_of(account)
    if email:
        return email_shown(email)
    return str(getattr(account, "uid", "") or "—")


def primary_email_of(account: Any) -> str | None:
    """The primary address when the account's emails are loaded (prefetched or annotated)."""
    annotated = getattr(account, "primary_email", None)
    if isinstance(annotated, str):
        return annotated
    emails = getattr(account, "emails", None)
    if emails is None or not hasattr(emails, "all"):
        return None
    values = list(emails.all())
    if not values:
        return None
    primary = next((e for e in values if (e.type or "").lower() == "primary"), values[0])
    return str(primary.value)


def name_shown(value: str | None) -> str:
    """A name (or username) as staff see it."""
    return masking.name(current_masking(), value) if value else "—"


def email_shown(value: str | None) -> str:
    """An email address as staff see it."""
    return masking.email(current_masking(), value) if value else "—"


def phone_shown(value: str | None) -> str:
    """A phone number as staff see it."""
    return masking.phone(current_masking(), value) if value else "—"


def custom_field_shown(name: str, value: Any) -> str:
    """A custom field's value as staff see it: `•••` for a field the tenant masks."""
    shown = masking.custom_field(current_masking(), name, value)
    return "" if shown is None else str(shown)


def field_value_shown(name: str, value: Any) -> Any:
    """A value named by its field (a diff row, an export cell), masked where it holds
    personal data, walked into lists and objects."""
    return masking.by_field(current_masking(), name, value)


def text_shown(text: str | None) -> str:
    """A sentence (an error, a reason) with the emails and phone numbers in it masked."""
    return masking.text(current_masking(), text or "")


def approval_summary_shown(approval: Any) -> str:
    """An approval request's stored summary ("Delete account: Ann Lee", written in full
    whoever asked) as staff see it: the name after the gate's label masked like any name,
    a summary of another shape like any sentence."""
    from approvals.policy import GATES

    label = GATES.get(approval.gate)
    summary = approval.summary or ""
    if not current_masking().masked:
        return summary
    if label and summary.startswith(f"{label}: "):
        return f"{label}: {name_shown(summary[len(label) + 2 :])}"
    return text_shown(summary)


def personal_values(account: Any) -> set[str]:
    """Every value of `account` that masking hides (what a reveal shows): names, username,
    emails, phone, custom fields."""
    parts = [getattr(account, name, None) for name in ("first_name", "middle_name", "last_name")]
    values = {str(v) for v in parts if v}
    values.add(" ".join(str(p) for p in parts if p))
    for name in ("username", "phone_id"):
        value = getattr(account, name, None)
        if value:
            values.add(str(value))
    emails = getattr(account, "emails", None)
    if emails is not None and hasattr(emails, "all"):
        values.update(str(e.value) for e in emails.all() if e.value)
    primary = primary_email_of(account)
    if primary:
        values.add(primary)
    custom = getattr(account, "custom_fields", None) or {}
    if isinstance(custom, dict):
        values.update(str(v) for v in custom.values() if isinstance(v, str) and v)
    values.discard("")
    return values


def uid_short(uid: str | None) -> str:
    """A UID shortened for tables (the full value stays in `title` and the copy button)."""
    if not uid:
        return "—"
    return uid if len(uid) <= 10 else f"{uid[:8]}…"

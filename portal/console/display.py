"""How a person is shown to staff: one place for names, emails and phone numbers.

Every console screen, dialog title, typeahead entry, timeline line and export renders a
person through these functions (templates through the `people` filters), so a later rule
for showing personal data (masking for some staff roles) changes this module alone.
"""

from __future__ import annotations

from typing import Any


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
        return full
    username = getattr(account, "username", None)
    if username:
        return str(username)
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


def email_shown(value: str | None) -> str:
    """An email address as staff see it."""
    return value or "—"


def phone_shown(value: str | None) -> str:
    """A phone number as staff see it."""
    return value or "—"


def uid_short(uid: str | None) -> str:
    """A UID shortened for tables (the full value stays in `title` and the copy button)."""
    if not uid:
        return "—"
    return uid if len(uid) <= 10 else f"{uid[:8]}…"

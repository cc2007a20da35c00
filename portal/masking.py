"""Masked personal data: what a reader whose role the tenant masks sees of a person.

`ma•••@example.com`, `+1 415 •••• 123`, `M••• G•••`, and `•••` for the custom fields the
tenant names. The console shows people through `portal.console.display`, which binds the
policy of the signed-in staff member; the native API masks the answers of a credential
marked `masks_personal_data` with the same functions. Part of the core: it imports no app.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import phonenumbers

MASK = "•••"
PHONE_MASK = "••••"
# Keys (lower case, without `_`) of a profile, a diff or an answer holding personal data.
NAME_KEYS = frozenset({"firstname", "middlename", "lastname", "fullname", "username", "nickname"})
EMAIL_KEYS = frozenset({"email", "emails", "primaryemail", "oldemail", "newemail"})
PHONE_KEYS = frozenset({"phoneid", "phone", "phonenumber", "phonenumbers", "oldphone", "newphone"})
# Keys of free text that may quote an address or a number (reasons, error sentences).
TEXT_KEYS = frozenset({"reason", "detail", "message", "description"})
_EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_IN_TEXT = re.compile(r"\+\d[\d ().-]{6,}\d|\b\d{8,15}\b")


@dataclass(frozen=True)
class Masking:
    """What one reader sees: `masked` for a role (or credential) the tenant masks, the custom
    fields masked with it, and values revealed on this page view (shown in full)."""

    masked: bool
    custom_fields: frozenset[str] = frozenset()
    revealed: frozenset[str] = field(default=frozenset())

    def shows(self, value: str) -> bool:
        return not self.masked or value in self.revealed

    def revealing(self, values: Iterable[str]) -> Masking:
        return replace(self, revealed=self.revealed | {v for v in values if v})


FULL = Masking(masked=False)
MASKED = Masking(masked=True)


def custom_fields_of(settings: Mapping[str, Any]) -> frozenset[str]:
    names = str(settings.get("masked_custom_fields") or "").replace(",", " ").split()
    return frozenset(name.lower() for name in names)


def masking_for(*, role: str | None, settings: Mapping[str, Any]) -> Masking:
    """The policy of a staff member holding `role` on a tenant with `settings`."""
    if role is None:  # no console role: nothing unmasked
        return Masking(masked=True, custom_fields=custom_fields_of(settings))
    roles = {str(r).lower() for r in settings.get("masked_roles") or ()}
    if role.lower() not in roles:
        return FULL
    return Masking(masked=True, custom_fields=custom_fields_of(settings))


def tenant_settings_of(tenant: Any) -> dict[str, Any]:
    return {
        "masked_roles": tenant.setting("masked_roles"),
        "masked_custom_fields": tenant.setting("masked_custom_fields"),
    }


def masking_of_credential(credential: Any) -> Masking:
    """A staff-facing credential marked `masks_personal_data` reads as a masked role does."""
    if credential is None or not getattr(credential, "masks_personal_data", False):
        return FULL
    return Masking(
        masked=True, custom_fields=custom_fields_of(tenant_settings_of(credential.tenant))
    )


def mask_email(value: str) -> str:
    """`maria@example.com` -> `ma•••@example.com` (one letter kept of a short local part)."""
    local, at, domain = value.rpartition("@")
    if not at:
        return MASK
    keep = 2 if len(local) > 3 else 1
    return f"{local[:keep]}{MASK}@{domain}"


# Pure, and a results page masks a phone per row: parsing one costs as much as the row's
# other cells together.
@functools.lru_cache(maxsize=4096)
def mask_phone(value: str) -> str:
    """`+14155550123` -> `+1 415 •••• 123`: the country code and the first group as the
    numbering plan groups them (while four digits stay hidden), then the last three digits."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 4:
        return PHONE_MASK
    tail = digits[-3:]
    if not value.strip().startswith("+"):  # no country code to trust: only the tail
        return f"{PHONE_MASK} {tail}"
    try:
        number = phonenumbers.parse(value)
    except phonenumbers.NumberParseException:
        return f"{PHONE_MASK} {tail}"
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    groups = re.split(r"[\s-]+", formatted)
    national = str(number.national_number)
    if len(groups) >= 3 and len(national) - len(groups[1]) - len(tail) >= 4:
        return f"+{number.country_code} {groups[1]} {PHONE_MASK} {tail}"
    return f"+{number.country_code} {PHONE_MASK} {tail}"


def mask_name(value: str) -> str:
    """`Maria Garcia` -> `M••• G•••`: the first letter of each word."""
    words = value.split()
    return " ".join(f"{word[0]}{MASK}" for word in words) if words else MASK


def name(policy: Masking, value: str) -> str:
    return value if not value or policy.shows(value) else mask_name(value)


def email(policy: Masking, value: str) -> str:
    return value if not value or policy.shows(value) else mask_email(value)


def phone(policy: Masking, value: str) -> str:
    return value if not value or policy.shows(value) else mask_phone(value)


def custom_field(policy: Masking, key: str, value: Any) -> Any:
    if value in (None, "") or key.lower() not in policy.custom_fields:
        return value
    if isinstance(value, str) and policy.shows(value):
        return value
    return MASK


def text(policy: Masking, value: str) -> str:
    """A sentence with the emails and phone numbers in it masked."""
    if not value or not policy.masked:
        return value
    value = _EMAIL_IN_TEXT.sub(lambda m: email(policy, m.group(0)), value)
    return _PHONE_IN_TEXT.sub(lambda m: phone(policy, m.group(0)), value)


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def by_field(policy: Masking, key: str, value: Any, *, custom: bool = False) -> Any:
    """`value` named `key` (a diff, an answer) as the reader sees it: names, emails, phone
    numbers and the masked custom fields, walked into lists and objects."""
    if not policy.masked:
        return value
    k = _key(key)
    if custom:
        return custom_field(policy, key, value)
    if isinstance(value, list):
        return [by_field(policy, key, item) for item in value]
    if isinstance(value, dict):
        inside = k == "customfields"
        if k in EMAIL_KEYS or k in PHONE_KEYS:  # {"type": ..., "value": ...} items
            return {
                sub: by_field(policy, key if _key(sub) in {"value", "phonenumber"} else sub, item)
                for sub, item in value.items()
            }
        return {sub: by_field(policy, sub, item, custom=inside) for sub, item in value.items()}
    if not isinstance(value, str) or not value:
        return value
    if k in EMAIL_KEYS:
        return email(policy, value)
    if k in PHONE_KEYS:
        return phone(policy, value)
    if k in NAME_KEYS:
        return name(policy, value)
    if k in policy.custom_fields:
        return custom_field(policy, key, value)
    if k in TEXT_KEYS:
        return text(policy, value)
    return value

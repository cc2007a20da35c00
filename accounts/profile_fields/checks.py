"""The checks of single values (email, phone, UID, username, birth date, flags, strings)
and the problem collector they report to."""

import math
import re
from datetime import datetime
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from accounts.errors import (
    BirthDateInvalid,
    EmailInvalid,
    PhoneInvalid,
    UidInvalid,
)
from accounts.profile_fields.vocabulary import (
    CUSTOM_UID_RE,
    EMAIL_MAX_LENGTH,
    USERNAME_RE,
)
from portal.errors import FieldError, InvalidInput

_email_validator = EmailValidator()


class Problems:
    """Field errors collected while reading a body; raised together as one InvalidInput."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(
                field_errors=[FieldError(field, message) for field, message in self.errors.items()]
            )


def invalid(field: str, message: str) -> InvalidInput:
    """One field that is wrong, said as the input error that lists fields."""
    return InvalidInput(field_errors=[FieldError(field, message)])


MAX_DEPTH = 8


def unstorable(value: Any, depth: int = 0) -> str | None:
    """Why a JSON value cannot be stored as given (a NUL character, which databases refuse
    in text; NaN or Infinity, which JSON columns refuse; nesting deeper than MAX_DEPTH),
    or None."""
    if isinstance(value, str):
        return "contains a NUL character" if "\x00" in value else None
    if isinstance(value, float):
        return None if math.isfinite(value) else "contains NaN or Infinity"
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            return f"is nested deeper than {MAX_DEPTH} levels"
        items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        for key, item in items:
            problem = (unstorable(key, depth) if key is not None else None) or unstorable(
                item, depth + 1
            )
            if problem:
                return problem
    return None


def reject_nul(value: Any, field: str) -> None:
    problem = unstorable(value)
    if problem:
        raise invalid(field, f"The {field} field {problem}.")


def lower_keys(item: Any) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in item.items()} if isinstance(item, dict) else {}


# ---------------------------------------------------------------- single values


def clean_email(value: Any) -> str:
    """A syntactically valid email, trimmed; 1038 otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise EmailInvalid()
    email = value.strip()
    if len(email) > EMAIL_MAX_LENGTH:
        raise EmailInvalid()
    try:
        _email_validator(email)
    except ValidationError as exc:
        raise EmailInvalid() from exc
    return email


def clean_phone(value: Any) -> str:
    """The E.164 form of a phone number; 1096 when it is not a possible number."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PhoneInvalid()
    text = str(value).strip()
    if not text:
        raise PhoneInvalid()
    if not text.startswith("+"):
        text = "+" + text
    if not re.fullmatch(r"\+[0-9 ().-]{4,25}", text):
        raise PhoneInvalid()
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise PhoneInvalid() from exc
    if not phonenumbers.is_possible_number(number):
        raise PhoneInvalid()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_uid(value: Any) -> str:
    if not isinstance(value, str) or not CUSTOM_UID_RE.match(value):
        raise UidInvalid()
    return value


def clean_username(value: Any, problems: Problems) -> str | None:
    if not isinstance(value, str) or not USERNAME_RE.match(value.strip()):
        problems.add(
            "UserName",
            "The UserName must be 1 to 100 characters without spaces, quotes or angle brackets.",
        )
        return None
    return value.strip()


def clean_birth_date(value: Any) -> str:
    if not isinstance(value, str):
        raise BirthDateInvalid()
    try:
        datetime.strptime(value.strip(), "%m-%d-%Y")
    except ValueError as exc:
        raise BirthDateInvalid() from exc
    return value.strip()


def clean_bool(name: str, value: Any, problems: Problems) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    problems.add(name, f"The {name} field must be true or false.")
    return None


def clean_string(name: str, value: Any, problems: Problems, max_length: int) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        problems.add(name, f"The {name} field must be a string.")
        return None
    if len(value) > max_length:
        problems.add(name, f"The {name} field must be at most {max_length} characters.")
        return None
    return value

"""Reading import records (JSON Lines or CSV) into checked rows."""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import identify_hasher

from accounts import profile_fields as pf
from accounts.errors import EmailInvalid, PhoneInvalid, UidInvalid
from accounts.models import new_uid

STRING_MAX = pf.PROFILE_STRING_MAX_LENGTH
IGNORED = frozenset(k.lower() for k in pf.READ_ONLY) - {"roles"}
BOOL_FIELDS = {"emailverified", "phoneidverified", "isactive", "isemailsubscribed"}


class RowError(Exception):
    """Why one input row is not imported."""


@dataclass
class Row:
    line: int
    uid: str
    is_custom_uid: bool
    emails: list[tuple[str, str]]
    email_verified: bool = False
    phone: str | None = None
    phone_verified: bool = False
    username: str | None = None
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    password: str = ""
    roles: list[str] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    is_active: bool = True
    is_email_subscribed: bool = False
    registration_provider: str = "Email"
    registration_source: str = ""


def records(stream: io.TextIOBase, fmt: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, record, error) for every record of the input, in order."""
    if fmt == "jsonl":
        for number, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except ValueError:
                yield number, None, "not valid JSON"
                continue
            if not isinstance(value, dict):
                yield number, None, "a line must hold a JSON object"
                continue
            yield number, value, ""
        return
    reader = csv.DictReader(stream)
    for raw in reader:
        if None in raw:
            yield reader.line_num, None, "more values than header columns"
            continue
        yield reader.line_num, {k: v for k, v in raw.items() if k and v not in (None, "")}, ""


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", ""):
        return False
    raise RowError(f"{name} must be true or false")


def _json_text(name: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise RowError(f"{name} must be JSON") from exc
    return value


def _emails(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, str):
        text = value.strip()
        items: list[Any] = (
            _json_text("Email", text)
            if text.startswith("[")
            else [v for v in text.split(";") if v.strip()]
        )
    elif isinstance(value, list):
        items = value
    else:
        raise RowError("Email must be a list or a string")
    result: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, dict):
            low = pf.lower_keys(item)
            kind, address = str(low.get("type") or "Primary"), low.get("value")
        else:
            kind, address = "Primary", item
        try:
            address = pf.clean_email(address)
        except EmailInvalid as exc:
            raise RowError("bad email") from exc
        result.append((pf.canonical_email_type(kind) if kind else "Primary", address))
    return result


def _password(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return ""
    if value.startswith("!"):  # Django's unusable password
        return ""
    try:
        identify_hasher(value)
    except ValueError as exc:
        raise RowError(
            "password is not a recognised hash (plain-text passwords are not imported)"
        ) from exc
    if len(value) > 256:
        raise RowError("password hash too long")
    return value


def _string(name: str, value: Any, max_length: int) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise RowError(f"{name} must be a string")
    text = str(value)
    if len(text) > max_length or "\x00" in text:
        raise RowError(f"{name} is too long or holds a NUL character")
    return text


def parse_row(line: int, record: dict[str, Any]) -> Row:
    """The checked row of one record; RowError names the first problem."""
    data = {str(k).strip().lower(): v for k, v in record.items()}
    uid_value = data.get("uid")
    if uid_value not in (None, ""):
        try:
            uid, custom = pf.clean_uid(uid_value), True
        except UidInvalid as exc:
            raise RowError("bad uid") from exc
    else:
        uid, custom = new_uid(), False
    row = Row(
        line=line,
        uid=uid,
        is_custom_uid=custom,
        emails=_emails(data["email"]) if data.get("email") else [],
    )
    for key, value in data.items():
        if value is None or key in ("uid", "email") or key in IGNORED:
            continue
        canonical = pf.KNOWN.get(key)
        if key in BOOL_FIELDS:
            setattr(
                row,
                {
                    "emailverified": "email_verified",
                    "phoneidverified": "phone_verified",
                    "isactive": "is_active",
                    "isemailsubscribed": "is_email_subscribed",
                }[key],
                _bool(canonical, value),
            )
        elif key == "phoneid":
            try:
                row.phone = pf.clean_phone(value)
            except PhoneInvalid as exc:
                raise RowError("bad phone") from exc
        elif key == "username":
            row.username = _string("UserName", value, 100)
            if not pf.USERNAME_RE.match(row.username):
                raise RowError("bad username")
        elif key == "password":
            row.password = _password(value)
        elif canonical in pf.NAME_COLUMNS:
            setattr(row, pf.NAME_COLUMNS[canonical], _string(canonical, value, pf.NAME_MAX_LENGTH))
        elif key == "roles":
            names = value.split(";") if isinstance(value, str) else value
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise RowError("Roles must be a list of role names")
            row.roles = sorted({n.strip() for n in names if n.strip()})
        elif key == "customfields":
            value = _json_text("CustomFields", value)
            if not isinstance(value, dict):
                raise RowError("CustomFields must be an object")
            row.custom_fields = value
        elif key in ("registrationprovider", "registrationsource"):
            attr = (
                "registration_provider" if key == "registrationprovider" else "registration_source"
            )
            setattr(
                row, attr, _string(canonical, value, 40 if attr == "registration_provider" else 300)
            )
        elif canonical in pf.PROFILE_STRINGS:
            row.profile[canonical] = _string(canonical, value, STRING_MAX)
        elif canonical in pf.PROFILE_ARRAYS:
            value = _json_text(canonical, value)
            if not isinstance(value, list) or len(value) > pf.ARRAY_MAX_ITEMS:
                raise RowError(f"{canonical} must be a list of at most {pf.ARRAY_MAX_ITEMS} items")
            row.profile[canonical] = value
        elif canonical in pf.PROFILE_FLAGS:
            row.profile[canonical] = _bool(canonical, value)
        elif canonical == "Country":
            value = (
                _json_text("Country", value)
                if isinstance(value, str) and value.startswith("{")
                else value
            )
            row.profile["Country"] = (
                value if isinstance(value, dict) else {"Code": "", "Name": str(value)}
            )
    if not row.emails and not row.phone and not row.username:
        raise RowError("needs an email, a phone id or a username")
    row.email_verified = row.email_verified and bool(row.emails)
    row.phone_verified = row.phone_verified and bool(row.phone)
    return row


class Seen:
    """Identifiers taken in the input so far (the database answers for the rest)."""

    def __init__(self) -> None:
        self.uids: set[str] = set()
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.usernames: set[str] = set()

    def clash(self, row: Row) -> str:
        if row.uid in self.uids:
            return "duplicate uid in the file"
        if any(e.lower() in self.emails for _, e in row.emails) or len(
            {e.lower() for _, e in row.emails}
        ) < len(row.emails):
            return "duplicate email in the file"
        if row.phone and row.phone in self.phones:
            return "duplicate phone in the file"
        if row.username and row.username.lower() in self.usernames:
            return "duplicate username in the file"
        return ""

    def add(self, row: Row) -> None:
        self.uids.add(row.uid)
        self.emails.update(e.lower() for _, e in row.emails)
        if row.phone:
            self.phones.add(row.phone)
        if row.username:
            self.usernames.add(row.username.lower())

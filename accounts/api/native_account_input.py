"""Reading native account bodies (snake_case) into the account commands, and naming the
fields of a refusal as the caller spelled them.

A new account's body uses the names of the representation (`first_name`, `custom_fields`,
`addresses`, ...), with three shorter names for the identifiers: `username`, `phone` and
`emails` (`[{"value", "type", "verified"}]`). It is read by the same reader the LoginRadius
`POST /identity/v2/manage/account` uses (accounts.api.profile_body), so the checks are the
same on every path; only the key names and the error shape differ.
"""

import dataclasses
from typing import Any

from accounts.api import profile_body
from accounts.api.native_account import (
    FIELD_BY_NATIVE_NAME,
    READ_ONLY_NATIVE_NAMES,
    snake,
    stored_keys,
)
from accounts.commands import AccountCreate
from portal.errors import DomainError, FieldError, InvalidInput

# Short names the create body takes for the identifiers, beside the representation's.
ALIASES = {"username": "UserName", "phone": "PhoneId", "emails": "Email"}
# Kept by the security section and set through its own operations.
SECURITY_FIELDS = frozenset({"IsLoginLocked", "SecurityQuestionAnswer"})

# The field of a refusal that names none, by its code.
FIELD_OF_CODE = {
    "account.email_invalid": "Email",
    "account.email_type_required": "Email",
    "account.emails_not_distinct": "Email",
    "account.primary_email_not_unique": "Email",
    "account.email_taken": "Email",
    "account.phone_invalid": "PhoneId",
    "account.phone_taken": "PhoneId",
    "account.username_taken": "UserName",
    "account.uid_invalid": "Uid",
    "account.uid_taken": "Uid",
    "account.birth_date_invalid": "BirthDate",
    "account.address_type_required": "Addresses",
    "account.address_types_not_distinct": "Addresses",
    "account.password_invalid": "Password",
    "account.password_policy_refused": "Password",
}


def body_object(body: Any, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The body as a JSON object; with `allowed`, any other key is an `unknown` field."""
    if not isinstance(body, dict):
        raise InvalidInput("The body is a JSON object.")
    if allowed is not None:
        unknown = [key for key in body if key not in allowed]
        if unknown:
            raise InvalidInput(
                field_errors=[
                    FieldError(str(key), "The resource has no such field.", "unknown")
                    for key in unknown
                ]
            )
    return body


def body_text(
    body: dict[str, Any], name: str, *, required: bool = False, max_length: int = 1000
) -> str:
    """A text field of a body ("" when absent and not required)."""
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        message = "Required: a non-empty text." if required else "A text."
        raise InvalidInput(
            field_errors=[
                FieldError(name, message, "required" if value is None else "invalid"),
            ]
        )
    if len(value) > max_length or "\x00" in value:
        raise InvalidInput(
            field_errors=[FieldError(name, f"At most {max_length} characters.", "invalid")]
        )
    return value.strip()


class NativeNames:
    """The key the caller used for each profile field, to name fields in a refusal."""

    def __init__(self) -> None:
        self.by_field: dict[str, str] = {}

    def native(self, field: str) -> str:
        return self.by_field.get(field) or snake(field)

    def renamed(self, error: DomainError) -> DomainError:
        """`error` with its fields named as the caller spelled them; an error that names no
        field gets the one its code is about, so every refusal points at a field."""
        fields = error.field_errors
        if not fields and error.code in FIELD_OF_CODE:
            fields = (FieldError(FIELD_OF_CODE[error.code], error.message),)
        error.field_errors = tuple(
            dataclasses.replace(item, field=self.native(item.field)) for item in fields
        )
        return error


def _emails(value: Any, problems: list[FieldError]) -> tuple[list[dict], bool | None]:
    """The `emails` list as the LoginRadius reader takes it, and the verified state they
    share (None when no item says)."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        problems.append(
            FieldError("emails", 'A list of {"value", "type", "verified"} objects.', "invalid")
        )
        return [], None
    items: list[dict] = []
    states: set[bool] = set()
    for index, item in enumerate(value):
        unknown = [key for key in item if key not in ("value", "type", "verified")]
        for key in unknown:
            problems.append(
                FieldError(f"emails[{index}].{key}", "An email has no such field.", "unknown")
            )
        verified = item.get("verified")
        if verified is not None and not isinstance(verified, bool):
            problems.append(FieldError(f"emails[{index}].verified", "true or false.", "invalid"))
        elif verified is not None:
            states.add(verified)
        items.append({"Type": item.get("type"), "Value": item.get("value")})
    if len(states) > 1:
        problems.append(
            FieldError(
                "emails",
                "A new account's emails are all verified or all unverified; verify the others "
                "afterwards.",
                "invalid",
            )
        )
    return items, (states.pop() if len(states) == 1 else None)


def account_create_from_body(
    body: Any, *, names: NativeNames, reason: str, ticket: str
) -> AccountCreate:
    """The `AccountCreate` a native body asks for; unknown, read-only and security fields
    are refused together, before any value is judged."""
    body = body_object(body)
    problems: list[FieldError] = []
    stored: dict[str, Any] = {}
    verified: bool | None = None
    for key, value in body.items():
        field = ALIASES.get(key) or FIELD_BY_NATIVE_NAME.get(key)
        if field is None:
            known = key in READ_ONLY_NATIVE_NAMES
            problems.append(
                FieldError(
                    key,
                    "This field is read-only." if known else "The account has no such field.",
                    "read_only" if known else "unknown",
                )
            )
        elif field in SECURITY_FIELDS:
            problems.append(
                FieldError(key, "The security section's operations set this.", "read_only")
            )
        elif field in names.by_field:
            problems.append(
                FieldError(key, f"Given twice (also as {names.by_field[field]}).", "invalid")
            )
        else:
            names.by_field[field] = key
            if field == "Email":
                stored[field], verified = _emails(value, problems)
            elif field == "CustomFields" or value is None:
                stored[field] = value
            else:
                stored[field] = stored_keys(value)
    if verified is not None:
        if stored.get("EmailVerified", verified) != verified:
            problems.append(
                FieldError(
                    names.native("EmailVerified"), "Disagrees with the emails' verified.", "invalid"
                )
            )
        stored["EmailVerified"] = verified
    if problems:
        raise InvalidInput(field_errors=problems)
    try:
        command = profile_body.account_create_read(stored)
    except DomainError as error:
        raise names.renamed(error) from None
    return dataclasses.replace(command, reason=reason, ticket=ticket)

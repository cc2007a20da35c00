"""The checks of emails and array fields (addresses, country, custom fields) and how an
update's list edits merge into the stored array."""

from collections.abc import Iterable
from typing import Any

from accounts.commands import EmailEdit, ListEdit
from accounts.errors import (
    AddressTypeRequired,
    AddressTypesNotDistinct,
    EmailsNotDistinct,
    EmailTypeRequired,
    PrimaryEmailNotUnique,
)
from accounts.profile_fields.checks import Problems, clean_email, invalid, lower_keys
from accounts.profile_fields.vocabulary import (
    ARRAY_MAX_ITEMS,
    EMAIL_TYPE_MAX_LENGTH,
    PROFILE_ARRAYS,
    PROFILE_STRING_MAX_LENGTH,
)


def email_edits_check(edits: Iterable[EmailEdit], *, allow_remove: bool) -> list[EmailEdit]:
    """The address edits checked in order and cleaned (addresses trimmed, Primary and
    Secondary spelt so): 1201/1202/1203/1038 as LoginRadius has them. A removal is allowed
    only where there may be something to remove (not on create)."""
    result, seen_values, seen_primary = [], set(), 0
    for edit in edits:
        if edit.remove:
            if not allow_remove:
                raise invalid("Email", "A new account has no address to remove.")
            result.append(EmailEdit(value=clean_email(edit.value), remove=True))
            continue
        if not isinstance(edit.type, str) or not edit.type.strip():
            raise EmailTypeRequired()
        if len(edit.type.strip()) > EMAIL_TYPE_MAX_LENGTH:
            raise invalid(
                "Email", f"An email Type may be at most {EMAIL_TYPE_MAX_LENGTH} characters."
            )
        email = clean_email(edit.value)
        if email.lower() in seen_values:
            raise EmailsNotDistinct()
        seen_values.add(email.lower())
        if edit.type.strip().lower() == "primary":
            seen_primary += 1
            if seen_primary > 1:
                raise PrimaryEmailNotUnique()
        result.append(EmailEdit(type=canonical_email_type(edit.type), value=email))
    return result


def canonical_email_type(value: str) -> str:
    text = value.strip()
    return text[:1].upper() + text[1:] if text.lower() in ("primary", "secondary") else text


def clean_array(name: str, value: Any, problems: Problems) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        problems.add(name, f"The {name} field must be a list.")
        return None
    if len(value) > ARRAY_MAX_ITEMS:
        problems.add(name, f"The {name} field may hold at most {ARRAY_MAX_ITEMS} items.")
        return None
    items = []
    for raw in value:
        if isinstance(raw, dict):
            items.append(dict(raw))
        elif isinstance(raw, str | int | float) and not isinstance(raw, bool):
            items.append(raw)
        else:
            problems.add(name, f"Each {name} item must be an object.")
            return None
    return items


def list_edits_check(name: str, edits: tuple[ListEdit, ...], problems: Problems) -> bool:
    """Whether the edits of a list field can be applied: at most ARRAY_MAX_ITEMS, each item
    an object, a string or a number."""
    if len(edits) > ARRAY_MAX_ITEMS:
        problems.add(name, f"The {name} field may hold at most {ARRAY_MAX_ITEMS} items.")
        return False
    for edit in edits:
        item = edit.item
        if not isinstance(item, dict) and (
            isinstance(item, bool) or not isinstance(item, str | int | float)
        ):
            problems.add(name, f"Each {name} item must be an object.")
            return False
    return True


def _item_matches(existing: Any, pattern: Any) -> bool:
    if not isinstance(existing, dict) or not isinstance(pattern, dict):
        return False
    have = lower_keys(existing)
    wanted = lower_keys(pattern)
    return bool(wanted) and all(have.get(k) == v for k, v in wanted.items())


def merge_array(name: str, current: list | None, edits: Iterable[ListEdit]) -> list:
    """Apply an update's edits to the stored list, in order: a removal takes away every
    stored item matching it; an item stored as it is already is no change (a list read
    and sent back leaves it as it was); an item whose key (see PROFILE_ARRAYS) matches a
    stored one replaces it; any other item is appended."""
    key = PROFILE_ARRAYS.get(name)
    result = list(current or [])
    for edit in edits:
        item = edit.item
        if edit.remove:
            result = [e for e in result if not _item_matches(e, item)]
            continue
        if item in result:
            continue
        if key and isinstance(item, dict):
            value = lower_keys(item).get(key.lower())
            for index, existing in enumerate(result):
                if value is not None and lower_keys(existing).get(key.lower()) == value:
                    result[index] = item
                    break
            else:
                result.append(item)
        else:
            result.append(item)
    return result


def list_items(edits: Iterable[ListEdit]) -> list:
    """The items of a new account's list field: removals have nothing to remove."""
    return [edit.item for edit in edits if not edit.remove]


def check_addresses(addresses: list) -> None:
    types = []
    for address in addresses:
        address_type = lower_keys(address).get("type")
        if not isinstance(address_type, str) or not address_type.strip():
            raise AddressTypeRequired()
        types.append(address_type.strip().lower())
    if len(types) != len(set(types)):
        raise AddressTypesNotDistinct()


def clean_country(value: Any, problems: Problems) -> dict[str, Any] | None:
    if isinstance(value, str):
        return {"Code": "", "Name": value}
    if isinstance(value, dict):
        item = lower_keys(value)
        code, name = item.get("code"), item.get("name")
        if all(v is None or isinstance(v, str) for v in (code, name)):
            return {"Code": code or "", "Name": name or ""}
    problems.add("Country", "The Country field must be an object {Code, Name}.")
    return None


def clean_custom_fields(value: Any, problems: Problems) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        problems.add("CustomFields", "The CustomFields field must be an object.")
        return None
    for key, item in value.items():
        if not (item is None or isinstance(item, str | int | float | bool)):
            problems.add(
                "CustomFields", f"The custom field {key} must be a string, number or boolean."
            )
            return None
        if isinstance(item, str) and len(item) > PROFILE_STRING_MAX_LENGTH:
            problems.add("CustomFields", f"The custom field {key} is too long.")
            return None
    return dict(value)

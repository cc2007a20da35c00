"""The LoginRadius profile vocabulary: which keys exist, which a caller may write, and how
each written value is checked.

Callers send keys in any case (`firstname`, `FirstName`); everything here works on the
canonical LoginRadius spelling. Validation raises the named error of the first problem
(accounts/errors.py: email, phone, birth date, UID, email items, addresses) or InvalidInput
naming every field that is wrong.
"""

import math
import re
from datetime import datetime
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from accounts.errors import (
    AddressTypeRequired,
    AddressTypesNotDistinct,
    BirthDateInvalid,
    EmailInvalid,
    EmailsNotDistinct,
    EmailTypeRequired,
    PhoneInvalid,
    PrimaryEmailNotUnique,
    UidInvalid,
)
from portal.errors import FieldError, InvalidInput

# Column-backed names.
NAME_COLUMNS = {"FirstName": "first_name", "MiddleName": "middle_name", "LastName": "last_name"}
NAME_MAX_LENGTH = 100

# Free-text profile fields kept in Account.profile.
PROFILE_STRINGS = (
    "Prefix",
    "Suffix",
    "NickName",
    "ProfileName",
    "BirthDate",
    "Gender",
    "Website",
    "State",
    "City",
    "HomeTown",
    "TimeZone",
    "LocalLanguage",
    "Language",
    "ThumbnailImageUrl",
    "ImageUrl",
    "Company",
    "About",
    "LocalCity",
    "LocalCountry",
    "MainAddress",
    "ProfileCity",
    "ProfileCountry",
    "ProfileUrl",
    "Industry",
    "Religion",
    "Political",
    "RelationshipStatus",
    "TagLine",
    "ProfessionalHeadline",
    "Favicon",
    "StaticUrl",
    "Quota",
    "Hireable",
    "CurrentStatus",
    "Age",
    "InterestedIn",
    "ExternalUserLoginId",
    "RegistrationSourceDetail",
)
PROFILE_STRING_MAX_LENGTH = 4000

# Array fields kept in Account.profile; the key names the item an update replaces
# (an item with another key value is appended). `{"op": "delete"}` removes matching items.
PROFILE_ARRAYS: dict[str, str | None] = {
    "Addresses": "Type",
    "PhoneNumbers": "PhoneType",
    "Languages": "Name",
    "PlacesLived": "Name",
    "ExternalIds": "Source",
    "Positions": None,
    "Educations": None,
    "IMAccounts": None,
    "Interests": None,
    "Skills": None,
    "Books": None,
    "Certifications": None,
    "Courses": None,
    "Movies": None,
    "Sports": None,
    "Games": None,
    "Television": None,
    "FavoriteThings": None,
    "Family": None,
    "Patents": None,
    "Publications": None,
    "Recommendations": None,
    "RecommendationsReceived": None,
    "Associations": None,
    "Awards": None,
    "Badges": None,
    "Honors": None,
    "HonorsAndAwards": None,
    "Volunteer": None,
    "MutualFriends": None,
    "Jobbookmarks": None,
    "Suggestions": None,
    "Projects": None,
    "Inspirations": None,
    "Memberships": None,
}
ARRAY_MAX_ITEMS = 100

# Flags kept in Account.profile.
PROFILE_FLAGS = ("IsTwoFactorAuthenticationEnabled", "DisableLogin", "IsProtected", "IsGeoEnabled")

# Social counters and objects that are null until a provider fills them.
SOCIAL_NULLS = (
    "FollowersCount",
    "FriendsCount",
    "LikesCount",
    "IsProtected",
    "IsGeoEnabled",
    "RelationshipStatus",
    "Verified",
    "Hireable",
    "Age",
    "CurrentStatus",
    "Provider",
    "ProfessionalHeadline",
    "ProfileUrl",
    "Favicon",
    "StaticUrl",
    "Quota",
    "MainAddress",
    "LocalCity",
    "LocalCountry",
    "ProfileCity",
    "ProfileCountry",
    "Industry",
    "Religion",
    "Political",
    "TagLine",
    "InterestedIn",
    "Kloutscore",
    "TotalStatusesCount",
)

# Keys that appear in the profile but are never written through create/update; a caller
# that sends a profile back (GET, edit, PUT) has them ignored.
READ_ONLY = (
    "ID",
    "Provider",
    "FullName",
    "Roles",
    "Identities",
    "IsCustomUid",
    "IsPasswordBreached",
    "IsSecurePassword",
    "LastPasswordChangeDate",
    "PasswordExpirationDate",
    "LastPasswordChangeToken",
    "PreviousUids",
    "NoOfLogins",
    "FirstLogin",
    "PinsCount",
    "SignupDate",
    "LastLoginDate",
    "LastLoginLocation",
    "CreatedDate",
    "ModifiedDate",
    "UpdatedTime",
    "UnverifiedEmail",
    "LoginLockedType",
    "FollowersCount",
    "FriendsCount",
    "LikesCount",
    "Verified",
    "Kloutscore",
    "TotalStatusesCount",
    "ApiKey",
)

IDENTITY_FIELDS = ("Uid", "UserName", "PhoneId", "Password", "Email")
STATE_FLAGS = (
    "EmailVerified",
    "PhoneIdVerified",
    "IsActive",
    "IsLoginLocked",
    "IsDeleted",
    "IsEmailSubscribed",
)
STRUCTURED = (
    "Country",
    "CustomFields",
    "PrivacyPolicy",
    "AcceptPrivacyPolicy",
    "SecurityQuestionAnswer",
    "PINInfo",
    "Consents",
    "RegistrationSource",
    "RegistrationProvider",
    "SessionLimit",
)

WRITABLE = (
    *IDENTITY_FIELDS,
    *NAME_COLUMNS,
    *PROFILE_STRINGS,
    *PROFILE_ARRAYS,
    *PROFILE_FLAGS,
    *STATE_FLAGS,
    *STRUCTURED,
)
KNOWN = {name.lower(): name for name in (*WRITABLE, *READ_ONLY)}
WRITABLE_SET = frozenset(WRITABLE)

CUSTOM_UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
USERNAME_RE = re.compile(r"^[^\s<>\"']{1,100}$")
_email_validator = EmailValidator()
EMAIL_MAX_LENGTH = 254
EMAIL_TYPE_MAX_LENGTH = 40


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


def canonicalise(body: Any, problems: Problems) -> dict[str, Any]:
    """The body with canonical key names; unknown keys are reported, read-only ones dropped."""
    if not isinstance(body, dict):
        raise invalid("", "The body must be a JSON object.")
    for key, value in body.items():
        reject_nul(key, "")
        reject_nul(value, str(key))
    result: dict[str, Any] = {}
    for key, value in body.items():
        canonical = KNOWN.get(str(key).lower())
        if canonical is None:
            problems.add(str(key), f"The field {key} is not a known profile field.")
        elif canonical in WRITABLE_SET:
            result[canonical] = value
    return result


def security_answers(body: Any) -> dict[str, str] | None:
    """The SecurityQuestionAnswer of a create or update body the account services accepted
    (they check its shape; the security section stores it), or None when absent or empty.
    Keys match in any case and the last one wins, as in `canonicalise`."""
    if hasattr(body, "raw"):
        body = body.raw()
    value = None
    for key, item in body.items() if isinstance(body, dict) else ():
        if str(key).lower() == "securityquestionanswer":
            value = item
    return dict(value) if isinstance(value, dict) and value else None


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


# ---------------------------------------------------------------- emails and arrays


def clean_email_items(value: Any, *, allow_delete: bool) -> list[dict[str, Any]]:
    """`Email[]` items as `{"Type", "Value", "op"?}`; 1201/1202/1203/1038 as LoginRadius has them."""
    if not isinstance(value, list):
        raise invalid("Email", "The Email field must be a list of {Type, Value}.")
    reject_nul(value, "Email")
    items, seen_values, seen_primary = [], set(), 0
    for raw in value:
        item = lower_keys(raw)
        if not isinstance(raw, dict):
            raise invalid("Email", "Each Email item must be an object.")
        op = str(item.get("op") or "").lower()
        if op == "delete" and allow_delete:
            items.append({"Value": clean_email(item.get("value")), "op": "delete"})
            continue
        email_type = item.get("type")
        if not isinstance(email_type, str) or not email_type.strip():
            raise EmailTypeRequired()
        if len(email_type.strip()) > EMAIL_TYPE_MAX_LENGTH:
            raise invalid(
                "Email", f"An email Type may be at most {EMAIL_TYPE_MAX_LENGTH} characters."
            )
        email = clean_email(item.get("value"))
        if email.lower() in seen_values:
            raise EmailsNotDistinct()
        seen_values.add(email.lower())
        if email_type.strip().lower() == "primary":
            seen_primary += 1
            if seen_primary > 1:
                raise PrimaryEmailNotUnique()
        items.append({"Type": canonical_email_type(email_type), "Value": email})
    return items


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


def _item_matches(existing: Any, pattern: dict[str, Any]) -> bool:
    if not isinstance(existing, dict):
        return False
    have = lower_keys(existing)
    wanted = {k: v for k, v in lower_keys(pattern).items() if k != "op"}
    return bool(wanted) and all(have.get(k) == v for k, v in wanted.items())


def merge_array(name: str, current: list | None, incoming: list) -> list:
    """Apply an update's items to the stored array: `op:delete` items remove every matching
    stored item; an item whose key (see PROFILE_ARRAYS) matches a stored one replaces it;
    any other item is appended."""
    key = PROFILE_ARRAYS.get(name)
    result = list(current or [])
    for item in incoming:
        if isinstance(item, dict) and str(lower_keys(item).get("op") or "").lower() == "delete":
            result = [e for e in result if not _item_matches(e, item)]
            continue
        if isinstance(item, dict):
            item = {k: v for k, v in item.items() if str(k).lower() != "op"}
        if key and isinstance(item, dict):
            value = lower_keys(item).get(key.lower())
            for index, existing in enumerate(result):
                if value is not None and lower_keys(existing).get(key.lower()) == value:
                    result[index] = item
                    break
            else:
                result.append(item)
        elif item not in result:
            result.append(item)
    return result


def strip_ops(items: list) -> list:
    """Items of a create body: `op:delete` items have nothing to delete and are dropped."""
    return [
        ({k: v for k, v in i.items() if str(k).lower() != "op"} if isinstance(i, dict) else i)
        for i in items
        if not (isinstance(i, dict) and str(lower_keys(i).get("op") or "").lower() == "delete")
    ]


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

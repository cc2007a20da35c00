"""The profile's vocabulary: which fields exist, which may be written, and how each written
value is checked: the vocabulary (`vocabulary`), the checks of single values (`checks`) and
of emails and arrays (`lists`); callers import the names from `accounts.profile_fields`.
Field names are the canonical LoginRadius spelling (`FirstName`, `PhoneId`), the names
commands, snapshots and audit diffs use.

Reading a wire body (keys in any case, nulls, `op:delete`) is the front door's business
(accounts/api/profile_body.py); the checks here are the domain's, run by the services on
every command whoever built it. They raise the named error of the first problem
(accounts/errors.py: email, phone, birth date, UID, email items, addresses) or InvalidInput
naming every field that is wrong.
"""

from accounts.profile_fields.checks import (
    MAX_DEPTH,
    Problems,
    clean_birth_date,
    clean_bool,
    clean_email,
    clean_phone,
    clean_string,
    clean_uid,
    clean_username,
    invalid,
    lower_keys,
    reject_nul,
    unstorable,
)
from accounts.profile_fields.lists import (
    canonical_email_type,
    check_addresses,
    clean_array,
    clean_country,
    clean_custom_fields,
    email_edits_check,
    list_edits_check,
    list_items,
    merge_array,
)
from accounts.profile_fields.vocabulary import (
    ARRAY_MAX_ITEMS,
    CUSTOM_UID_RE,
    EMAIL_MAX_LENGTH,
    EMAIL_TYPE_MAX_LENGTH,
    IDENTITY_FIELDS,
    KNOWN,
    NAME_COLUMNS,
    NAME_MAX_LENGTH,
    PROFILE_ARRAYS,
    PROFILE_FLAGS,
    PROFILE_STRING_MAX_LENGTH,
    PROFILE_STRINGS,
    READ_ONLY,
    SOCIAL_NULLS,
    STATE_FLAGS,
    STRUCTURED,
    USERNAME_RE,
    WRITABLE,
    WRITABLE_SET,
)

__all__ = [
    "ARRAY_MAX_ITEMS",
    "CUSTOM_UID_RE",
    "EMAIL_MAX_LENGTH",
    "EMAIL_TYPE_MAX_LENGTH",
    "IDENTITY_FIELDS",
    "KNOWN",
    "MAX_DEPTH",
    "NAME_COLUMNS",
    "NAME_MAX_LENGTH",
    "PROFILE_ARRAYS",
    "PROFILE_FLAGS",
    "PROFILE_STRINGS",
    "PROFILE_STRING_MAX_LENGTH",
    "READ_ONLY",
    "SOCIAL_NULLS",
    "STATE_FLAGS",
    "STRUCTURED",
    "USERNAME_RE",
    "WRITABLE",
    "WRITABLE_SET",
    "Problems",
    "canonical_email_type",
    "check_addresses",
    "clean_array",
    "clean_birth_date",
    "clean_bool",
    "clean_country",
    "clean_custom_fields",
    "clean_email",
    "clean_phone",
    "clean_string",
    "clean_uid",
    "clean_username",
    "email_edits_check",
    "invalid",
    "list_edits_check",
    "list_items",
    "lower_keys",
    "merge_array",
    "reject_nul",
    "unstorable",
]

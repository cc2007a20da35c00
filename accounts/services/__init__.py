"""Every write to an account: one function per operation, each in one transaction with its
audit event. The API views and the console call these and nothing else.

Duplicate emails, usernames, phones, UIDs and provider identities are refused by database
constraints; a pre-check gives the usual answer and the constraint settles races (the
loser's IntegrityError becomes the same named error). Refusals are the named errors of
accounts/errors.py and portal/errors.py; the front doors render them.

The operations live by what they change (profile, emails, phone, identities, password,
lifecycle); this package names them all, so callers import from `accounts.services`.
"""

from accounts.services.emails import (
    account_email_make_primary,
    account_email_mark_verified,
    account_email_remove,
    account_email_upsert,
    account_email_verification_invalidate,
    email_recovery_check,
)
from accounts.services.identities import account_identity_link, account_identity_unlink
from accounts.services.lifecycle import (
    account_block,
    account_create,
    account_delete,
    account_login_record,
    account_unblock,
    accounts_block,
    accounts_delete_by_email,
    accounts_locked,
    accounts_unblock,
)
from accounts.services.password import (
    account_password_change_require,
    account_password_set,
    account_password_verify,
    password_policy_check,
)
from accounts.services.phone import (
    account_phone_mark_verified,
    account_phone_update,
    account_phone_verification_invalidate,
)
from accounts.services.profile import account_uid_update, account_update
from accounts.services.shared import (
    PASSWORD_MAX_LENGTH,
    account_search_text,
    password_check,
    search_text_refresh,
    snapshot,
)

__all__ = [
    "PASSWORD_MAX_LENGTH",
    "account_block",
    "account_create",
    "account_delete",
    "account_email_make_primary",
    "account_email_mark_verified",
    "account_email_remove",
    "account_email_upsert",
    "account_email_verification_invalidate",
    "account_identity_link",
    "account_identity_unlink",
    "account_login_record",
    "account_password_change_require",
    "account_password_set",
    "account_password_verify",
    "account_phone_mark_verified",
    "account_phone_update",
    "account_phone_verification_invalidate",
    "account_search_text",
    "account_uid_update",
    "account_unblock",
    "account_update",
    "accounts_block",
    "accounts_delete_by_email",
    "accounts_locked",
    "accounts_unblock",
    "email_recovery_check",
    "password_check",
    "password_policy_check",
    "search_text_refresh",
    "snapshot",
]

"""What several account services share: identifier checks, the password's shape, the
derived search column, the audited snapshot and the audit event itself."""

from datetime import datetime
from typing import Any

from django.db import IntegrityError
from django.db.models.functions import Lower

from accounts.commands import EmailEdit, ListEdit
from accounts.errors import (
    AccountVersionStale,
    EmailTaken,
    IdentityTaken,
    PasswordInvalid,
    PhoneTaken,
    UidTaken,
    UsernameTaken,
)
from accounts.models import Account, AccountEmail
from accounts.password_policy import LENGTH_CEILING
from portal import audit, events
from portal.models import Tenant

PASSWORD_MAX_LENGTH = LENGTH_CEILING


@events.reads
def integrity_error(
    exc: IntegrityError,
) -> EmailTaken | UsernameTaken | PhoneTaken | IdentityTaken | UidTaken:
    """The named error for the unique constraint that refused a write."""
    text = str(exc).lower()
    if "account_email_unique_per_tenant" in text or "accounts_accountemail" in text:
        return EmailTaken()
    if "account_username_unique_per_tenant" in text or "username" in text:
        return UsernameTaken()
    if "account_phone_unique_per_tenant" in text or "phone_id" in text:
        return PhoneTaken()
    if "account_identity_unique_per_tenant" in text or "accounts_accountidentity" in text:
        return IdentityTaken()
    if "account_uid_unique_per_tenant" in text or ".uid" in text:
        return UidTaken()
    raise exc


@events.reads
def password_check(password: Any) -> None:
    """Refuse (PasswordInvalid) a password that cannot be set by any tenant: missing, or
    too long to hash. Whether the tenant accepts it is the password policy's to say
    (accounts.services.password_policy_check)."""
    if not isinstance(password, str) or not password:
        raise PasswordInvalid("The Password field is required.")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise PasswordInvalid(f"The password may be at most {PASSWORD_MAX_LENGTH} characters.")


def _email_values(account: Account) -> list[str]:
    return list(
        AccountEmail.objects.filter(account=account).order_by("id").values_list("value", flat=True)
    )


@events.reads
def account_search_text(account: Account, emails: list[str]) -> str:
    """The value of the derived search column, for accounts saved or bulk-written."""
    names = " ".join(p for p in (account.first_name, account.middle_name, account.last_name) if p)
    parts = [account.uid, account.username or "", account.phone_id or "", names, *emails]
    return "|".join(p for p in parts if p).lower()


@events.step
def search_text_refresh(*, account: Account, emails: list[str] | None = None) -> None:
    """Recompute the derived search column (names, identifiers, emails). Every service here
    keeps it current; accounts written another way (fixtures, imports) call this."""
    account.search_text = account_search_text(
        account, _email_values(account) if emails is None else emails
    )
    Account.objects.filter(pk=account.pk).update(search_text=account.search_text)


@events.reads
def snapshot(account: Account, emails: list[AccountEmail] | None = None) -> dict[str, Any]:
    """The audited view of an account: identifiers, names, flags and profile, never secrets."""
    rows = (
        list(AccountEmail.objects.filter(account=account).order_by("id"))
        if emails is None
        else emails
    )
    data: dict[str, Any] = {
        "Uid": account.uid,
        "UserName": account.username,
        "PhoneId": account.phone_id,
        "PhoneIdVerified": account.phone_id_verified,
        "EmailVerified": account.email_verified,
        "Email": [f"{e.type}:{e.value}" for e in rows],
        "FirstName": account.first_name,
        "MiddleName": account.middle_name,
        "LastName": account.last_name,
        "IsActive": account.is_active,
        "IsEmailSubscribed": account.is_email_subscribed,
        "CustomFields": dict(account.custom_fields or {}),
        "RegistrationSource": account.registration_source,
    }
    for key, value in (account.profile or {}).items():
        data.setdefault(key, value)
    return data


@events.step
def event_record(
    *, tenant, actor, action, account, before=None, after=None, reason="", ticket="", changes=None
):
    """The audit event of one change to `account`; the field diff from `before`/`after`
    unless `changes` is given."""
    if changes is None and before is not None and after is not None:
        changes = audit.diff(before, after)
    audit.record(
        tenant=tenant,
        actor=actor,
        action=action,
        subject_uid=account.uid,
        reason=reason,
        ticket=ticket,
        changes=changes or {},
    )


class ProfileChanges:
    """A create/update body read into what to write."""

    def __init__(self) -> None:
        self.uid: str | None = None
        self.username: tuple[str | None] | None = None  # (value,) when given; value None clears
        self.phone: tuple[str | None] | None = None
        self.password: str | None = None
        self.emails: list[EmailEdit] | None = None
        self.columns: dict[str, Any] = {}
        self.profile_set: dict[str, Any] = {}
        self.profile_clear: list[str] = []
        self.arrays: dict[str, tuple[ListEdit, ...]] = {}
        self.custom_fields: dict[str, Any] | None = None
        self.custom_fields_clear = False
        self.flags: dict[str, bool] = {}
        self.privacy_policy: str | None = None
        self.consents: Any = None
        self.pin: dict[str, Any] | None = None


@events.reads
def identifiers_check_free(
    *, tenant: Tenant, account: Account | None, changes: ProfileChanges
) -> None:
    """The usual answers for identifiers already in use (the constraints settle races)."""
    others = Account.objects.filter(tenant=tenant)
    if account is not None:
        others = others.exclude(pk=account.pk)
    if changes.uid and Account.objects.filter(tenant=tenant, uid=changes.uid).exists():
        raise UidTaken()
    if changes.emails:
        values = [e.value.lower() for e in changes.emails if not e.remove]
        taken = AccountEmail.objects.annotate(v=Lower("value")).filter(tenant=tenant, v__in=values)
        if account is not None:
            taken = taken.exclude(account=account)
        if taken.exists():
            raise EmailTaken()
    username = changes.username[0] if changes.username else None
    if username and others.annotate(u=Lower("username")).filter(u=username.lower()).exists():
        raise UsernameTaken()
    if changes.phone and changes.phone[0] and others.filter(phone_id=changes.phone[0]).exists():
        raise PhoneTaken()


@events.reads
def account_locked(account: Account, *, expected_version: str | None = None) -> Account:
    """The account's row, locked until the caller's transaction ends; AccountVersionStale
    when the command was built against another version than the stored one (a command
    without `expected_version` is not compared)."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if expected_version is not None:
        account_version_matches(locked, expected_version=expected_version)
    return locked


@events.reads
def account_version_matches(account: Account, *, expected_version: str) -> None:
    """AccountVersionStale unless `expected_version` names `account`'s stored version."""
    from accounts.selectors import account_version

    if not _same_version(expected_version, account):
        raise AccountVersionStale(current_version=account_version(account))


def _same_version(expected: str, account: Account) -> bool:
    """Whether `expected` names the account's version: the same instant, however written
    (`Z` or `+00:00`); a value that is no time at all names no version."""
    try:
        when = datetime.fromisoformat(expected.strip())
    except (AttributeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    return when == account.modified

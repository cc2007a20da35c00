"""Reads of account security. Every selector takes the tenant or an account of it."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeGuard, cast

from django.db import connection
from django.db.models import Exists, OneToOneRel, OuterRef, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts import selectors as account_selectors
from accounts.models import Account
from portal.models import Tenant
from security.errors import OTHER_APP_REFUSALS
from security.models import (
    AccountLockout,
    BackupCode,
    DuoConfig,
    OtpFactor,
    PasskeyCredential,
    PushDevice,
    SecurityAnswer,
    TotpFactor,
)


def account_for_login(*, tenant: Tenant, kind: str, login_id: str) -> Account | None:
    """The account a sign-in names (email and username in any case), or None; a malformed
    identifier names none."""
    finders: dict[str, Callable[..., Account]] = {
        "email": account_selectors.account_get_by_email,
        "username": account_selectors.account_get_by_username,
        "phone": account_selectors.account_get_by_phone,
    }
    find = finders[kind]
    try:
        return find(tenant=tenant, **{kind: login_id.strip()})
    except OTHER_APP_REFUSALS:
        return None


def backup_codes_remaining(*, account: Account) -> int:
    return BackupCode.objects.filter(account=account, used_at__isnull=True).count()


def account_ids_by_mfa(*, tenant: Tenant | None, value: bool) -> QuerySet:
    """Ids of the accounts holding (`value` true) or not holding a second factor a sign-in
    asks for (confirmed TOTP, SMS or email OTP, security questions, push), for use as a
    subquery (the account search's `has_mfa` filter). Without `tenant` the caller's own
    queryset must scope it."""
    ref = OuterRef("pk")
    has = (
        Exists(TotpFactor.objects.filter(account=ref, confirmed=True))
        | Exists(OtpFactor.objects.filter(account=ref, confirmed=True))
        | Exists(SecurityAnswer.objects.filter(account=ref))
        | Exists(PushDevice.objects.filter(account=ref))
    )
    accounts = (
        Account.objects.filter(tenant=tenant) if tenant is not None else Account.objects.all()
    )
    return accounts.filter(has if value else ~has).values("pk")


def _mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:2]}{'*' * max(len(local) - 2, 1)}@{domain}"


def _mask_phone(value: str) -> str:
    return f"{'*' * max(len(value) - 4, 0)}{value[-4:]}"


def second_factor_challenge_json(
    *, account: Account, state: dict, token: str, expires_at: str
) -> dict:
    """The `SecondFactorAuthentication` object of a sign-in that needs a second factor."""
    factors = {
        f.channel: f.destination for f in OtpFactor.objects.filter(account=account, confirmed=True)
    }
    return {
        "SecondFactorAuthenticationToken": token,
        "ExpireIn": expires_at,
        "QRCode": None,
        "ManualEntryCode": None,
        "IsGoogleAuthenticatorVerified": state["totp"],
        "IsAuthenticatorVerified": state["totp"],
        "IsOTPAuthenticatorVerified": state["sms"],
        "IsEmailOtpAuthenticatorVerified": state["email"],
        "IsSecurityQuestionAuthenticatorVerified": state["securityquestion"],
        "IsPushAuthenticatorVerified": state["push"],
        "IsDuoAuthenticatorVerified": state["duo"],
        "OTPPhoneNo": _mask_phone(factors["sms"]) if "sms" in factors else None,
        "OTPStatus": None,
        "Email": [_mask_email(factors["email"])] if "email" in factors else [],
    }


def passkey_list_json(*, account: Account) -> list[dict]:
    return [
        {
            "Id": row.credential_id,
            "Authenticator": row.authenticator,
            "Identifier": row.identifier,
            "CreatedAt": row.created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        }
        for row in PasskeyCredential.objects.filter(account=account).order_by("created", "pk")
    ]


def account_for_identifier(*, tenant: Tenant, identifier: str) -> Account | None:
    """The account an identifier names: an email if it has "@", a phone if it starts with
    "+", a username otherwise."""
    identifier = identifier.strip()
    kind = "email" if "@" in identifier else "phone" if identifier.startswith("+") else "username"
    return account_for_login(tenant=tenant, kind=kind, login_id=identifier)


def account_emails(*, account: Account) -> list[str]:
    return [row.value for row in account.emails.all()]


def duo_config_get(*, tenant: Tenant) -> DuoConfig | None:
    """The tenant's Duo application, if it has one (enabled or not)."""
    return DuoConfig.objects.filter(tenant=tenant).first()


# ---------------------------------------------------------------- sign-in locks


# The account's relation to its lock row (AccountLockout.account's related_name).
LOCKOUT_RELATION = "login_lockout"


def _lockout_relation() -> OneToOneRel:
    # The ORM types a field looked up by name as any field or relation.
    return cast(OneToOneRel, Account._meta.get_field(LOCKOUT_RELATION))


def accounts_with_lockout(qs: QuerySet[Account]) -> QuerySet[Account]:
    """`qs` with each account's lock loaded in the same query, so `account_lockout` and
    `login_lock_active` of a listed account query nothing."""
    return qs.select_related(LOCKOUT_RELATION)


def account_lockout(*, account: Account) -> AccountLockout | None:
    """The lock row of `account` (None: not locked, or the period is over but no sign-in
    removed the row yet): no query when the account was loaded with its lock."""
    relation = _lockout_relation()
    if relation.is_cached(account):
        return cast(AccountLockout | None, relation.get_cached_value(account))
    return AccountLockout.objects.filter(account_id=account.pk).first()


def lock_in_force(
    row: AccountLockout | None, *, now: datetime | None = None
) -> TypeGuard[AccountLockout]:
    """Whether the lock `row` refuses a sign-in at `now`."""
    return row is not None and (
        row.locked_until is None or row.locked_until > (now or timezone.now())
    )


def login_lock_active(*, account: Account, now: datetime | None = None) -> bool:
    """Whether `account` may not sign in now because of a lock."""
    return lock_in_force(account_lockout(account=account), now=now)


def account_ids_locked(*, tenant: Tenant | None, value: bool) -> QuerySet:
    """Ids of the accounts with (`value` true) or without a lock row, for use as a subquery
    (the account search's `locked` filter). Without `tenant` the caller's queryset scopes it."""
    accounts = (
        Account.objects.filter(tenant=tenant) if tenant is not None else Account.objects.all()
    )
    has = Exists(AccountLockout.objects.filter(account=OuterRef("pk")))
    return accounts.filter(has if value else ~has).values("pk")


# The profile's `IsLoginLocked` and `LoginLockedType` (registered in security.apps): the lock
# row as {"type", "until"} (null without one), loaded with the account on PostgreSQL; whether
# it is in force is decided when the profile is shown, against the current time.


def lockout_profile_sql(*, outer_account_id: str) -> str:
    """The lock of the account whose id column is `outer_account_id` (SQL) as a jsonb object,
    or null."""
    qn = connection.ops.quote_name
    table = qn(AccountLockout._meta.db_table)
    account_id = qn(AccountLockout._meta.get_field("account").column)
    # A concrete field always has its column; the ORM types it optional.
    locked_type = qn(cast(str, AccountLockout._meta.get_field("locked_type").column))
    until = qn(cast(str, AccountLockout._meta.get_field("locked_until").column))
    # Only model metadata goes into this text, never input.
    return (
        f"(SELECT jsonb_build_object('type', l.{locked_type}, 'until', l.{until}) "  # noqa: S608
        f"FROM {table} l WHERE l.{account_id} = {outer_account_id})"
    )


def lockout_profile_load(*, account: Account) -> dict | None:
    """What `lockout_profile_sql` gives, read for one account (one query, kept on the
    account for the profile's other lock key)."""
    row = account_lockout(account=account)
    _lockout_relation().set_cached_value(account, row)
    if row is None:
        return None
    return {
        "type": row.locked_type,
        "until": row.locked_until.isoformat() if row.locked_until else None,
    }


def _loaded_lock(value: Any) -> AccountLockout | None:
    if not value:
        return None
    until = value.get("until")
    return AccountLockout(
        locked_type=value.get("type") or "",
        locked_until=parse_datetime(until) if isinstance(until, str) else until,
    )


def lockout_profile_is_locked(value: Any) -> bool:
    """The profile's `IsLoginLocked` from the loaded lock."""
    return lock_in_force(_loaded_lock(value))


def lockout_profile_type(value: Any) -> str | None:
    """The profile's `LoginLockedType`: the type of a lock in force, else null."""
    row = _loaded_lock(value)
    return (row.locked_type or None) if lock_in_force(row) else None


def account_factors_list(*, account: Account) -> list[dict[str, Any]]:
    """The second factors of the account, one entry per kind (the unit a reset removes):
    `kind`, when the first was added, whether it is confirmed (usable at sign-in), how many
    rows make it up and a label that identifies it without revealing it (addresses masked)."""
    from security.models import DuoEnrollment

    found: list[dict[str, Any]] = []

    def add(kind: str, rows: list, *, label: str, confirmed: bool = True) -> None:
        if rows:
            found.append(
                {
                    "kind": kind,
                    "label": label,
                    "confirmed": confirmed,
                    "count": len(rows),
                    "created": min(row.created for row in rows),
                }
            )

    totp = list(TotpFactor.objects.filter(account=account))
    add("totp", totp, label="Authenticator app", confirmed=any(row.confirmed for row in totp))
    for channel, mask in (
        (OtpFactor.CHANNEL_SMS, _mask_phone),
        (OtpFactor.CHANNEL_EMAIL, _mask_email),
    ):
        rows = list(OtpFactor.objects.filter(account=account, channel=channel))
        if rows:
            add(channel, rows, label=mask(rows[0].destination), confirmed=rows[0].confirmed)
    answers = list(SecurityAnswer.objects.filter(account=account))
    add("securityquestion", answers, label=f"{len(answers)} security answer(s)")
    passkeys = list(PasskeyCredential.objects.filter(account=account).order_by("created", "pk"))
    add(
        "passkey",
        passkeys,
        label=", ".join(p.authenticator or "Passkey" for p in passkeys),
    )
    devices = list(PushDevice.objects.filter(account=account).order_by("created", "pk"))
    add("push", devices, label=", ".join(d.name or "Device" for d in devices))
    duo = list(DuoEnrollment.objects.filter(account=account))
    add("duo", duo, label="Duo enrolment")
    return found

"""Sign-in locks: set by the lockout policy after too many wrong passwords or by staff, and
lifted by staff, by the profile's `IsLoginLocked: false`, or when the period is over.

A lock is one `AccountLockout` row; the account's row is locked first, so lock and unlock of
one account never interleave. Unlocking also forgets the failed sign-ins (the subscriber of
`account.unlocked`), so the next wrong password does not lock again at once."""

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal import audit, events
from portal.audit import Actor
from portal.models import Tenant
from security.commands import AccountLock, AccountLockSet, AccountUnlock
from security.models import AccountLockout, LoginFailureCounter

MANUAL_LOCK = "ManualLock"
LOCKED_TYPE_FAILED_LOGINS = "FailedLoginAttemptsExceeded"


def _lock_state(row: AccountLockout | None) -> dict:
    """The audited view of a lock (the keys the account's own columns had)."""
    if row is None:
        return {"IsLoginLocked": False, "LoginLockedType": "", "LoginLockedUntil": None}
    return {
        "IsLoginLocked": True,
        "LoginLockedType": row.locked_type,
        "LoginLockedUntil": row.locked_until.isoformat() if row.locked_until else None,
    }


def _account_row_lock(account: Account) -> Account:
    """Lock the account's row for the caller's transaction and bump its `modified` (the
    profile's ModifiedDate moves when the lock changes, as it did when it was a column)."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    locked.modified = timezone.now()
    Account.objects.filter(pk=locked.pk).update(modified=locked.modified)
    return locked


@events.emits("account.locked")
def account_lock(
    command: AccountLock, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Lock sign-in (too many failures, or by hand) until `command.until` (None: until
    unlocked). Records account.locked."""
    with transaction.atomic():
        account = _account_row_lock(account)
        row = AccountLockout.objects.filter(account=account).first()
        before = _lock_state(row)
        row, _ = AccountLockout.objects.update_or_create(
            account=account,
            defaults={
                "tenant_id": account.tenant_id,
                "locked_type": (command.locked_type or MANUAL_LOCK)[:40],
                "locked_until": command.until,
            },
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="account.locked",
            subject_uid=account.uid,
            reason=command.reason,
            ticket=command.ticket,
            changes=audit.diff(before, _lock_state(row)),
        )
    return account


@events.emits("account.unlocked")
def account_unlock(
    command: AccountUnlock, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Let the account sign in again now: remove the lock. Records account.unlocked (its
    subscriber clears the failed sign-in counter)."""
    with transaction.atomic():
        account = _account_row_lock(account)
        row = AccountLockout.objects.filter(account=account).first()
        before = _lock_state(row)
        if row is not None:
            row.delete()
        audit.record(
            tenant=tenant,
            actor=actor,
            action="account.unlocked",
            subject_uid=account.uid,
            reason=command.reason,
            ticket=command.ticket,
            changes=audit.diff(
                {
                    "IsLoginLocked": before["IsLoginLocked"],
                    "LoginLockedType": before["LoginLockedType"],
                },
                {"IsLoginLocked": False, "LoginLockedType": ""},
            ),
        )
    return account


@events.emits("account.locked", "account.unlocked")
def account_lock_set(
    command: AccountLockSet, *, tenant: Tenant, actor: Actor, account: Account
) -> bool:
    """The profile's `IsLoginLocked` written with an account change: true locks by hand an
    account not locked yet, false unlocks a locked one; otherwise nothing changes and no
    event is recorded. Returns whether it changed the lock."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        if command.locked == AccountLockout.objects.filter(account=account).exists():
            return False
        if command.locked:
            account_lock(
                AccountLock(locked_type=MANUAL_LOCK, reason=command.reason, ticket=command.ticket),
                tenant=tenant,
                actor=actor,
                account=account,
            )
        else:
            account_unlock(
                AccountUnlock(reason=command.reason, ticket=command.ticket),
                tenant=tenant,
                actor=actor,
                account=account,
            )
    return True


@events.upkeep
def login_failures_clear(*, account: Account) -> None:
    """Forget the account's consecutive login failures (unlock, successful sign-in)."""
    LoginFailureCounter.objects.filter(account=account).update(
        failure_count=0, last_failure_at=None
    )

"""Password sign-in, the second-factor steps that follow it, login failure counters and the
lockout policy (the locks themselves: security.services.lockout). Issuing the session of a
completed sign-in is the sign-in flow's step (flows.signin)."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Account
from portal import events
from portal.audit import Actor
from portal.errors import FieldRequired
from portal.models import Tenant
from security.commands import AccountLock, AccountUnlock
from security.errors import (
    AccountBlocked,
    PasswordChangeRequired,
    PasswordWrong,
    SecondFactorTokenInvalid,
)
from security.models import AccountLockout, LoginFailureCounter, SecondFactorToken
from security.selectors import lock_in_force
from security.services.factors import mfa_state_read
from security.services.lockout import (
    LOCKED_TYPE_FAILED_LOGINS,
    account_lock,
    account_unlock,
    login_failures_clear,
)
from security.services.second_factor_tokens import (
    IssuedToken,
    second_factor_token_consume,
    second_factor_token_find,
    second_factor_token_issue,
)
from security.services.signin_events import signin_failure_record

LOGIN_CHALLENGE_SECONDS = 10 * 60
_DUMMY_HASH: dict[str, str] = {}
# The documented cost attributes of Django's hashers (Argon2, PBKDF2, bcrypt, scrypt).
_COST_ATTRIBUTES = (
    "memory_cost",
    "time_cost",
    "parallelism",
    "iterations",
    "rounds",
    "work_factor",
)


@events.reads
def dummy_password_hash() -> str:
    """A hash made with the current default hasher, so checking it costs what a real check costs."""
    hasher = get_hasher()
    # Keyed by the parameters too: a dummy made under other costs would answer faster.
    key = repr(
        [hasher.algorithm, type(hasher).__qualname__]
        + [getattr(hasher, name, None) for name in _COST_ATTRIBUTES]
    )
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = make_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH[key]


@events.reads
def password_matches(*, account: Account, password: str) -> bool:
    if not account.password:
        check_password(password, dummy_password_hash())
        return False
    return account_services.account_password_verify(account=account, password=password)


@events.reads
def login_lock_row(*, account: Account) -> AccountLockout | None:
    """The account's lock as stored now (never a lock loaded earlier with the account)."""
    return AccountLockout.objects.filter(account_id=account.pk).first()


@events.reads
def login_lock_active(*, account: Account, now: datetime | None = None) -> bool:
    """Whether a lock refuses the account's sign-in at `now`."""
    return lock_in_force(login_lock_row(account=account), now=now)


def _login_failure_record(*, tenant: Tenant, account: Account) -> None:
    """Count a wrong password; at the tenant's threshold lock the account for its period."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                LoginFailureCounter.objects.get_or_create(
                    account=account, defaults={"tenant": tenant}
                )
        except IntegrityError:
            pass
        counter = LoginFailureCounter.objects.select_for_update().get(account=account)
        now = timezone.now()
        if login_lock_active(account=account, now=now):
            return  # locked meanwhile by a parallel attempt: attempts during a lock do not count
        count = counter.failure_count + 1
        threshold = int(tenant.setting("lockout_threshold"))
        if threshold > 0 and count >= threshold:
            minutes = int(tenant.setting("lockout_minutes"))
            until = now + timedelta(minutes=minutes) if minutes > 0 else None
            account_lock(
                AccountLock(
                    locked_type=LOCKED_TYPE_FAILED_LOGINS,
                    until=until,
                    reason=f"{count} consecutive failed sign-ins",
                ),
                tenant=tenant,
                actor=Actor.system("lockout policy"),
                account=account,
            )
        LoginFailureCounter.objects.filter(pk=counter.pk).update(
            failure_count=count, last_failure_at=now
        )


@events.reads
def login_failure_count(*, account: Account) -> int:
    counter = LoginFailureCounter.objects.filter(account=account).first()
    return counter.failure_count if counter else 0


@dataclass(frozen=True)
class LoginOutcome:
    account: Account
    challenge: IssuedToken | None  # set when a second factor must follow


@dataclass(frozen=True)
class _LoginState:
    """What a password sign-in reads of the account besides the account itself, as stored
    now: its lock row, its count of failed sign-ins and whether a second factor must
    follow (the last two in one query)."""

    lock: AccountLockout | None
    failure_count: int
    mfa_required: bool


def _login_state(account: Account) -> _LoginState:
    failures = LoginFailureCounter.objects.filter(account=OuterRef("pk")).values("failure_count")
    mfa = mfa_state_read(account=account, failure_count=Subquery(failures[:1]))
    return _LoginState(
        lock=login_lock_row(account=account),
        failure_count=mfa.extra["failure_count"] or 0,
        mfa_required=mfa.required,
    )


def _refused(*, tenant: Tenant, account: Account, reason: str) -> None:
    signin_failure_record(tenant=tenant, uid=account.uid, reason=reason, method="password")


@events.flow("signin.failed", proof=True)
def login_password(*, tenant: Tenant, account: Account | None, password: str) -> LoginOutcome:
    """Check a password sign-in. Unknown account, wrong password and a locked account all
    answer PasswordWrong after the same amount of hashing work; only a wrong password of an unlocked
    account counts towards the lockout."""
    if account is None:
        check_password(password or "", dummy_password_hash())
        signin_failure_record(tenant=tenant, uid="", reason="unknown_account", method="password")
        raise PasswordWrong()
    now = timezone.now()
    matches = password_matches(account=account, password=password or "")
    state = _login_state(account)  # read after the hashing: a parallel failure may lock
    lock = state.lock
    if lock is not None:
        if lock_in_force(lock, now=now):
            _refused(tenant=tenant, account=account, reason="locked")
            raise PasswordWrong()
        # the lock period is over
        account_unlock(
            AccountUnlock(reason="lock period over"),
            tenant=tenant,
            actor=Actor.system("lockout policy"),
            account=account,
        )
        login_failures_clear(account=account)
        account.refresh_from_db()
        state = _LoginState(lock=None, failure_count=0, mfa_required=state.mfa_required)
    if not matches:
        _login_failure_record(tenant=tenant, account=account)
        _refused(tenant=tenant, account=account, reason="wrong_password")
        raise PasswordWrong()
    if not account.is_active:
        _refused(tenant=tenant, account=account, reason="blocked")
        raise AccountBlocked()
    if state.failure_count:  # (no row or a zero count: nothing to forget)
        login_failures_clear(account=account)
    if (
        account.password_change_required
    ):  # staff secured the account: this password is known to others
        _refused(tenant=tenant, account=account, reason="password_change_required")
        raise PasswordChangeRequired()
    if state.mfa_required:
        with transaction.atomic():
            challenge = second_factor_token_issue(
                tenant=tenant,
                account=account,
                purpose=SecondFactorToken.PURPOSE_LOGIN,
                method="",
                seconds=LOGIN_CHALLENGE_SECONDS,
            )
        return LoginOutcome(account, challenge)
    return LoginOutcome(account, None)


SECOND_FACTOR_FAILED = "second_factor_failed"


@events.flow("signin.failed", proof=True)
def login_second_factor_refused(*, tenant: Tenant, account: Account, method: str) -> None:
    """Record that the second factor of a pending sign-in did not verify: the history shows
    it as its own reason, apart from a wrong password."""
    signin_failure_record(
        tenant=tenant, uid=account.uid, reason=SECOND_FACTOR_FAILED, method=method
    )


@events.reads
def login_challenge_get(*, tenant: Tenant, token: str) -> SecondFactorToken:
    row = second_factor_token_find(
        tenant=tenant, token=token, purpose=SecondFactorToken.PURPOSE_LOGIN
    )
    if row is None:
        raise (
            SecondFactorTokenInvalid()
            if token
            else FieldRequired("secondfactorauthenticationtoken")
        )
    return row


@events.upkeep
def login_challenge_complete(*, row: SecondFactorToken) -> bool:
    """Spend the sign-in challenge once its second factor verified."""
    return second_factor_token_consume(row)

"""Password sign-in, the second-factor steps that follow it, login failure counters and the
lockout policy."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Account
from portal.audit import Actor
from portal.errors import FieldRequired
from portal.models import Tenant
from security.errors import (
    AccountBlocked,
    PasswordChangeRequired,
    PasswordWrong,
    SecondFactorTokenInvalid,
)
from security.models import LoginFailureCounter, SecondFactorToken
from security.services.factors import account_has_mfa
from security.services.second_factor_tokens import (
    IssuedToken,
    second_factor_token_consume,
    second_factor_token_find,
    second_factor_token_issue,
)

LOGIN_CHALLENGE_SECONDS = 10 * 60
LOCKED_TYPE_FAILED_LOGINS = "FailedLoginAttemptsExceeded"
_DUMMY_HASH: dict[str, str] = {}


def dummy_password_hash() -> str:
    """A hash made with the current default hasher, so checking it costs what a real check costs."""
    algorithm = get_hasher().algorithm
    if algorithm not in _DUMMY_HASH:
        _DUMMY_HASH[algorithm] = make_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH[algorithm]


def password_matches(*, account: Account, password: str) -> bool:
    if not account.password:
        check_password(password, dummy_password_hash())
        return False
    return account_services.account_password_verify(account=account, password=password)


def login_lock_active(account: Account, now: datetime) -> bool:
    return account.is_login_locked and (
        account.login_locked_until is None or account.login_locked_until > now
    )


def login_failures_clear(*, account) -> None:
    """Forget the account's consecutive login failures (unlock, successful sign-in)."""
    LoginFailureCounter.objects.filter(account=account).update(
        failure_count=0, last_failure_at=None
    )


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
        if login_lock_active(Account.objects.get(pk=account.pk), now):
            return  # locked meanwhile by a parallel attempt: attempts during a lock do not count
        count = counter.failure_count + 1
        threshold = int(tenant.setting("lockout_threshold"))
        if threshold > 0 and count >= threshold:
            minutes = int(tenant.setting("lockout_minutes"))
            until = now + timedelta(minutes=minutes) if minutes > 0 else None
            account_services.account_lock(
                tenant=tenant,
                actor=Actor.system("lockout policy"),
                account=account,
                locked_type=LOCKED_TYPE_FAILED_LOGINS,
                until=until,
                reason=f"{count} consecutive failed sign-ins",
            )
        LoginFailureCounter.objects.filter(pk=counter.pk).update(
            failure_count=count, last_failure_at=now
        )


def login_failure_count(*, account: Account) -> int:
    counter = LoginFailureCounter.objects.filter(account=account).first()
    return counter.failure_count if counter else 0


@dataclass(frozen=True)
class LoginOutcome:
    account: Account
    challenge: IssuedToken | None  # set when a second factor must follow


def login_password(*, tenant: Tenant, account: Account | None, password: str) -> LoginOutcome:
    """Check a password sign-in. Unknown account, wrong password and a locked account all
    answer PasswordWrong after the same amount of hashing work; only a wrong password of an unlocked
    account counts towards the lockout."""
    if account is None:
        check_password(password or "", dummy_password_hash())
        raise PasswordWrong()
    now = timezone.now()
    matches = password_matches(account=account, password=password or "")
    if account.is_login_locked:
        if login_lock_active(account, now):
            raise PasswordWrong()
        # the lock period is over
        account_services.account_unlock(
            tenant=tenant,
            actor=Actor.system("lockout policy"),
            account=account,
            reason="lock period over",
        )
        login_failures_clear(account=account)
        account.refresh_from_db()
    if not matches:
        _login_failure_record(tenant=tenant, account=account)
        raise PasswordWrong()
    if not account.is_active:
        raise AccountBlocked()
    login_failures_clear(account=account)
    if (
        account.password_change_required
    ):  # staff secured the account: this password is known to others
        raise PasswordChangeRequired()
    if account_has_mfa(account=account):
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


def login_challenge_complete(*, row: SecondFactorToken) -> bool:
    """Spend the sign-in challenge once its second factor verified."""
    return second_factor_token_consume(row)


def session_for(*, tenant: Tenant, account: Account, reason: str):
    """The access/refresh pair of a completed sign-in."""
    from tokens.services.sessions import session_issue

    with transaction.atomic():
        account_services.account_login_record(tenant=tenant, account=account)
        return session_issue(
            tenant=tenant, account=account, actor=Actor.account(account.uid), reason=reason
        )

"""Sign-in: security checks who signs in (password, lockout, second factor), then the
account counts the sign-in and tokens issues the session."""

from dataclasses import dataclass

from django.db import transaction

from accounts import services as account_services
from accounts.models import Account
from portal import audit, events
from portal.audit import Actor
from portal.models import Tenant
from security import services as security_services
from security.services.second_factor_tokens import IssuedToken
from tokens.commands import SessionIssue
from tokens.services.sessions import IssuedSession, session_issue


@events.flow("signin.succeeded", proof=True)
def signin_complete(
    *, tenant: Tenant, account: Account, reason: str, device: dict | None = None
) -> IssuedSession:
    """The access/refresh pair of a sign-in whose every check passed: the account counts it
    (account.login_recorded), the attempt is recorded (signin.succeeded, with the way it
    was made) and the session opens (session.issued), in one transaction."""
    with transaction.atomic():
        account_services.account_login_record(tenant=tenant, account=account)
        audit.record(
            tenant=tenant,
            actor=Actor.account(account.uid),
            action="signin.succeeded",
            subject_uid=account.uid,
            changes={"method": reason},
        )
        return session_issue(
            SessionIssue(reason=reason, device=device),
            tenant=tenant,
            account=account,
            actor=Actor.account(account.uid),
        )


@dataclass(frozen=True)
class PasswordSignin:
    """A password sign-in that passed: its session, or the challenge a second factor must
    answer first (then `session` is None)."""

    account: Account
    session: IssuedSession | None
    challenge: IssuedToken | None


@events.flow(proof=True)
def password_signin(
    *, tenant: Tenant, account: Account | None, password: str, reason: str
) -> PasswordSignin:
    """Check the password (security: lockout, failure counter, blocked account, required
    change) and, unless a second factor must follow, open the session."""
    outcome = security_services.login_password(tenant=tenant, account=account, password=password)
    if outcome.challenge is not None:
        return PasswordSignin(outcome.account, None, outcome.challenge)
    session = signin_complete(tenant=tenant, account=outcome.account, reason=reason)
    return PasswordSignin(outcome.account, session, None)

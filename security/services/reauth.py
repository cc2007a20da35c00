"""Reauthentication: the account re-enters a credential for a short-lived proof that a back
end checks once."""

from django.contrib.auth.hashers import check_password
from django.db import transaction

from accounts.models import Account
from portal import audit, events
from portal.audit import Actor
from portal.models import Tenant
from security.errors import PasswordWrong, PinWrong
from security.models import DuoState, SecondFactorToken
from security.services.duo_prompt import duo_prompt_finish
from security.services.second_factor_tokens import (
    IssuedToken,
    second_factor_token_consume,
    second_factor_token_find,
    second_factor_token_issue,
)
from security.services.signin import dummy_password_hash, password_matches
from security.services.throttling import throttled_verify

REAUTH_GROUPS = {
    "password": "password",
    "pin": "pin",
    "otp": "2fa",
    "backupcode": "2fa",
    "authenticatorcode": "2fa",
    "emailotp": "2fa",
    "securityquestion": "2fa",
    "duo": "2fa",
}


@transaction.atomic
@events.emits("reauth_token.issued", proof=True)
def reauth_token_issue(*, tenant: Tenant, account: Account, method: str) -> IssuedToken:
    """A short-lived proof that the account just re-entered a credential, for a back end to check."""
    issued = second_factor_token_issue(
        tenant=tenant,
        account=account,
        purpose=SecondFactorToken.PURPOSE_REAUTH,
        method=REAUTH_GROUPS[method],
        seconds=int(tenant.setting("reauth_token_lifetime_seconds")),
    )
    audit.record(
        tenant=tenant,
        actor=Actor.account(account.uid),
        action="reauth_token.issued",
        subject_uid=account.uid,
        changes={"method": [None, method]},
    )
    return issued


@events.upkeep
def reauth_token_validate(*, tenant: Tenant, account: Account, token: str, group: str) -> bool:
    """Consume a reauthentication token of this account and kind; single use."""
    row = second_factor_token_find(
        tenant=tenant, token=token, purpose=SecondFactorToken.PURPOSE_REAUTH
    )
    if row is None or row.account_id != account.pk or row.method != group:
        return False
    return second_factor_token_consume(row)


@events.flow(proof=True)
def reauth_password(*, tenant: Tenant, account: Account, password: str) -> IssuedToken:
    if not throttled_verify(
        account=account,
        verifier="password_reauth",
        check=lambda: password_matches(account=account, password=password),
    ):
        raise PasswordWrong()
    return reauth_token_issue(tenant=tenant, account=account, method="password")


@events.flow(proof=True)
def reauth_pin(*, tenant: Tenant, account: Account, pin: str) -> IssuedToken:
    """Reauthenticate with the account's PIN (accounts keep its hash with the other secrets)."""

    def check() -> bool:
        stored = (account.secret_hashes or {}).get("pin")
        if not stored:
            check_password(pin, dummy_password_hash())
            return False
        return check_password(pin, stored)

    if not throttled_verify(account=account, verifier="pin_reauth", check=check):
        raise PinWrong()
    return reauth_token_issue(tenant=tenant, account=account, method="pin")


@events.flow(proof=True)
def reauth_duo(*, tenant: Tenant, account: Account, state: str, duo_code: str) -> IssuedToken:
    """Reauthenticate with the Duo prompt this account started: a state of another
    account, of a sign-in, used or expired is refused (SecondFactorTokenInvalid)."""
    duo_prompt_finish(
        tenant=tenant,
        state=state,
        duo_code=duo_code,
        purpose=DuoState.PURPOSE_REAUTH,
        account=account,
    )
    return reauth_token_issue(tenant=tenant, account=account, method="duo")

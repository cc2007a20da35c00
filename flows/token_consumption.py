"""Consuming a multipurpose token or OTP: tokens checks and spends the token, the account
section carries out the action it authorizes (verify an email or phone, reset a password,
delete the account), and tokens records the use (multipurpose_token.consumed), all in one
transaction; proving a phone also opens a session. Each flow records the events of those
steps and none of its own."""

from django.db import transaction

from accounts import services as account_services
from accounts.commands import (
    AccountDelete,
    EmailAddress,
    EmailMarkVerified,
    EmailUpsert,
    PasswordSet,
    PhoneMarkVerified,
    PhoneSet,
)
from accounts.models import Account
from portal import events
from portal.audit import Actor
from portal.models import Tenant
from tokens.commands import SessionIssue
from tokens.models import MultipurposeToken
from tokens.services.multipurpose import (
    EMAIL_LINK_ERRORS,
    OTP_ERRORS,
    token_consume,
    token_consumed_record,
)
from tokens.services.sessions import IssuedSession, session_issue


@events.flow(proof=True)
def email_verify_by_token(*, tenant: Tenant, value: str, actor: Actor | None = None) -> Account:
    """Verify the email a verification (or add-email) token was issued for."""
    with transaction.atomic():
        token = token_consume(
            tenant=tenant,
            kind=MultipurposeToken.KIND_EMAIL,
            purposes=["emailverification", "addemail"],
            value=value,
            errors=EMAIL_LINK_ERRORS,
        )
        account = token.account
        actor = actor or Actor.account(account.uid)
        if token.purpose == "addemail":
            added = EmailAddress(
                type=token.data.get("type") or "Secondary", value=token.destination
            )
            account_services.account_email_upsert(
                EmailUpsert(emails=(added,)), tenant=tenant, actor=actor, account=account
            )
        account_services.account_email_mark_verified(
            EmailMarkVerified(email=token.destination), tenant=tenant, actor=actor, account=account
        )
        token_consumed_record(tenant=tenant, token=token, actor=actor)
    return account


@events.flow(proof=True)
def password_reset_by_token(*, tenant: Tenant, value: str, password: str) -> Account:
    """Set a new password with a forgot-password email token."""
    with transaction.atomic():
        token = token_consume(
            tenant=tenant,
            kind=MultipurposeToken.KIND_EMAIL,
            purposes=["forgotpassword"],
            value=value,
        )
        actor = Actor.account(token.account.uid)
        account_services.account_password_set(
            PasswordSet(password=password, reason="password reset by token"),
            tenant=tenant,
            actor=actor,
            account=token.account,
        )
        token_consumed_record(tenant=tenant, token=token, actor=actor)
    return token.account


@events.flow(proof=True)
def password_reset_by_otp(*, tenant: Tenant, phone: str, otp: str, password: str) -> Account:
    """Set a new password with a forgot-password SMS OTP sent to `phone`."""
    with transaction.atomic():
        token = token_consume(
            tenant=tenant,
            kind=MultipurposeToken.KIND_SMS,
            purposes=["forgotpassword"],
            value=otp,
            destination=phone,
            errors=OTP_ERRORS,
        )
        actor = Actor.account(token.account.uid)
        account_services.account_password_set(
            PasswordSet(password=password, reason="password reset by SMS OTP"),
            tenant=tenant,
            actor=actor,
            account=token.account,
        )
        token_consumed_record(tenant=tenant, token=token, actor=actor)
    return token.account


@events.flow(proof=True)
def phone_verify_by_otp(
    *, tenant: Tenant, phone: str, otp: str, device: dict | None = None
) -> tuple[Account, IssuedSession]:
    """Verify `phone` with the OTP sent to it (phone verification or add-phone); proving the
    phone signs the owner in, as LoginRadius does. Returns (account, IssuedSession)."""
    with transaction.atomic():
        token = token_consume(
            tenant=tenant,
            kind=MultipurposeToken.KIND_SMS,
            purposes=["phoneidverification", "addphone"],
            value=otp,
            destination=phone,
            errors=OTP_ERRORS,
        )
        account = token.account
        actor = Actor.account(account.uid)
        if token.purpose == "addphone" or account.phone_id != token.destination:
            account_services.account_phone_update(
                PhoneSet(phone=token.destination), tenant=tenant, actor=actor, account=account
            )
            account.refresh_from_db()
        account_services.account_phone_mark_verified(
            PhoneMarkVerified(), tenant=tenant, actor=actor, account=account
        )
        token_consumed_record(tenant=tenant, token=token, actor=actor)
        account.refresh_from_db()
        session = session_issue(
            SessionIssue(reason="phone verified by OTP", device=device),
            tenant=tenant,
            account=account,
            actor=actor,
        )
    return account, session


@events.flow(proof=True)
def account_delete_by_token(*, tenant: Tenant, value: str) -> None:
    """Delete the account a delete-user token was issued for."""
    with transaction.atomic():
        token = token_consume(
            tenant=tenant,
            kind=MultipurposeToken.KIND_EMAIL,
            purposes=["deleteuser"],
            value=value,
        )
        actor = Actor.account(token.account.uid)
        token_consumed_record(tenant=tenant, token=token, actor=actor)
        account_services.account_delete(
            AccountDelete(reason="deleted by delete token"),
            tenant=tenant,
            actor=actor,
            account=token.account,
        )

"""Using a multipurpose token or OTP: the single-use check, and the actions a token
authorizes (verify an email or phone, reset a password, delete the account), each
committed together with the token's use."""

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal import audit, crypto
from portal.audit import Actor
from portal.models import Tenant
from tokens.errors import (
    MultipurposeTokenExpired,
    MultipurposeTokenUnknown,
    MultipurposeTokenUsed,
    OtpExpired,
    OtpUnknown,
    OtpUsed,
    VerificationLinkExpired,
    VerificationLinkUnknown,
    VerificationLinkUsed,
)
from tokens.models import MultipurposeToken

__all__ = [
    "account_delete_by_token",
    "email_verify_by_token",
    "password_reset_by_otp",
    "password_reset_by_token",
    "phone_verify_by_otp",
    "token_consume",
]

# Errors for a token that is unknown / already used / expired, by how it is presented.
TokenErrors = tuple[
    type[MultipurposeTokenUnknown], type[MultipurposeTokenUsed], type[MultipurposeTokenExpired]
]
_EMAIL_LINK_ERRORS: TokenErrors = (
    VerificationLinkUnknown,
    VerificationLinkUsed,
    VerificationLinkExpired,
)
_LINK_ERRORS: TokenErrors = (
    MultipurposeTokenUnknown,
    MultipurposeTokenUsed,
    MultipurposeTokenExpired,
)
_OTP_ERRORS: TokenErrors = (OtpUnknown, OtpUsed, OtpExpired)


def token_consume(
    *,
    tenant: Tenant,
    kind: str,
    purposes: list[str],
    value: str,
    destination: str | None = None,
    errors: TokenErrors = _LINK_ERRORS,
) -> MultipurposeToken:
    """Mark the live token with this value used and return it; must run inside the caller's
    transaction so that the action the token authorizes commits with its use.

    One conditional UPDATE does the check and the use: of concurrent uses exactly one
    matches the row while it is still unused."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("token_consume must run inside a transaction")
    now = timezone.now()
    rows = MultipurposeToken.objects.filter(
        tenant=tenant, kind=kind, purpose__in=purposes, token_hash=crypto.token_hash(value or "")
    )
    if destination is not None:
        rows = rows.filter(destination__iexact=destination)
    live = rows.filter(used_at__isnull=True, retired_at__isnull=True, expires_at__gt=now)
    ids = list(live.values_list("pk", flat=True)[:1])
    if ids and MultipurposeToken.objects.filter(
        pk=ids[0], used_at__isnull=True, retired_at__isnull=True, expires_at__gt=now
    ).update(used_at=now):
        return MultipurposeToken.objects.select_related("account").get(pk=ids[0])
    unknown, used, expired = errors
    seen = rows.order_by("-created").first()
    if seen is None or seen.retired_at is not None:
        raise unknown()
    if seen.used_at is not None:
        raise used()
    raise expired()


def _consumed(*, tenant, token: MultipurposeToken, actor: Actor) -> None:
    audit.record(
        tenant=tenant,
        actor=actor,
        action="multipurpose_token.consumed",
        subject_uid=token.account.uid,
        changes={"kind": token.kind, "purpose": token.purpose, "destination": token.destination},
    )


def email_verify_by_token(*, tenant: Tenant, value: str, actor: Actor | None = None) -> Account:
    """Verify the email a verification (or add-email) token was issued for."""
    from accounts import services as account_services

    with transaction.atomic():
        token = token_consume(
            tenant=tenant,
            kind=MultipurposeToken.KIND_EMAIL,
            purposes=["emailverification", "addemail"],
            value=value,
            errors=_EMAIL_LINK_ERRORS,
        )
        account = token.account
        actor = actor or Actor.account(account.uid)
        if token.purpose == "addemail":
            account_services.account_email_upsert(
                tenant=tenant,
                actor=actor,
                account=account,
                emails=[
                    {"Type": token.data.get("type") or "Secondary", "Value": token.destination}
                ],
            )
        account_services.account_email_mark_verified(
            tenant=tenant, actor=actor, account=account, email=token.destination
        )
        _consumed(tenant=tenant, token=token, actor=actor)
    return account


def password_reset_by_token(*, tenant: Tenant, value: str, password: str) -> Account:
    """Set a new password with a forgot-password email token."""
    from accounts import services as account_services

    with transaction.atomic():
        token = token_consume(
            tenant=tenant,
            kind=MultipurposeToken.KIND_EMAIL,
            purposes=["forgotpassword"],
            value=value,
        )
        actor = Actor.account(token.account.uid)
        account_services.account_password_set(
            tenant=tenant,
            actor=actor,
            account=token.account,
            password=password,
            reason="password reset by token",
        )
        _consumed(tenant=tenant, token=token, actor=actor)
    return token.account


def password_reset_by_otp(*, tenant: Tenant, phone: str, otp: str, password: str) -> Account:
    """Set a new password with a forgot-password SMS OTP sent to `phone`."""
    from accounts import services as account_services

    with transaction.atomic():
        token = token_consume(
            tenant=tenant,
            kind=MultipurposeToken.KIND_SMS,
            purposes=["forgotpassword"],
            value=otp,
            destination=phone,
            errors=_OTP_ERRORS,
        )
        actor = Actor.account(token.account.uid)
        account_services.account_password_set(
            tenant=tenant,
            actor=actor,
            account=token.account,
            password=password,
            reason="password reset by SMS OTP",
        )
        _consumed(tenant=tenant, token=token, actor=actor)
    return token.account


def phone_verify_by_otp(*, tenant: Tenant, phone: str, otp: str, device: dict | None = None):
    """Verify `phone` with the OTP sent to it (phone verification or add-phone); proving the
    phone signs the owner in, as LoginRadius does. Returns (account, IssuedSession)."""
    from accounts import services as account_services
    from tokens.services.sessions import session_issue

    with transaction.atomic():
        token = token_consume(
            tenant=tenant,
            kind=MultipurposeToken.KIND_SMS,
            purposes=["phoneidverification", "addphone"],
            value=otp,
            destination=phone,
            errors=_OTP_ERRORS,
        )
        account = token.account
        actor = Actor.account(account.uid)
        if token.purpose == "addphone" or account.phone_id != token.destination:
            account_services.account_phone_update(
                tenant=tenant, actor=actor, account=account, phone=token.destination
            )
            account.refresh_from_db()
        account_services.account_phone_mark_verified(tenant=tenant, actor=actor, account=account)
        _consumed(tenant=tenant, token=token, actor=actor)
        account.refresh_from_db()
        session = session_issue(
            tenant=tenant,
            account=account,
            actor=actor,
            reason="phone verified by OTP",
            device=device,
        )
    return account, session


def account_delete_by_token(*, tenant: Tenant, value: str) -> None:
    """Delete the account a delete-user token was issued for."""
    from accounts import services as account_services

    with transaction.atomic():
        token = token_consume(
            tenant=tenant,
            kind=MultipurposeToken.KIND_EMAIL,
            purposes=["deleteuser"],
            value=value,
        )
        actor = Actor.account(token.account.uid)
        _consumed(tenant=tenant, token=token, actor=actor)
        account_services.account_delete(
            tenant=tenant, actor=actor, account=token.account, reason="deleted by delete token"
        )

"""Using a multipurpose token or OTP: the single-use check and the event of its use. The
actions a token authorizes (verify an email or phone, reset a password, delete the account)
are flows above the sections (flows.token_consumption), each committed together with the
token's use."""

from django.db import transaction
from django.utils import timezone

from portal import audit, crypto, events
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
    "EMAIL_LINK_ERRORS",
    "LINK_ERRORS",
    "OTP_ERRORS",
    "TokenErrors",
    "token_consume",
    "token_consumed_record",
]

# Errors for a token that is unknown / already used / expired, by how it is presented.
TokenErrors = tuple[
    type[MultipurposeTokenUnknown], type[MultipurposeTokenUsed], type[MultipurposeTokenExpired]
]
EMAIL_LINK_ERRORS: TokenErrors = (
    VerificationLinkUnknown,
    VerificationLinkUsed,
    VerificationLinkExpired,
)
LINK_ERRORS: TokenErrors = (
    MultipurposeTokenUnknown,
    MultipurposeTokenUsed,
    MultipurposeTokenExpired,
)
OTP_ERRORS: TokenErrors = (OtpUnknown, OtpUsed, OtpExpired)


@events.step
def token_consume(
    *,
    tenant: Tenant,
    kind: str,
    purposes: list[str],
    value: str,
    destination: str | None = None,
    errors: TokenErrors = LINK_ERRORS,
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


@events.emits("multipurpose_token.consumed", proof=True)
def token_consumed_record(*, tenant: Tenant, token: MultipurposeToken, actor: Actor) -> None:
    """Record the use of `token` (after `token_consume`, in the same transaction). Its
    input is the token just consumed, whose value was the proof: nothing to store."""
    audit.record(
        tenant=tenant,
        actor=actor,
        action="multipurpose_token.consumed",
        subject_uid=token.account.uid,
        changes={"kind": token.kind, "purpose": token.purpose, "destination": token.destination},
    )

"""Authenticator apps (RFC 6238 TOTP): enrollment, codes and their verification."""

import hashlib
import time

import pyotp
from django.db import transaction
from django.db.models import Q

from accounts.models import Account
from portal import audit, events
from portal.audit import Actor
from portal.crypto import constant_time_equals, decrypt, encrypt
from portal.models import Tenant
from security.commands import TotpEnroll
from security.models import TotpFactor
from security.services.factors import factor_notice_send
from security.services.throttling import throttled_verify

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6


@events.reads
def totp_code(
    secret_b32: str, *, for_time: float, digits: int = TOTP_DIGITS, digest=hashlib.sha1
) -> str:
    """The RFC 6238 code of a base32 secret at `for_time` (seconds since the epoch)."""
    return pyotp.TOTP(secret_b32, digits=digits, digest=digest).generate_otp(
        int(for_time) // TOTP_STEP_SECONDS
    )


@events.reads
def totp_matching_step(secret_b32: str, code: str, *, for_time: float) -> int | None:
    """The step (current, previous or next) whose code equals `code`, if any."""
    code = (code or "").strip()
    if not code.isdigit() or len(code) != TOTP_DIGITS:
        return None
    otp = pyotp.TOTP(secret_b32, digits=TOTP_DIGITS)
    current = int(for_time) // TOTP_STEP_SECONDS
    found = None
    for step in (current - 1, current, current + 1):
        if constant_time_equals(otp.generate_otp(step), code):
            found = step
    return found


@events.reads
def totp_provisioning_uri(*, tenant: Tenant, account: Account, secret_b32: str) -> str:
    label = account.username or account.uid
    return pyotp.TOTP(secret_b32).provisioning_uri(name=label, issuer_name=tenant.name)


@transaction.atomic
@events.emits("totp.enrolled")
def totp_enroll(
    command: TotpEnroll, *, tenant: Tenant, actor: Actor, account: Account
) -> str | None:
    """Start (or restart) an authenticator enrollment; the seed is shown until confirmed and
    stored encrypted. A confirmed authenticator is never shown again (None)."""
    existing = TotpFactor.objects.select_for_update().filter(account=account).first()
    if existing is not None and existing.confirmed:
        return None
    secret = pyotp.random_base32()
    if existing is None:
        TotpFactor.objects.create(tenant=tenant, account=account, secret_encrypted=encrypt(secret))
    else:
        existing.secret_encrypted = encrypt(secret)
        existing.last_used_step = None
        existing.save(update_fields=["secret_encrypted", "last_used_step"])
    audit.record(
        tenant=tenant,
        actor=actor,
        action="totp.enrolled",
        subject_uid=account.uid,
        reason=command.reason,
        ticket=command.ticket,
    )
    return secret


def _code_accept(*, account: Account, code: str, confirm: bool, moment: float) -> bool:
    """Accept a code of the enrolled authenticator once per step (replays are refused),
    throttled. With `confirm`, an unconfirmed enrollment becomes confirmed by its first good
    code, and `totp.confirmed` is recorded in the same transaction as the change."""

    def check() -> bool:
        factor = TotpFactor.objects.filter(account=account).first()
        if factor is None or not (factor.confirmed or confirm):
            return False
        step = totp_matching_step(decrypt(factor.secret_encrypted), code, for_time=moment)
        if step is None:
            return False
        updated = (
            TotpFactor.objects.filter(pk=factor.pk)
            .filter(Q(last_used_step__isnull=True) | Q(last_used_step__lt=step))
            .update(last_used_step=step, confirmed=True)
        )
        if updated and not factor.confirmed:
            # Inside throttled_verify's transaction: the confirmation and its event commit
            # together or not at all.
            audit.record(
                tenant=account.tenant,
                actor=Actor.account(account.uid),
                action="totp.confirmed",
                subject_uid=account.uid,
                changes={"confirmed": [False, True]},
            )
            factor_notice_send(tenant=account.tenant, account=account, factor="totp")
        return bool(updated)

    return throttled_verify(account=account, verifier="totp", check=check)


@events.upkeep
def totp_code_check(*, account: Account, code: str, now: float | None = None) -> bool:
    """A code of the confirmed authenticator as a second factor or a proof (sign-in,
    reauthentication): accepted once per step; what it changes is replay protection."""
    moment = time.time() if now is None else now
    return _code_accept(account=account, code=code, confirm=False, moment=moment)


@events.emits("totp.confirmed", proof=True)
def totp_confirm(*, account: Account, code: str, now: float | None = None) -> bool:
    """Confirm an enrollment with its first good code (records totp.confirmed); on an
    already confirmed authenticator a good code is accepted and nothing else changes."""
    moment = time.time() if now is None else now
    return _code_accept(account=account, code=code, confirm=True, moment=moment)

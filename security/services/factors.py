"""What every second factor shares: which factors an account has, the rows that make up
each one, their reset by support, and the notice sent when one is added."""

import logging

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal import audit
from portal.audit import Actor
from portal.models import Tenant
from security.commands import FactorReset
from security.errors import OTHER_APP_REFUSALS
from security.models import (
    DuoEnrollment,
    OtpCode,
    OtpFactor,
    PasskeyCredential,
    PushDevice,
    SecurityAnswer,
    SecurityAnswerChange,
    TotpFactor,
)
from security.services.duo_prompt import duo_required
from security.services.throttling import verifier_throttle_clear

logger = logging.getLogger("security")

# The factors an admin can reset, and the rows each one owns.
FACTORS = ("totp", "sms", "email", "securityquestion", "passkey", "push", "duo")

FACTOR_NOTICE_TEMPLATE = "factoradded"
FACTOR_NOTICE_NAMES = {
    "totp": "an authenticator app",
    "sms": "a phone number for sign-in codes",
    "email": "an email address for sign-in codes",
    "securityquestion": "security question answers",
    "passkey": "a passkey",
    "push": "a device that approves sign-ins",
}


def _notice_address(account: Account, fallback_phone: str) -> tuple[str, str] | None:
    """(channel, address) of the account holder: the primary email (any email when none is
    primary), else the account's phone, else `fallback_phone`, else the 2FA phone."""
    emails = list(account.emails.all())
    primary = next(
        (e for e in emails if e.type.lower() == "primary"), emails[0] if emails else None
    )
    if primary is not None:
        return OtpFactor.CHANNEL_EMAIL, primary.value
    phone = (
        account.phone_id
        or fallback_phone
        or OtpFactor.objects.filter(account=account, channel=OtpFactor.CHANNEL_SMS, confirmed=True)
        .values_list("destination", flat=True)
        .first()
    )
    return (OtpFactor.CHANNEL_SMS, phone) if phone else None


def factor_notice_send(
    *, tenant: Tenant, account: Account, factor: str, fallback_phone: str = ""
) -> None:
    """Tell the account holder that a sign-in factor was added or replaced, by email (by SMS
    when the account has no email), through the outbox in the caller's transaction. The
    notice names the kind of factor only, never its secret or address. When the tenant's
    daily cap is spent the change still stands; the miss is logged."""
    from tokens.services.multipurpose import message_enqueue

    address = _notice_address(account, fallback_phone)
    if address is None:
        return
    channel, recipient = address
    what = FACTOR_NOTICE_NAMES.get(factor, "a sign-in method")
    context = {
        "subject": f"A sign-in method was added to your {tenant.name} account",
        "body": f"{what[:1].upper()}{what[1:]} was added to your {tenant.name} account. If this was not you, "
        "secure your account now.",
        "factor": what,
        "application": tenant.name,
        "when": timezone.now().isoformat(),
    }
    try:
        with transaction.atomic():
            message_enqueue(
                tenant=tenant,
                account=account,
                channel=channel,
                template=FACTOR_NOTICE_TEMPLATE,
                recipient=recipient,
                context=context,
                check_limits=False,
            )
    except OTHER_APP_REFUSALS as exc:
        logger.warning("factor notice for account %s not queued (%s)", account.uid, exc)


def account_mfa_state(*, account: Account) -> dict[str, bool]:
    """Which second factors the account has (what a sign-in must ask for)."""
    channels = set(
        OtpFactor.objects.filter(account=account, confirmed=True).values_list("channel", flat=True)
    )
    return {
        "totp": TotpFactor.objects.filter(account=account, confirmed=True).exists(),
        "sms": OtpFactor.CHANNEL_SMS in channels,
        "email": OtpFactor.CHANNEL_EMAIL in channels,
        "securityquestion": SecurityAnswer.objects.filter(account=account).exists(),
        "passkey": PasskeyCredential.objects.filter(account=account).exists(),
        "push": PushDevice.objects.filter(account=account).exists(),
        "duo": DuoEnrollment.objects.filter(account=account).exists(),
    }


def account_has_mfa(*, account: Account) -> bool:
    state = account_mfa_state(account=account)
    if any(state[name] for name in ("totp", "sms", "email", "securityquestion", "push")):
        return True
    return duo_required(tenant=account.tenant)


def factor_rows(account: Account, factor: str):
    """The rows that make up one kind of factor of the account."""
    if factor == "totp":
        return TotpFactor.objects.filter(account=account)
    if factor in ("sms", "email"):
        return OtpFactor.objects.filter(account=account, channel=factor)
    if factor == "securityquestion":
        return SecurityAnswer.objects.filter(account=account)
    if factor == "passkey":
        return PasskeyCredential.objects.filter(account=account)
    if factor == "push":
        return PushDevice.objects.filter(account=account)
    if factor == "duo":
        return DuoEnrollment.objects.filter(account=account)
    raise ValueError(f"unknown factor {factor!r}")


@transaction.atomic
def mfa_factor_reset(
    command: FactorReset, *, tenant: Tenant, actor: Actor, account: Account
) -> int:
    """Remove one factor of the account (support: lost phone, new device) and end its
    sessions, since they may have been opened with the factor being withdrawn."""
    from tokens.services.sessions import account_sessions_revoke

    factor = command.factor
    rows = factor_rows(account, factor)
    removed = rows.count()
    rows.delete()
    if factor in ("sms", "email"):
        OtpCode.objects.filter(account=account, channel=factor, used_at__isnull=True).delete()
    if factor == "securityquestion":
        SecurityAnswerChange.objects.filter(account=account).delete()
    verifier_throttle_clear(account=account, verifier=factor)
    revoked = account_sessions_revoke(
        tenant=tenant, account=account, actor=actor, reason=f"mfa reset: {factor}"
    )
    audit.record(
        tenant=tenant,
        actor=actor,
        action="mfa_factor.reset",
        subject_uid=account.uid,
        reason=command.reason,
        ticket=command.ticket,
        changes={
            "factor": [factor, None],
            "removed": [removed, 0],
            "sessions_revoked": [revoked, 0],
        },
    )
    return removed

"""Email and SMS one-time codes: the factor's destination (pending until confirmed with a
code sent to it), sending codes and verifying them."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal import audit, events, slots
from portal.audit import Actor
from portal.crypto import token_hash
from portal.models import Tenant
from security.commands import OtpFactorSet
from security.errors import SecondFactorNotSetUp
from security.models import OtpCode, OtpFactor
from security.services.factors import factor_notice_send
from security.services.throttling import throttled_verify


@events.reads
def otp_code_new(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


@transaction.atomic
@events.emits("otp_factor.enrolled")
def otp_factor_set(
    command: OtpFactorSet, *, tenant: Tenant, actor: Actor, account: Account
) -> OtpFactor:
    """Point the account's email or SMS factor at a destination. A factor not confirmed yet
    simply moves there. A confirmed factor keeps its destination (sign-in codes still go
    there) and holds the new one as pending until a code sent to it confirms it
    (`otp_factor_confirm`); naming the current destination again drops the pending one."""
    channel, destination = command.channel, command.destination
    if channel not in (OtpFactor.CHANNEL_EMAIL, OtpFactor.CHANNEL_SMS) or not destination:
        raise ValueError("an email or sms channel and a destination are required")
    factor = OtpFactor.objects.select_for_update().filter(account=account, channel=channel).first()
    before = _otp_factor_fields(factor) if factor else {}
    if factor is None:
        factor = OtpFactor(tenant=tenant, account=account, channel=channel, destination=destination)
    elif factor.confirmed:
        same = _same_destination(channel, factor.destination, destination)
        factor.pending_destination = "" if same else destination
    elif not _same_destination(channel, factor.destination, destination):
        factor.destination = destination
        factor.pending_destination = ""
    factor.save()
    audit.record(
        tenant=tenant,
        actor=actor,
        action="otp_factor.enrolled",
        subject_uid=account.uid,
        reason=command.reason,
        ticket=command.ticket,
        changes={"channel": [None, channel], **audit.diff(before, _otp_factor_fields(factor))},
    )
    return factor


def _same_destination(channel: str, a: str, b: str) -> bool:
    return a.lower() == b.lower() if channel == OtpFactor.CHANNEL_EMAIL else a == b


def _otp_factor_fields(factor: OtpFactor) -> dict:
    return {
        "destination": factor.destination,
        "confirmed": factor.confirmed,
        "pending_destination": factor.pending_destination or None,
    }


def _otp_code_issue(
    *, tenant: Tenant, account: Account, channel: str, destination: str, template: str
) -> OtpCode:
    """A fresh code for `destination`, sent through the outbox; earlier unused codes sent
    there stop working."""
    length = int(tenant.setting("sms_otp_length")) if channel == OtpFactor.CHANNEL_SMS else 6
    code = otp_code_new(length)
    expires_at = timezone.now() + timedelta(minutes=int(tenant.setting("sms_otp_lifetime_minutes")))
    OtpCode.objects.filter(
        account=account, channel=channel, destination=destination, used_at__isnull=True
    ).delete()
    row = OtpCode.objects.create(
        tenant=tenant,
        account=account,
        channel=channel,
        destination=destination,
        code_hash=token_hash(code),
        expires_at=expires_at,
    )
    slots.message_queue(
        tenant=tenant,
        account=account,
        channel=channel,
        template=template or "mfa_otp",
        recipient=destination,
        expires_at=expires_at,
        context={
            "subject": "Your verification code",
            "body": "Your verification code is",
            "code": code,
            "expires_at": expires_at.isoformat(),
        },
    )
    return row


@transaction.atomic
@events.upkeep
def otp_send(*, tenant: Tenant, account: Account, channel: str, template: str = "") -> OtpCode:
    """Send a sign-in (or reauthentication) code to the confirmed destination of the
    factor; a factor that is not confirmed sends nothing (SecondFactorNotSetUp)."""
    factor = OtpFactor.objects.filter(account=account, channel=channel, confirmed=True).first()
    if factor is None:
        raise SecondFactorNotSetUp(field=channel)
    return _otp_code_issue(
        tenant=tenant,
        account=account,
        channel=channel,
        destination=factor.destination,
        template=template,
    )


@transaction.atomic
@events.upkeep
def otp_factor_code_send(
    *, tenant: Tenant, account: Account, channel: str, template: str = ""
) -> OtpCode:
    """Send the code that confirms the factor's new destination: the pending one, or the
    destination of a factor not confirmed yet."""
    factor = OtpFactor.objects.filter(account=account, channel=channel).first()
    if factor is None:
        raise SecondFactorNotSetUp(field=channel)
    return _otp_code_issue(
        tenant=tenant,
        account=account,
        channel=channel,
        destination=factor.pending_destination or factor.destination,
        template=template,
    )


def _otp_code_use(*, account: Account, channel: str, destination: str, code: str) -> bool:
    digest = token_hash("".join(str(code or "").split()))
    return bool(
        OtpCode.objects.filter(
            account=account,
            channel=channel,
            destination=destination,
            code_hash=digest,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).update(used_at=timezone.now())
    )


@events.upkeep
def otp_verify(*, account: Account, channel: str, code: str) -> bool:
    """A sign-in or reauthentication code: only a code sent to the confirmed destination
    of a confirmed factor is accepted, once. It never confirms anything."""

    def check() -> bool:
        factor = OtpFactor.objects.filter(account=account, channel=channel, confirmed=True).first()
        if factor is None:
            return False
        return _otp_code_use(
            account=account, channel=channel, destination=factor.destination, code=code
        )

    return throttled_verify(account=account, verifier=f"otp_{channel}", check=check)


@events.emits("otp_factor.confirmed", proof=True)
def otp_factor_confirm(
    *, tenant: Tenant, actor: Actor, account: Account, channel: str, code: str
) -> bool:
    """Confirm the factor's new destination with the code sent to it: a pending destination
    then replaces the old one, a new factor becomes confirmed, and the account holder is
    told. A code sent anywhere else (a sign-in code to the old destination) is refused."""

    def check() -> bool:
        factor = (
            OtpFactor.objects.select_for_update().filter(account=account, channel=channel).first()
        )
        if factor is None:
            return False
        target = factor.pending_destination or factor.destination
        if not _otp_code_use(account=account, channel=channel, destination=target, code=code):
            return False
        if factor.confirmed and not factor.pending_destination:
            return True  # the confirmed destination verified again: nothing changes
        before = _otp_factor_fields(factor)
        old = factor.destination if factor.confirmed else ""
        factor.destination, factor.pending_destination, factor.confirmed = target, "", True
        factor.save(update_fields=["destination", "pending_destination", "confirmed"])
        OtpCode.objects.filter(account=account, channel=channel, used_at__isnull=True).exclude(
            destination=target
        ).delete()
        audit.record(
            tenant=tenant,
            actor=actor,
            action="otp_factor.confirmed",
            subject_uid=account.uid,
            changes={"channel": [None, channel], **audit.diff(before, _otp_factor_fields(factor))},
        )
        factor_notice_send(
            tenant=tenant,
            account=account,
            factor=channel,
            fallback_phone=old if channel == OtpFactor.CHANNEL_SMS else "",
        )
        return True

    return throttled_verify(account=account, verifier=f"otp_{channel}", check=check)

"""Issuing multipurpose email tokens and SMS OTPs, and queueing the messages that carry
them. A token is purpose-bound, account-bound, single-use and time-limited; only its keyed
hash is stored. A newer token of the same purpose retires the older one."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from portal import audit, crypto, events
from portal.audit import Actor
from portal.errors import FieldRequired
from portal.models import Tenant
from tokens.commands import PhoneVerificationSend, TokenIssue, VerificationEmailSend
from tokens.models import MultipurposeToken, OutboxMessage
from tokens.services.multipurpose.limits import send_cooldown_take
from tokens.services.multipurpose.outbox import message_enqueue
from tokens.services.multipurpose.templates import (
    email_template_resolve,
    message_link,
    sms_template_resolve,
)

__all__ = [
    "EMAIL_TOKEN_TYPES",
    "SMS_OTP_TYPES",
    "IssuedToken",
    "account_tokens_retire",
    "lr_datetime",
    "multipurpose_tokens_purge",
    "phone_verification_send",
    "token_issue",
    "verification_email_send",
]

EMAIL_TOKEN_TYPES = (
    "emailverification",
    "addemail",
    "forgotpassword",
    "deleteuser",
    "passwordlesslogin",
    "forgotpin",
    "onetouchlogin",
    "autologin",
)
SMS_OTP_TYPES = (
    "addphone",
    "phoneidverification",
    "forgotpassword",
    "forgotpin",
    "onetouchlogin",
    "smartlogin",
    "passwordlesslogin",
    "deleteuser",
)


@dataclass(frozen=True)
class IssuedToken:
    token: MultipurposeToken
    value: str  # the plain token or OTP; returned once, never stored
    message: OutboxMessage | None = None

    @property
    def expires_at(self) -> datetime:
        return self.token.expires_at


@events.reads
def lr_datetime(value: datetime) -> str:
    """LoginRadius date format: `2023-04-05T09:08:03.288Z`."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _new_value(kind: str, tenant: Tenant) -> str:
    if kind == MultipurposeToken.KIND_SMS:
        length = max(4, min(12, int(tenant.setting("sms_otp_length"))))
        return "".join(secrets.choice("0123456789") for _ in range(length))
    return secrets.token_hex(16)  # 128 bits, 32 hex like LoginRadius tokens


@events.step
def account_tokens_retire(*, account, purposes: list[str], kind: str | None = None) -> int:
    """Retire the account's live multipurpose tokens of these purposes (e.g. a password
    change retires "forgotpassword" tokens). Returns how many were retired."""
    rows = MultipurposeToken.objects.live().filter(account=account, purpose__in=list(purposes))
    if kind:
        rows = rows.filter(kind=kind)
    return rows.update(retired_at=timezone.now())


@events.emits("multipurpose_token.issued")
def token_issue(
    command: TokenIssue, *, tenant: Tenant, account: Account, actor: Actor
) -> IssuedToken:
    """Issue a token (retiring the account's older token of the same purpose) and, with
    `send`, queue the message that carries it. Only a send takes the destination's cooldown
    and counts against the daily cap (SendCooldownActive / DailyCapReached when exhausted):
    a token handed back to the caller without a message sends nothing, so it is limited by
    the caller's API rate limits alone."""
    kind, purpose, destination = command.kind, command.purpose, command.destination
    data, send = command.data, command.send
    reason, ticket = command.reason, command.ticket
    lifetime = (
        timedelta(seconds=command.lifetime_seconds)
        if command.lifetime_seconds is not None
        else None
    )
    channel = (
        OutboxMessage.CHANNEL_SMS
        if kind == MultipurposeToken.KIND_SMS
        else OutboxMessage.CHANNEL_EMAIL
    )
    if lifetime is None:
        minutes = tenant.setting(
            "sms_otp_lifetime_minutes"
            if kind == MultipurposeToken.KIND_SMS
            else "email_token_lifetime_minutes"
        )
        lifetime = timedelta(minutes=int(minutes))
    if purpose == "forgotpassword" and kind == MultipurposeToken.KIND_EMAIL:
        from accounts.services import email_recovery_check

        email_recovery_check(account=account, email=destination)
    with transaction.atomic():
        if send:
            send_cooldown_take(
                tenant=tenant, channel=channel, destination=f"{purpose}:{destination.lower()}"
            )
        account_tokens_retire(account=account, purposes=[purpose], kind=kind)
        value = _new_value(kind, tenant)
        now = timezone.now()
        token = MultipurposeToken.objects.create(
            tenant=tenant,
            account=account,
            kind=kind,
            purpose=purpose,
            token_hash=crypto.token_hash(value),
            destination=destination,
            data=data or {},
            created=now,
            expires_at=now + lifetime,
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="multipurpose_token.issued",
            subject_uid=account.uid,
            reason=reason,
            ticket=ticket,
            changes={
                "kind": kind,
                "purpose": purpose,
                "destination": destination,
                "sent": send,
                "expires_at": lr_datetime(token.expires_at),
            },
        )
        message = None
        if send:
            message = _token_message_enqueue(
                tenant=tenant,
                account=account,
                token=token,
                value=value,
                channel=channel,
                template=command.template,
                link_base=command.link_base,
                voice=command.voice,
            )
    return IssuedToken(token=token, value=value, message=message)


_LINK_PATHS = {
    "emailverification": ("/auth/verify-email", "emailverification"),
    "addemail": ("/auth/verify-email", "emailverification"),
    "forgotpassword": ("/auth/reset-password", "reset"),
    "deleteuser": ("/auth/delete-account", "deleteuser"),
    "passwordlesslogin": ("/auth/login", "passwordlesslogin"),
    "forgotpin": ("/auth/reset-pin", "forgotpin"),
    "onetouchlogin": ("/auth/login", "onetouchlogin"),
    "autologin": ("/auth/login", "autologin"),
}


def _token_message_enqueue(
    *, tenant, account, token, value, channel, template, link_base, voice
) -> OutboxMessage:
    context = {
        "purpose": token.purpose,
        "name": account.first_name or "",
        "expires_at": lr_datetime(token.expires_at),
        "lifetime_minutes": int((token.expires_at - token.created).total_seconds() // 60),
    }
    if channel == OutboxMessage.CHANNEL_SMS:
        context.update({"code": value, "voice": voice})
        resolved = sms_template_resolve(template, token.purpose, tenant)
    else:
        path, vtype = _LINK_PATHS.get(token.purpose, ("/auth/verify", token.purpose))
        context.update(
            {
                "token": value,
                "link": message_link(link_base, path, {"vtype": vtype, "vtoken": value}),
                "email": token.destination,
            }
        )
        resolved = email_template_resolve(template, token.purpose, tenant)
    return message_enqueue(
        tenant=tenant,
        account=account,
        channel=channel,
        template=resolved,
        recipient=token.destination,
        context=context,
        expires_at=token.expires_at,
        token=token,
        check_limits=False,
        template_resolved=True,
        link_base=link_base if channel == OutboxMessage.CHANNEL_EMAIL else "",
        voice=voice if channel == OutboxMessage.CHANNEL_SMS else False,
    )


@events.flow()
def verification_email_send(
    command: VerificationEmailSend, *, tenant, account, actor: Actor
) -> IssuedToken:
    """Queue an email-verification message for `command.email` of `account` (in the
    caller's transaction; delivered after commit)."""
    issue = TokenIssue(
        kind=MultipurposeToken.KIND_EMAIL,
        purpose="emailverification",
        destination=command.email,
        send=True,
        template=command.template,
        link_base=command.verification_url,
        reason=command.reason,
        ticket=command.ticket,
    )
    return token_issue(issue, tenant=tenant, account=account, actor=actor)


@events.flow()
def phone_verification_send(
    command: PhoneVerificationSend, *, tenant, account, actor: Actor
) -> IssuedToken:
    """Queue a phone-verification OTP SMS to the account's phone."""
    if not account.phone_id:
        raise FieldRequired("phone")
    issue = TokenIssue(
        kind=MultipurposeToken.KIND_SMS,
        purpose="phoneidverification",
        destination=account.phone_id,
        send=True,
        template=command.template,
        voice=command.voice,
        reason=command.reason,
        ticket=command.ticket,
    )
    return token_issue(issue, tenant=tenant, account=account, actor=actor)


@events.upkeep
def multipurpose_tokens_purge(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete tokens that expired, were used or were retired more than `older_than` ago."""
    cutoff = timezone.now() - older_than
    deleted, _ = MultipurposeToken.objects.filter(
        Q(expires_at__lt=cutoff) | Q(used_at__lt=cutoff) | Q(retired_at__lt=cutoff)
    ).delete()
    return deleted

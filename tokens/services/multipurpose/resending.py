"""Sending an outbox message again: the same row goes back to the queue, with its attempts
counted from zero, and is delivered after commit like any new one.

Only a message whose content is still held can go again. Delivery erases the content of
a message once it is sent or given up, since it may carry a one-time secret (a code, a
link) that only its hash keeps afterwards; such a message is refused, and the way to reach
the person again is to issue a new token (which writes a new message)."""

from django.db import transaction
from django.utils import timezone

from portal import audit, events
from portal.audit import Actor
from portal.models import Tenant
from tokens.commands import MessageResend
from tokens.errors import MessageNotFound, MessageNotResendable
from tokens.models import OutboxMessage
from tokens.services.multipurpose.outbox import message_delivery_schedule

__all__ = ["message_resend"]


@events.emits("message.resent")
def message_resend(command: MessageResend, *, tenant: Tenant, actor: Actor) -> OutboxMessage:
    """Queue again a message of the tenant that was sent or failed. Another tenant's or an
    unknown id is MessageNotFound; one still waiting for delivery, one whose content was
    erased, expired, or whose token is no longer valid is MessageNotResendable; nothing
    changes then."""
    try:
        message_id = int(command.message_id)
    except (TypeError, ValueError):
        raise MessageNotFound() from None
    if not 0 < message_id < 2**63:
        raise MessageNotFound()
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .filter(pk=message_id, tenant=tenant)
            .select_related("token", "account")
            .first()
        )
        if message is None:
            raise MessageNotFound()
        if message.status not in (OutboxMessage.SENT, OutboxMessage.FAILED):
            raise MessageNotResendable("The message is still waiting for delivery.")
        if not message.context_encrypted:
            raise MessageNotResendable(
                "The message's content was erased once it was sent or given up; issue a new "
                "token to reach the person again."
            )
        if message.expires_at is not None and message.expires_at <= now:
            raise MessageNotResendable("The message has expired.")
        if message.token is not None and not message.token.is_live:
            raise MessageNotResendable("The token the message carries is no longer valid.")
        before = (message.status, message.attempts)
        message.status = OutboxMessage.QUEUED
        message.attempts = 0
        message.available_at = now
        message.claimed_at = None
        message.sent_at = None
        message.last_error = ""
        message.provider_message_id = ""
        message.save(
            update_fields=[
                "status",
                "attempts",
                "available_at",
                "claimed_at",
                "sent_at",
                "last_error",
                "provider_message_id",
                "modified",
            ]
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="message.resent",
            subject_uid=message.account.uid if message.account is not None else "",
            reason=command.reason,
            ticket=command.ticket,
            changes={
                "message": message.pk,
                "channel": message.channel,
                "template": message.template,
                "status": [before[0], OutboxMessage.QUEUED],
                "attempts": [before[1], 0],
            },
        )
        transaction.on_commit(lambda: message_delivery_schedule(message.pk), robust=True)
    return message

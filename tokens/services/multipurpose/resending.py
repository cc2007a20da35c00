"""Sending an outbox message again.

Delivery erases the content of every message once it is sent or given up, since it may
carry a one-time secret (a code, a link) that only its hash keeps afterwards; plain
content is never kept longer for a resend. So a resend depends on what the message was:

- a message that carried a multipurpose token (a verification link, a reset link, an
  OTP) is reached again with a **fresh** token of the same purpose, for the same account
  and address, issued by `token_issue` (which retires the older token, as every issue
  does) and carried by a new message; the old message stays as it was;
- a message without a token whose content is still held goes back to the queue as it is;
- anything else has nothing to send again and is refused (MessageNotResendable).
"""

from django.db import transaction
from django.utils import timezone

from portal import audit, events
from portal.audit import Actor
from portal.models import Tenant
from tokens.commands import MessageResend, TokenIssue
from tokens.errors import MessageNotFound, MessageNotResendable
from tokens.models import MultipurposeToken, OutboxMessage
from tokens.services.multipurpose.issuing import token_issue
from tokens.services.multipurpose.outbox import message_delivery_schedule

__all__ = ["message_resend"]

# Purposes whose token goes to an address the account does not hold yet (being added).
NEW_ADDRESS_PURPOSES = ("addemail", "addphone")


@events.emits("message.resent", effects=("multipurpose_token.issued",))
def message_resend(command: MessageResend, *, tenant: Tenant, actor: Actor) -> OutboxMessage:
    """Send a message of the tenant again, once it was sent or failed: a fresh token in a
    new message for a token's message, the same message queued again otherwise. Returns
    the message queued. Another tenant's or an unknown id is MessageNotFound; a message
    with nothing to send again is MessageNotResendable; nothing changes then."""
    try:
        message_id = int(command.message_id)
    except (TypeError, ValueError):
        raise MessageNotFound() from None
    if not 0 < message_id < 2**63:
        raise MessageNotFound()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .filter(pk=message_id, tenant=tenant)
            .select_related("account")
            .first()
        )
        if message is None:
            raise MessageNotFound()
        if message.status not in (OutboxMessage.SENT, OutboxMessage.FAILED):
            raise MessageNotResendable("The message is still waiting for delivery.")
        if message.token_id is not None:
            return _token_reissue(
                command, tenant=tenant, actor=actor, message=message, token_id=message.token_id
            )
        return _requeue(command, tenant=tenant, actor=actor, message=message)


def _token_reissue(
    command: MessageResend, *, tenant: Tenant, actor: Actor, message: OutboxMessage, token_id: int
) -> OutboxMessage:
    # Read (and lock) the token afresh: a resend that waited for the message's lock must
    # see the token the one before it retired, not the row it read before waiting.
    token = MultipurposeToken.objects.select_for_update().get(pk=token_id)
    if token.used_at is not None:
        raise MessageNotResendable(
            "The token the message carried was used: what it asked for is done."
        )
    if token.retired_at is not None:
        raise MessageNotResendable(
            "The token the message carried was replaced or withdrawn since; send the "
            "newest message of this purpose again instead."
        )
    if message.account is None or not _address_still_held(token, message.account):
        raise MessageNotResendable(
            "The address the message went to no longer belongs to the account."
        )
    resent = audit.record(
        tenant=tenant,
        actor=actor,
        action="message.resent",
        subject_uid=message.account.uid,
        reason=command.reason,
        ticket=command.ticket,
        changes={
            "message": message.pk,
            "channel": message.channel,
            "template": message.template,
            "purpose": token.purpose,
            "reissued": True,
        },
    )
    # The fresh token and its message are the resend's effect: their event points to it.
    with events.caused_by(resent.pk):
        issued = token_issue(
            TokenIssue(
                kind=token.kind,
                purpose=token.purpose,
                destination=token.destination,
                data=dict(token.data or {}),
                send=True,
                # The template the message was written with, by its own name (a tenant's
                # copy is found again by the tenant).
                template=message.template.rsplit("/", 1)[-1],
                link_base=message.link_base,
                voice=message.voice,
                reason=command.reason,
                ticket=command.ticket,
            ),
            tenant=tenant,
            account=message.account,
            actor=actor,
        )
    assert issued.message is not None
    return issued.message


def _address_still_held(token: MultipurposeToken, account) -> bool:
    """Whether the token's address is still the account's (a resend never reaches an
    address removed since); an address being added is not the account's yet."""
    if token.purpose in NEW_ADDRESS_PURPOSES:
        return True
    if token.kind == MultipurposeToken.KIND_SMS:
        return bool(account.phone_id) and account.phone_id == token.destination
    return account.emails.filter(value__iexact=token.destination).exists()


def _requeue(
    command: MessageResend, *, tenant: Tenant, actor: Actor, message: OutboxMessage
) -> OutboxMessage:
    now = timezone.now()
    if not message.context_encrypted:
        raise MessageNotResendable(
            "The message carried no token to issue again, and its content was erased once "
            "it was sent or given up: there is nothing to send again."
        )
    if message.expires_at is not None and message.expires_at <= now:
        raise MessageNotResendable("The message has expired.")
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

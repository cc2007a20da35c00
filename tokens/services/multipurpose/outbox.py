"""The outbox: a message is a row written in the caller's transaction, handed to the
broker after commit; delivery (tokens.services.multipurpose.delivery) sends it."""

import json
import logging

from django.db import transaction

from accounts.models import Account
from portal import crypto, events
from portal.models import Tenant
from tokens.models import MultipurposeToken, OutboxMessage
from tokens.services.multipurpose.limits import daily_cap_take, send_cooldown_take
from tokens.services.multipurpose.templates import (
    FALLBACK_TEMPLATE,
    email_template_resolve,
    sms_template_resolve,
)

logger = logging.getLogger("tokens.delivery")

__all__ = [
    "account_messages_list",
    "message_context",
    "message_delivery_schedule",
    "message_enqueue",
]


@events.upkeep
def message_delivery_schedule(message_id: int) -> None:
    """Hand the message to the broker. If the broker is down the row stays queued and the
    relay sends it later; the committed request must not fail because of it."""
    from tokens.message_tasks import message_deliver_task  # the tasks import these services

    try:
        message_deliver_task.apply_async(
            (message_id,),
            retry=True,
            retry_policy={
                "max_retries": 1,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.2,
            },
        )
    except Exception as exc:  # broker unreachable: the relay picks the row up
        logger.warning(
            "message %s not handed to the broker (%s); the relay will",
            message_id,
            type(exc).__name__,
        )


@events.upkeep
def message_enqueue(
    *,
    tenant,
    account,
    channel: str,
    template: str,
    recipient: str,
    context: dict,
    expires_at=None,
    token: MultipurposeToken | None = None,
    check_limits: bool = True,
    template_resolved: bool = False,
    link_base: str = "",
    voice: bool = False,
) -> OutboxMessage:
    """Write an outbox message (channel "email" or "sms") in the caller's transaction and
    schedule its delivery after commit. `template` names templates/emails/<template>/ (or
    templates/emails/<template>.txt) or templates/sms/<template>.txt, a tenant's own copy under
    templates/<emails|sms>/tenants/<slug>/ first; an unknown name falls back to the generic
    template, which shows context["subject"]/["body"]/["code"].
    Messages whose `expires_at` has passed are never sent. `link_base` and `voice` are kept
    beside the content for a resend (tokens.services.multipurpose.resending). Counts against the tenant's daily
    cap (and, with `check_limits`, the recipient's cooldown): SendCooldownActive /
    DailyCapReached when exhausted."""
    if channel not in (OutboxMessage.CHANNEL_EMAIL, OutboxMessage.CHANNEL_SMS):
        raise ValueError(f"unknown channel {channel!r}")
    with transaction.atomic():
        if check_limits:
            send_cooldown_take(tenant=tenant, channel=channel, destination=recipient.lower())
        daily_cap_take(tenant=tenant, channel=channel)
        if template_resolved:
            resolved = template
        elif channel == OutboxMessage.CHANNEL_EMAIL:
            resolved = email_template_resolve(template, FALLBACK_TEMPLATE, tenant)
        else:
            resolved = sms_template_resolve(template, FALLBACK_TEMPLATE, tenant)
        message = OutboxMessage.objects.create(
            tenant=tenant,
            account=account,
            token=token,
            channel=channel,
            template=resolved,
            recipient=recipient,
            context_encrypted=crypto.encrypt(json.dumps(context, default=str)),
            expires_at=expires_at,
            link_base=link_base,
            voice=voice,
        )
        transaction.on_commit(lambda: message_delivery_schedule(message.pk), robust=True)
    return message


@events.reads
def message_context(message: OutboxMessage) -> dict:
    if not message.context_encrypted:
        return {}
    return json.loads(crypto.decrypt(message.context_encrypted))


@events.reads
def account_messages_list(*, tenant: Tenant, account: Account, status: str = ""):
    """The account's outbox messages, newest first (delivery status for the console and
    GET /api/v1/messages); a read, no side effects."""
    rows = OutboxMessage.objects.filter(tenant=tenant, account=account)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created", "-id")

"""Delivery of outbox messages: claim, send through the channel's provider (tokens.mail,
tokens.sms), record the outcome, retry with backoff; and the relay that re-enqueues
messages nobody scheduled."""

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from portal import events, metrics
from tokens.models import OutboxMessage
from tokens.services.multipurpose.outbox import message_context, message_delivery_schedule
from tokens.services.multipurpose.templates import render_sms

logger = logging.getLogger("tokens.delivery")

__all__ = ["DeliveryError", "DeliveryOutcome", "message_deliver", "outbox_relay", "retry_delay"]


class DeliveryError(Exception):
    """A send failed; `permanent` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # "sent", "failed", "retry", "busy", "skipped"
    retry_in: float = 0.0


@events.reads
def retry_delay(attempts: int) -> float:
    """Exponential backoff with full jitter, capped below CELERY_MAX_RETRY_DELAY so the broker's
    visibility timeout always outlasts a scheduled retry."""
    cap = max(1.0, float(settings.CELERY_MAX_RETRY_DELAY) - 1.0)
    ceiling = min(cap, 2.0 * (2 ** max(0, attempts - 1)))
    return max(0.5, random.uniform(ceiling / 2, ceiling))


def _claim(message_id: int) -> OutboxMessage | None:
    """Atomically move the message to "sending" (from queued, or from a stale claim whose
    worker vanished). Returns the claimed row, or None if someone else holds or finished it."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)
    claimable = Q(status=OutboxMessage.QUEUED, available_at__lte=now) | Q(
        status=OutboxMessage.SENDING, claimed_at__lt=stale
    )
    claimed = OutboxMessage.objects.filter(claimable, pk=message_id).update(
        status=OutboxMessage.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return OutboxMessage.objects.select_related("token", "account", "tenant").get(pk=message_id)


def _finish(message: OutboxMessage, **fields) -> None:
    fields.setdefault("claimed_at", None)
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.SENDING).update(
        modified=timezone.now(), **fields
    )
    metrics.delivery_finished(channel=message.channel, status=fields["status"])


@events.upkeep
def message_deliver(*, message_id: int) -> DeliveryOutcome:
    """Send one outbox message at most once per claim: claim it, refuse expired or
    superseded tokens, send through the channel's backend, record the outcome."""
    message = _claim(message_id)
    if message is None:
        row = (
            OutboxMessage.objects.filter(pk=message_id)
            .values("status", "claimed_at", "available_at")
            .first()
        )
        if row is None or row["status"] in (OutboxMessage.SENT, OutboxMessage.FAILED):
            return DeliveryOutcome("skipped")
        now = timezone.now()
        claimed_at = row["claimed_at"]
        if row["status"] == OutboxMessage.SENDING and claimed_at is not None:
            lease_end = claimed_at + timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)
            return DeliveryOutcome("busy", max(1.0, (lease_end - now).total_seconds() + 1))
        return DeliveryOutcome("busy", max(1.0, (row["available_at"] - now).total_seconds()))

    now = timezone.now()
    if message.expires_at is not None and message.expires_at <= now:
        _finish(
            message,
            status=OutboxMessage.FAILED,
            last_error="expired before delivery",
            context_encrypted="",
        )
        return DeliveryOutcome("failed")
    if message.token is not None and not message.token.is_live:
        _finish(
            message,
            status=OutboxMessage.FAILED,
            last_error="token no longer valid",
            context_encrypted="",
        )
        return DeliveryOutcome("failed")

    try:
        provider_id = _send(message)
    except DeliveryError as exc:
        error = str(exc)[:500]
        if exc.permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _finish(message, status=OutboxMessage.FAILED, last_error=error, context_encrypted="")
            logger.warning(
                "message %s failed for good after %s attempts: %s",
                message.pk,
                message.attempts,
                error,
            )
            return DeliveryOutcome("failed")
        delay = retry_delay(message.attempts)
        _finish(
            message,
            status=OutboxMessage.QUEUED,
            last_error=error,
            available_at=timezone.now() + timedelta(seconds=delay),
        )
        logger.info(
            "message %s attempt %s failed (%s); retrying in %.1fs",
            message.pk,
            message.attempts,
            error,
            delay,
        )
        return DeliveryOutcome("retry", delay)
    _finish(
        message,
        status=OutboxMessage.SENT,
        sent_at=timezone.now(),
        provider_message_id=provider_id[:200],
        last_error="",
        context_encrypted="",
    )
    return DeliveryOutcome("sent")


def _send(message: OutboxMessage) -> str:
    # The providers are imported here: they import DeliveryError from this module.
    context = message_context(message)
    if message.channel == OutboxMessage.CHANNEL_SMS:
        from tokens import sms

        body = render_sms(message.template, context)
        return sms.sms_send(
            to=message.recipient,
            body=body,
            voice=bool(context.get("voice")),
            idempotency_key=str(message.idempotency_key),
        )
    from tokens import mail

    return mail.email_send(
        to=message.recipient,
        template=message.template,
        context=context,
        idempotency_key=str(message.idempotency_key),
    )


@events.upkeep
def outbox_relay(*, limit: int = 500) -> int:
    """Hand queued messages that nobody scheduled (broker down at commit, retry lost) and
    stale claims back to the broker. Returns how many were re-enqueued."""
    now = timezone.now()
    queued_before = now - timedelta(seconds=settings.OUTBOX_RELAY_AFTER_SECONDS)
    stale = now - timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)
    ids = list(
        OutboxMessage.objects.filter(
            Q(status=OutboxMessage.QUEUED, available_at__lte=now, modified__lte=queued_before)
            | Q(status=OutboxMessage.SENDING, claimed_at__lt=stale)
        )
        .order_by("available_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in ids:
        message_delivery_schedule(message_id)
    if ids:
        # Touch them so the next relay run does not re-enqueue them again straight away.
        OutboxMessage.objects.filter(pk__in=ids, status=OutboxMessage.QUEUED).update(modified=now)
    return len(ids)

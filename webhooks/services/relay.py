"""The relay: the tenant's events, read from the event table itself (the outbox), fanned
out to the endpoints that subscribed and sent, signed, with retries.

- **Fan-out** (`events_fan_out`): one cursor row holds the id of the last event fanned
  out. A relay locks it with `SKIP LOCKED` (another relay holding it skips the fan-out), reads
  the next events in id order and writes one delivery per subscribed endpoint, after the
  transactions that recorded the events (none of them wrote a row per endpoint). An id
  missing between two read ones may be a transaction still running: the fan-out stops
  before it until the event after the gap is `GAP_GRACE` old (a rolled-back one never
  fills it). Imported events and those of a call that asked for no webhooks
  (`prevent_webhook`) are passed over.
- **Sending** (`deliveries_send`): due deliveries are claimed with `SKIP LOCKED` and leased
  (their next attempt moved past the call's deadline) in a short transaction, then sent
  through portal.outbound (the address checked again, connection pinned, no redirects).
  A failure is retried after `BACKOFF` (30 s first, over more than a day in all); an
  endpoint with no success for `DISABLE_AFTER` is switched off (`webhook.disabled`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Min
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal import crypto, events, outbound, standard_webhooks
from portal.audit import Actor
from portal.models import AuditEvent
from webhooks import formats, validation
from webhooks.commands import WebhookDisable
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookRelayCursor

logger = logging.getLogger(__name__)

CURSOR = "events"
FAN_OUT_BATCH = 500
SEND_BATCH = 50
GAP_GRACE = timedelta(seconds=15)
# The wait before each retry: the first within 30 s, then growing; 8 attempts span 32 h.
BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
DISABLE_AFTER = timedelta(hours=24)
MAX_RESPONSE_BYTES = 64 * 1024
MAX_ERROR_LENGTH = 300
RELAY_ACTOR = Actor.system("webhook relay")


def _timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10))


def _cursor_start() -> int:
    """Where a new cursor starts: just before the first event any endpoint may receive
    (the event that registered the oldest one), else after every event there is."""
    oldest = WebhookEndpoint.objects.aggregate(first=Min("since_event_id"))["first"]
    if oldest is not None:
        return oldest
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _ensure_cursor() -> None:
    if WebhookRelayCursor.objects.filter(name=CURSOR).exists():
        return
    try:
        with transaction.atomic():
            WebhookRelayCursor.objects.create(name=CURSOR, last_event_id=_cursor_start())
    except IntegrityError:
        pass  # another relay made it


@events.upkeep
def events_fan_out(*, batch: int = FAN_OUT_BATCH) -> int:
    """Fan the next events out to their endpoints; the number of events read (0: none, or
    another relay holds the cursor)."""
    _ensure_cursor()
    now = timezone.now()
    with transaction.atomic():
        cursor = (
            WebhookRelayCursor.objects.select_for_update(skip_locked=True)
            .filter(name=CURSOR)
            .first()
        )
        if cursor is None:
            return 0
        rows = list(
            AuditEvent.objects.filter(id__gt=cursor.last_event_id)
            .order_by("id")
            .values_list(
                "id", "tenant_id", "action", "imported", "webhooks_suppressed", "occurred_at"
            )[:batch]
        )
        taken = []
        expected = cursor.last_event_id + 1
        for row in rows:
            if row[0] != expected and row[5] > now - GAP_GRACE:
                break  # an earlier event may still be committing
            taken.append(row)
            expected = row[0] + 1
        if not taken:
            return 0
        tenants = {row[1] for row in taken if row[1] is not None}
        endpoints: dict[int, list[WebhookEndpoint]] = {}
        for endpoint in WebhookEndpoint.objects.filter(tenant_id__in=tenants, enabled=True):
            endpoints.setdefault(endpoint.tenant_id, []).append(endpoint)
        deliveries = [
            WebhookDelivery(endpoint=endpoint, event_id=event_id, next_attempt_at=now)
            for event_id, tenant_id, action, imported, suppressed, _at in taken
            if not imported and not suppressed
            for endpoint in endpoints.get(tenant_id, ())
            if event_id > endpoint.since_event_id
            and formats.receives(subscribed=endpoint.events, format=endpoint.format, action=action)
        ]
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        cursor.last_event_id = taken[-1][0]
        cursor.save(update_fields=["last_event_id"])
    return len(taken)


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    latency_ms: int
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _any_host(host: str, port: int) -> bool:
    return True  # an endpoint may live anywhere public; outbound checks the addresses


def _post(endpoint: WebhookEndpoint, row: AuditEvent) -> Attempt:
    body = formats.body_of(endpoint.format, row)
    now = int(time.time())
    headers = standard_webhooks.headers(
        secret=crypto.decrypt(endpoint.secret_encrypted),
        message_id=formats.message_id(row.pk),
        timestamp=now,
        body=body,
    )
    headers["User-Agent"] = "portal-webhooks/1"
    timeout = _timeout_seconds()
    started = time.monotonic()
    try:
        host, port = validation.host_and_port(endpoint.url)
        response = outbound.request(
            "POST",
            endpoint.url,
            schemes=validation.schemes_for(host, port),
            allow_host=_any_host,
            headers=headers,
            body=body,
            connect_timeout=min(5.0, timeout),
            timeout=timeout,
            max_bytes=MAX_RESPONSE_BYTES,
            allow_private_networks=validation.allow_private_networks(),
        )
    except outbound.DestinationRefused as exc:
        return Attempt(None, _since(started), f"refused: {exc}"[:MAX_ERROR_LENGTH])
    except outbound.OutboundTimeout:
        return Attempt(None, _since(started), "timed out")
    except outbound.OutboundError as exc:
        return Attempt(None, _since(started), str(exc)[:MAX_ERROR_LENGTH])
    error = "" if 200 <= response.status < 300 else f"HTTP {response.status}"
    return Attempt(response.status, _since(started), error)


def _since(started: float) -> int:
    return max(0, int((time.monotonic() - started) * 1000))


def _claim(limit: int) -> list[int]:
    now = timezone.now()
    lease = now + timedelta(seconds=_timeout_seconds() + 60)
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                state=WebhookDelivery.PENDING,
                next_attempt_at__lte=now,
                endpoint__enabled=True,
            )
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        WebhookDelivery.objects.filter(id__in=ids).update(next_attempt_at=lease)
    return ids


def _record(delivery: WebhookDelivery, attempt: Attempt) -> None:
    now = timezone.now()
    delivery.attempt += 1
    delivery.status_code = attempt.status_code
    delivery.latency_ms = attempt.latency_ms
    delivery.error = attempt.error
    delivery.last_attempt_at = now
    endpoint = delivery.endpoint
    if attempt.succeeded:
        delivery.state, delivery.next_attempt_at = WebhookDelivery.SUCCEEDED, None
        WebhookEndpoint.objects.filter(pk=endpoint.pk).exclude(
            consecutive_failures=0, failing_since=None
        ).update(consecutive_failures=0, failing_since=None)
    else:
        if delivery.attempt >= MAX_ATTEMPTS:
            delivery.state, delivery.next_attempt_at = WebhookDelivery.FAILED, None
        else:
            delivery.next_attempt_at = now + BACKOFF[delivery.attempt - 1]
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=F("consecutive_failures") + 1,
            failing_since=Coalesce(F("failing_since"), now),
        )
    delivery.save(
        update_fields=[
            "attempt",
            "state",
            "status_code",
            "latency_ms",
            "error",
            "last_attempt_at",
            "next_attempt_at",
        ]
    )
    if not attempt.succeeded:
        _disable_if_failing(endpoint.pk, now=now)


def _disable_if_failing(endpoint_id: int, *, now) -> None:
    from webhooks.services.endpoints import webhook_disable

    endpoint = WebhookEndpoint.objects.select_related("tenant").filter(pk=endpoint_id).first()
    if endpoint is None or not endpoint.enabled or endpoint.failing_since is None:
        return
    if now - endpoint.failing_since < DISABLE_AFTER:
        return
    webhook_disable(
        WebhookDisable(
            reason=f"no delivery succeeded for {DISABLE_AFTER.total_seconds() / 3600:.0f} hours"
        ),
        tenant=endpoint.tenant,
        actor=RELAY_ACTOR,
        endpoint=endpoint,
    )


@events.upkeep
def deliveries_send(*, limit: int = SEND_BATCH) -> int:
    """Send the deliveries that are due (claimed, so no other relay sends them too); the
    number of attempts made."""
    ids = _claim(limit)
    if not ids:
        return 0
    deliveries = WebhookDelivery.objects.select_related("endpoint").filter(id__in=ids)
    rows = AuditEvent.objects.in_bulk([delivery.event_id for delivery in deliveries])
    made = 0
    for delivery in deliveries.order_by("id"):
        row = rows.get(delivery.event_id)
        if row is None:  # cannot happen to an append-only row; never retried forever
            delivery.attempt, delivery.state = delivery.attempt + 1, WebhookDelivery.FAILED
            delivery.error, delivery.next_attempt_at = "the event no longer exists", None
            delivery.save(update_fields=["attempt", "state", "error", "next_attempt_at"])
            continue
        _record(delivery, _post(delivery.endpoint, row))
        made += 1
    return made


@events.upkeep
def relay_run(*, rounds: int = 20) -> tuple[int, int]:
    """Fan out what is new, then send what is due; (events read, attempts made)."""
    read = sent = 0
    for _ in range(rounds):
        count = events_fan_out()
        read += count
        if count < FAN_OUT_BATCH:
            break
    for _ in range(rounds):
        count = deliveries_send()
        sent += count
        if count < SEND_BATCH:
            break
    return read, sent

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
- **Sending** (`deliveries_send`): due deliveries are claimed in a batch with `SKIP LOCKED`
  and leased (their next attempt moved past the calls' deadline) in a short transaction, so
  several relays share the work. An endpoint gets one call at a time, in event order;
  when a batch holds several endpoints, up to `SEND_LANES` are called at once on pool
  threads. Calls go through portal.outbound (the address checked again, connection pinned,
  no redirects); outcomes are written back in bulk (one UPDATE for the deliveries answered
  meanwhile), within `WRITE_WITHIN` of a call, so a relay killed mid-batch leaves only its
  last unrecorded calls to be sent again, after the lease, with the same `webhook-id`.
  A failure is retried after `BACKOFF` (30 s first, over more than a day in all); an
  endpoint with no success for `DISABLE_AFTER` is switched off (`webhook.disabled`).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

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
SEND_BATCH = 100
# Endpoints one relay sends to at once (one lane each, on a pool thread).
SEND_LANES = 8
# Outcomes of one endpoint's calls in turn are written before a call starting this long (s)
# after the oldest unwritten one was sent.
WRITE_WITHIN = 0.05
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


@dataclass(frozen=True)
class _Message:
    """One claimed delivery, its body built and its `webhook-id` known before sending."""

    delivery: WebhookDelivery
    message_id: str
    body: bytes


# One delivery's outcome: its attempt (None: left unsent, due again) and when it was known.
Outcome = tuple[WebhookDelivery, Attempt | None, datetime]


def _any_host(host: str, port: int) -> bool:
    return True  # an endpoint may live anywhere public; outbound checks the addresses


def _signed_headers(secret: str, message: _Message) -> dict[str, str]:
    headers = standard_webhooks.headers(
        secret=secret,
        message_id=message.message_id,
        timestamp=int(time.time()),  # signed at each attempt, just before it is sent
        body=message.body,
    )
    headers["User-Agent"] = "portal-webhooks/1"
    return headers


def _post(url: str, headers: dict[str, str], body: bytes) -> Attempt:
    """One call (on a pool thread: no database here)."""
    timeout = _timeout_seconds()
    started = time.monotonic()
    try:
        host, port = validation.host_and_port(url)
        response = outbound.request(
            "POST",
            url,
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
    except Exception as exc:  # every call must come back with an outcome
        logger.exception("a webhook call failed unexpectedly")
        return Attempt(None, _since(started), f"the call failed ({type(exc).__name__})")
    error = "" if 200 <= response.status < 300 else f"HTTP {response.status}"
    return Attempt(response.status, _since(started), error)


def _since(started: float) -> int:
    return max(0, int((time.monotonic() - started) * 1000))


def _lease_seconds() -> float:
    return _timeout_seconds() + float(getattr(settings, "WEBHOOK_CLAIM_MARGIN_SECONDS", 60))


def _claim(limit: int) -> list[int]:
    now = timezone.now()
    lease = now + timedelta(seconds=_lease_seconds())
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


def _secret(endpoint: WebhookEndpoint) -> str | None:
    try:
        return crypto.decrypt(endpoint.secret_encrypted)
    except ValueError:
        logger.error("webhook endpoint %s: its secret cannot be decrypted", endpoint.pk)
        return None


def _record(outcomes: list[Outcome]) -> int:
    """Write outcomes back: one UPDATE of the deliveries, one per endpoint for its failure
    run; then switch off endpoints failing for too long. The attempts made."""
    released = [delivery.pk for delivery, attempt, _at in outcomes if attempt is None]
    per_endpoint: dict[int, list[tuple[Attempt, datetime]]] = {}
    attempted = []
    for delivery, attempt, at in outcomes:
        if attempt is None:
            continue
        delivery.attempt += 1
        delivery.status_code = attempt.status_code
        delivery.latency_ms = attempt.latency_ms
        delivery.error = attempt.error
        delivery.last_attempt_at = at
        if attempt.succeeded:
            delivery.state, delivery.next_attempt_at = WebhookDelivery.SUCCEEDED, None
        elif delivery.attempt >= MAX_ATTEMPTS:
            delivery.state, delivery.next_attempt_at = WebhookDelivery.FAILED, None
        else:
            delivery.next_attempt_at = at + BACKOFF[delivery.attempt - 1]
        attempted.append(delivery)
        per_endpoint.setdefault(delivery.endpoint_id, []).append((attempt, at))
    failing = []
    with transaction.atomic():
        if released:  # due again at once, for this relay's next round or another's
            WebhookDelivery.objects.filter(pk__in=released).update(next_attempt_at=timezone.now())
        if attempted:
            WebhookDelivery.objects.bulk_update(
                attempted,
                [
                    "attempt",
                    "state",
                    "status_code",
                    "latency_ms",
                    "error",
                    "last_attempt_at",
                    "next_attempt_at",
                ],
            )
        for endpoint_id, attempts in per_endpoint.items():
            if _record_endpoint(endpoint_id, attempts):
                failing.append(endpoint_id)
    for endpoint_id in failing:
        _disable_if_failing(endpoint_id, now=timezone.now())
    return len(attempted)


def _record_endpoint(endpoint_id: int, attempts: list[tuple[Attempt, datetime]]) -> bool:
    """Carry an endpoint's failure run through `attempts` (in the order they were answered);
    whether it ends failing."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id)
    succeeded = [n for n, (attempt, _at) in enumerate(attempts) if attempt.succeeded]
    if not succeeded:
        endpoint.update(
            consecutive_failures=F("consecutive_failures") + len(attempts),
            failing_since=Coalesce(F("failing_since"), attempts[0][1]),
        )
        return True
    run = attempts[succeeded[-1] + 1 :]
    if run:
        endpoint.update(consecutive_failures=len(run), failing_since=run[0][1])
        return True
    endpoint.exclude(consecutive_failures=0, failing_since=None).update(
        consecutive_failures=0, failing_since=None
    )
    return False


def _disable_if_failing(endpoint_id: int, *, now: datetime) -> None:
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


def _messages(ids: list[int]) -> dict[int, deque[_Message]]:
    """The claimed deliveries by endpoint, in event order, ready to sign and send (a
    delivery whose event is gone is failed here)."""
    deliveries = list(
        WebhookDelivery.objects.select_related("endpoint").filter(id__in=ids).order_by("id")
    )
    rows = AuditEvent.objects.in_bulk([delivery.event_id for delivery in deliveries])
    lanes: dict[int, deque[_Message]] = {}
    gone = []
    for delivery in deliveries:
        row = rows.get(delivery.event_id)
        if row is None:  # cannot happen to an append-only row; never retried forever
            delivery.attempt, delivery.state = delivery.attempt + 1, WebhookDelivery.FAILED
            delivery.error, delivery.next_attempt_at = "the event no longer exists", None
            gone.append(delivery)
            continue
        lanes.setdefault(delivery.endpoint_id, deque()).append(
            _Message(
                delivery=delivery,
                message_id=formats.message_id(row.pk),
                body=formats.body_of(delivery.endpoint.format, row),
            )
        )
    if gone:
        WebhookDelivery.objects.bulk_update(gone, ["attempt", "state", "error", "next_attempt_at"])
    return lanes


def _attempt(url: str, secret: str | None, message: _Message) -> Attempt:
    if secret is None:
        return Attempt(None, 0, "the endpoint's signing secret cannot be read")
    return _post(url, _signed_headers(secret, message), message.body)


def _send_in_turn(lane: deque[_Message], *, url: str, secret: str | None, until: float) -> int:
    """One endpoint's messages, one call after another on this thread. Outcomes are written
    in bulk, and before any call that starts `WRITE_WITHIN` after the oldest unwritten one
    was sent: a relay killed mid-call leaves little sent but unrecorded."""
    timeout = _timeout_seconds()
    made = 0
    unwritten: list[Outcome] = []
    oldest = 0.0
    while lane:
        if unwritten and time.monotonic() - oldest >= WRITE_WITHIN:
            made += _record(unwritten)
            unwritten = []
        if time.monotonic() + timeout > until:
            # The claim could lapse mid-call and another relay send it too: leave the rest.
            unwritten += [(message.delivery, None, timezone.now()) for message in lane]
            break
        message = lane.popleft()
        if not unwritten:
            oldest = time.monotonic()
        attempt = _attempt(url, secret, message)
        unwritten.append((message.delivery, attempt, timezone.now()))
    if unwritten:
        made += _record(unwritten)
    return made


def _send_in_lanes(
    lanes: dict[int, deque[_Message]],
    *,
    endpoints: dict[int, WebhookEndpoint],
    secrets: dict[int, str | None],
    until: float,
) -> int:
    """Several endpoints at once, one lane each on a pool thread (still one call at a time
    per endpoint). This thread signs each call just before it goes, starts an endpoint's
    next call as soon as the previous one is answered, then writes back in bulk whatever
    was answered meanwhile."""
    ready = deque(lanes)
    in_flight: dict[Future[Attempt], _Message] = {}
    timeout = _timeout_seconds()
    made = 0
    with ThreadPoolExecutor(
        max_workers=min(SEND_LANES, len(lanes)), thread_name_prefix="webhooks-send"
    ) as pool:

        def start_calls() -> list[Outcome]:
            settled: list[Outcome] = []
            while ready and len(in_flight) < SEND_LANES:
                key = ready.popleft()
                lane, secret = lanes[key], secrets[key]
                if time.monotonic() + timeout > until:
                    settled += [(message.delivery, None, timezone.now()) for message in lane]
                    lane.clear()
                    continue
                message = lane.popleft()
                if secret is None:
                    settled.append((message.delivery, _attempt("", None, message), timezone.now()))
                    if lane:
                        ready.append(key)
                    continue
                headers = _signed_headers(secret, message)
                in_flight[pool.submit(_post, endpoints[key].url, headers, message.body)] = message
            return settled

        outcomes = start_calls()
        while in_flight:
            answered, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for call in answered:
                message = in_flight.pop(call)
                outcomes.append((message.delivery, call.result(), timezone.now()))
                if lanes[message.delivery.endpoint_id]:
                    ready.append(message.delivery.endpoint_id)
            outcomes += start_calls()  # the next calls go out before this write
            made += _record(outcomes)
            outcomes = []
        if outcomes:
            made += _record(outcomes)
    return made


@events.upkeep
def deliveries_send(*, limit: int = SEND_BATCH) -> int:
    """Send the deliveries that are due (claimed, so no other relay sends them too); the
    number of attempts made. Each endpoint gets one call at a time, in event order; when
    the batch holds several endpoints, up to `SEND_LANES` of them are called at once."""
    until = time.monotonic() + _lease_seconds() - 1
    ids = _claim(limit)
    if not ids:
        return 0
    lanes = _messages(ids)
    endpoints = {key: lane[0].delivery.endpoint for key, lane in lanes.items()}
    secrets = {key: _secret(endpoint) for key, endpoint in endpoints.items()}
    if len(lanes) == 1:
        [(key, lane)] = lanes.items()
        return _send_in_turn(lane, url=endpoints[key].url, secret=secrets[key], until=until)
    if not lanes:
        return 0
    return _send_in_lanes(lanes, endpoints=endpoints, secrets=secrets, until=until)


class RelayRun(NamedTuple):
    read: int  # events fanned out
    sent: int  # attempts made
    unfinished: bool  # it stopped after `rounds` with work still coming


@events.upkeep
def relay_run(*, rounds: int = 20) -> RelayRun:
    """Fan out what is new, then send what is due, again while there is work (up to
    `rounds` times): under a steady stream a run keeps up without waiting for a kick."""
    read = sent = 0
    for _ in range(rounds):
        fanned = 0
        for _ in range(rounds):
            count = events_fan_out()
            fanned += count
            if count < FAN_OUT_BATCH:
                break
        made = deliveries_send()
        read, sent = read + fanned, sent + made
        if not fanned and not made:
            return RelayRun(read, sent, unfinished=False)
    return RelayRun(read, sent, unfinished=True)

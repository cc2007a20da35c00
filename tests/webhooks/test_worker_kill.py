"""A relay worker SIGKILLed while deliveries are in flight: a new worker sends every event,
and the only copies a receiver sees twice are the ones the dead worker had sent without
recording the answer, under the same `webhook-id` and a valid signature.

Real components only: PostgreSQL, Redis, `celery -A portal worker` processes, and an HTTP
receiver on loopback in a server thread."""

import http.server
import threading
from collections import Counter
from dataclasses import dataclass, field

import pytest
from standardwebhooks.webhooks import Webhook

from portal.models import AuditEvent
from tests.factories import AccountFactory
from tests.messages.conftest import (  # noqa: F401
    broker_idle,
    celery_worker_factory,
    smtp_server,
)
from tests.waiting import wait_until
from tests.webhooks.conftest import register
from webhooks.models import WebhookDelivery

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

EVENTS = 24
# The worker's timing: the broker hands an unacknowledged task out again after 3 s; a claim
# of the dead worker's deliveries lapses WEBHOOK_TIMEOUT_SECONDS + WEBHOOK_CLAIM_MARGIN_SECONDS
# (15 s) after it was taken.
TIMING = {
    "CELERY_VISIBILITY_TIMEOUT": "3",
    "CELERY_MAX_RETRY_DELAY": "1",
    # Long enough that the held delivery is still in flight when the worker dies.
    "WEBHOOK_TIMEOUT_SECONDS": "10",
    "WEBHOOK_CLAIM_MARGIN_SECONDS": "5",
    "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "1",
}
# What the beat does every 5 s (settings.CELERY_BEAT_SCHEDULE["webhooks-relay"]).
BEAT_SECONDS = 5.0
# The dead worker's claims lapse after 15 s; a bounded wait well past that.
REDELIVERY_TIMEOUT = 120.0


@dataclass
class Copy:
    headers: dict[str, str]
    body: bytes


@dataclass
class SlowReceiver:
    """Records every POST as it arrives. The first request is answered after `first_delay`;
    the second is held (no answer) until `release` is set, so its sender is mid-delivery."""

    first_delay: float = 0.5
    port: int = 0
    copies: list[Copy] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def arrived(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.copies.append(Copy(headers, body))
            return len(self.copies)


@pytest.fixture
def slow_receiver(settings):
    state = SlowReceiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            number = state.arrived({k.lower(): v for k, v in self.headers.items()}, body)
            if number == 1:
                state.release.wait(state.first_delay)
            elif number == 2:
                state.holding.set()
                state.release.wait(REDELIVERY_TIMEOUT)
            try:
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the sender was killed while this one was held
                pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True  # the worker gets the same setting
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


def _ids_received(receiver: SlowReceiver) -> set[str]:
    with receiver.lock:
        return {copy.headers["webhook-id"] for copy in receiver.copies}


def test_worker_killed_mid_delivery_every_event_arrives_and_repeats_keep_their_id(
    admin,
    lr,
    tenant,
    slow_receiver,
    celery_worker_factory,  # noqa: F811
):
    from webhooks.tasks import webhooks_relay_task

    hook = register(admin, slow_receiver.url, ["account.updated"])
    accounts = AccountFactory.create_batch(EVENTS // 2, tenant=tenant)
    # The events are committed before any worker runs: the relay's first run claims them all.
    for round_number in range(2):
        for account in accounts:
            response = lr.put(
                f"/identity/v2/manage/account/{account.uid}",
                {"FirstName": f"Round{round_number}"},
            )
            assert response.status_code == 200, response.content
    events = list(
        AuditEvent.objects.filter(tenant=tenant, action="account.updated")
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert len(events) == EVENTS
    expected_ids = {f"evt_{pk}" for pk in events}

    first = celery_worker_factory(**TIMING)
    assert slow_receiver.holding.wait(60), first.log()
    # The first delivery was answered and recorded; the second is in flight.
    assert wait_until(
        lambda: WebhookDelivery.objects.filter(state=WebhookDelivery.SUCCEEDED).count() == 1,
        timeout=30,
    ), first.log()
    first.kill()
    in_flight = slow_receiver.copies[1].headers["webhook-id"]
    assert len(slow_receiver.copies) == 2
    assert WebhookDelivery.objects.filter(state=WebhookDelivery.PENDING).count() == EVENTS - 1
    slow_receiver.release.set()

    second = celery_worker_factory(**TIMING)

    def all_received_and_recorded() -> bool:
        webhooks_relay_task.delay()  # what the beat runs
        done = (
            _ids_received(slow_receiver) == expected_ids
            and WebhookDelivery.objects.filter(state=WebhookDelivery.SUCCEEDED).count() == EVENTS
        )
        return done

    assert wait_until(
        all_received_and_recorded, timeout=REDELIVERY_TIMEOUT, interval=BEAT_SECONDS
    ), f"received {len(_ids_received(slow_receiver))}/{EVENTS} events\n{second.log()}"
    assert wait_until(broker_idle, timeout=60), "relay tasks still wait in the broker"

    copies = list(slow_receiver.copies)
    counts = Counter(copy.headers["webhook-id"] for copy in copies)
    # Only the delivery the killed worker had sent without recording its answer came twice.
    assert {message_id for message_id, n in counts.items() if n > 1} == {in_flight}
    assert counts[in_flight] == 2
    verifier = Webhook(hook["secret"])
    payloads: dict[str, list[dict]] = {}
    for copy in copies:
        payload = verifier.verify(copy.body, copy.headers)
        assert copy.headers["webhook-id"] == f"evt_{payload['data']['id']}"
        payloads.setdefault(copy.headers["webhook-id"], []).append(payload)
    repeated = payloads[in_flight]
    assert repeated[0] == repeated[1]  # the same event, byte for byte in content
    assert {p[0]["data"]["uid"] for p in payloads.values()} == {a.uid for a in accounts}
    attempts = Counter(
        WebhookDelivery.objects.filter(replay=False).values_list("attempt", flat=True)
    )
    assert attempts == {1: EVENTS}  # the dead worker's attempt was never recorded

"""How the relay sends a batch: each endpoint one call at a time in event order, several
endpoints at once (a slow receiver does not hold up the others), and the outcomes written
back in bulk rather than a round trip per delivery."""

import http.server
import threading
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from tests.waiting import wait_until
from tests.webhooks.conftest import record, register
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import relay
from webhooks.tasks import webhooks_relay_task

pytestmark = pytest.mark.django_db
EVENTS = 5


@pytest.fixture
def held_receiver(settings, receiver):
    """A second receiver that answers each POST only once `release` is set (or after 10 s),
    noting how many the first receiver had got by then."""
    state = {"ids": [], "others_when_released": None}
    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state["ids"].append(self.headers["webhook-id"])
            if len(state["ids"]) == 1:
                wait_until(lambda: len(receiver.requests) == EVENTS, timeout=10, interval=0.05)
                state["others_when_released"] = len(receiver.requests)
                release.set()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.OUTBOUND_TEST_HOSTS = {**settings.OUTBOUND_TEST_HOSTS, f"127.0.0.1:{port}": None}
    state["url"] = f"http://127.0.0.1:{port}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_a_slow_endpoint_does_not_hold_up_another_and_each_gets_its_events_in_order(
    admin, tenant, receiver, held_receiver, account
):
    slow = register(admin, held_receiver["url"], ["account.updated"])  # its deliveries come first
    fast = register(admin, receiver.url, ["account.updated"])
    events = [
        record(tenant, "account.updated", uid=account.uid, changes={"FirstName": [str(n), "x"]})
        for n in range(EVENTS)
    ]
    webhooks_relay_task()
    in_order = [f"evt_{event.pk}" for event in events]
    # The fast endpoint got every event while the slow one still held its first call.
    assert held_receiver["others_when_released"] == EVENTS
    assert held_receiver["ids"] == in_order
    assert [request.headers["webhook-id"] for request in receiver.requests] == in_order
    for hook in (slow, fast):
        states = WebhookDelivery.objects.filter(endpoint_id=hook["id"]).values_list(
            "state", "attempt"
        )
        assert list(states) == [("succeeded", 1)] * EVENTS


def test_a_batch_is_written_back_in_one_update_not_one_per_delivery(
    admin, tenant, receiver, account
):
    hook = register(admin, receiver.url, ["account.updated"])
    receiver.statuses = [500, 500]  # the first two fail: retried later, counted on the endpoint
    count = 30
    # Time stands still, so every answer of the batch is written at its end.
    with freeze_time(datetime(2026, 12, 7, 8, 0, tzinfo=UTC)):
        for n in range(count):
            record(tenant, "account.updated", uid=account.uid, changes={"FirstName": [str(n), "x"]})
        with CaptureQueriesContext(connection) as queries:
            webhooks_relay_task()
    assert len(receiver.requests) == count
    updates = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('UPDATE "webhooks_webhookdelivery"')
    ]
    assert len(updates) == 2  # the claim's lease, then every outcome at once
    deliveries = WebhookDelivery.objects.filter(endpoint_id=hook["id"]).order_by("id")
    assert [d.state for d in deliveries] == ["pending"] * 2 + ["succeeded"] * (count - 2)
    assert {d.attempt for d in deliveries} == {1}
    assert [d.status_code for d in deliveries[:3]] == [500, 500, 200]
    endpoint = WebhookEndpoint.objects.get(pk=hook["id"])
    # The run of failures ended with the later successes.
    assert (endpoint.enabled, endpoint.consecutive_failures, endpoint.failing_since) == (
        True,
        0,
        None,
    )


def test_a_run_goes_on_while_there_is_work_and_says_when_it_stopped_short(
    admin, tenant, receiver, account
):
    register(admin, receiver.url, ["account.updated"])
    record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]})
    assert relay.relay_run(rounds=1) == (1, 1, True)  # it cannot know nothing else came
    record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["B", "C"]})
    record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["C", "D"]})
    assert relay.relay_run() == (2, 2, False)  # a round that found nothing ended it
    assert len(receiver.requests) == 3

"""Two or more relays at once (threads, each on its own PostgreSQL connection) fan out and
send every event exactly once: the cursor and the due deliveries are claimed with
`SKIP LOCKED`."""

from collections import Counter

import pytest
from django.core.cache import cache

from tests.concurrency import run_concurrently
from tests.webhooks.conftest import record, register
from webhooks.models import WebhookDelivery
from webhooks.services import relay
from webhooks.subscribers import KICK_KEY

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
EVENTS = 24


def test_concurrent_relays_deliver_each_event_once(admin, tenant, receiver, account):
    cache.set(KICK_KEY, 1, 120)  # a kick is pending: the events below wait for the relays
    try:
        hook = register(admin, receiver.url, ["account.updated"])
        events = [
            record(tenant, "account.updated", uid=account.uid, changes={"FirstName": [str(n), "x"]})
            for n in range(EVENTS)
        ]

        def relay_in_small_steps():
            for _ in range(30):
                relay.events_fan_out(batch=5)
                relay.deliveries_send(limit=3)
            return "done"

        outcomes = run_concurrently(relay_in_small_steps, 4)
    finally:
        cache.delete(KICK_KEY)
    assert outcomes == ["done"] * 4
    ids = Counter(request.headers["webhook-id"] for request in receiver.requests)
    assert ids == Counter({f"evt_{event.pk}": 1 for event in events})
    deliveries = WebhookDelivery.objects.filter(endpoint_id=hook["id"])
    assert deliveries.count() == EVENTS
    assert set(deliveries.values_list("state", flat=True)) == {"succeeded"}

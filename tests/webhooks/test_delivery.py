"""The relay: events fanned out to the endpoints that subscribed, signed as Standard
Webhooks says (verified with the `standardwebhooks` library by a real HTTP receiver on
loopback), retried with backoff, replayed with their original ids; endpoints that keep
failing are switched off; imported and `prevent_webhook` events are not delivered."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from freezegun import freeze_time
from standardwebhooks.webhooks import Webhook

from portal import audit
from portal.audit import Actor
from portal.models import AuditEvent
from tests.webhooks.conftest import WEBHOOKS, record, register
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import relay
from webhooks.tasks import webhooks_relay_task

pytestmark = pytest.mark.django_db


def run_relay():
    """What beat runs every few seconds (tasks run inline in the tests)."""
    return webhooks_relay_task()


def verified(secret: str, request) -> dict:
    return Webhook(secret).verify(request.body, request.headers)


def test_a_subscribed_event_arrives_signed_and_verifies(admin, tenant, receiver, account):
    hook = register(admin, receiver.url, ["account.updated"])
    updated = record(
        tenant, "account.updated", uid=account.uid, changes={"FirstName": ["Ann", "Anna"]}
    )
    record(tenant, "account.blocked", uid=account.uid, changes={"IsActive": [True, False]})
    assert not WebhookDelivery.objects.exists()  # the writes added no row per endpoint
    run_relay()
    [request] = receiver.requests
    payload = verified(hook["secret"], request)
    assert request.headers["webhook-id"] == f"evt_{updated.pk}"
    assert abs(int(request.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 300
    assert request.headers["webhook-signature"].startswith("v1,")
    assert payload["type"] == "account.updated" and payload["timestamp"].endswith("Z")
    data = payload["data"]
    assert (data["id"], data["uid"], data["type"]) == (updated.pk, account.uid, "account.updated")
    assert data["changes"] == {"FirstName": ["Ann", "Anna"]}
    delivery = WebhookDelivery.objects.get(endpoint_id=hook["id"])
    assert (delivery.state, delivery.attempt, delivery.status_code) == ("succeeded", 1, 200)
    run_relay()
    assert len(receiver.requests) == 1  # nothing is sent twice


def test_a_wrong_secret_does_not_verify(admin, tenant, receiver, account):
    register(admin, receiver.url, ["*"])
    record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]})
    run_relay()
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3"
    with pytest.raises(Exception, match="signature"):
        Webhook(other).verify(receiver.requests[0].body, receiver.requests[0].headers)


def test_other_tenants_events_and_events_before_registration_are_not_sent(
    admin, tenant, other_tenant, receiver, account
):
    record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]})
    register(admin, receiver.url, ["*"])
    record(other_tenant, "account.updated", uid="elsewhere", changes={"FirstName": ["A", "B"]})
    run_relay()
    assert receiver.requests == []


def test_the_catch_all_leaves_out_sign_in_failures_only():
    from webhooks.validation import EXCLUDED_FROM_EVERY_TYPE, matches

    assert matches(["*"], "account.updated") and matches(["*"], "credential.revoked")
    for excluded in EXCLUDED_FROM_EVERY_TYPE:
        assert not matches(["*"], excluded) and matches([excluded], excluded)


def test_a_failure_is_retried_within_30_seconds_with_the_same_id(admin, tenant, receiver, account):
    hook = register(admin, receiver.url, ["account.updated"])
    receiver.statuses = [500]
    start = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    with freeze_time(start) as frozen:
        event = record(
            tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]}
        )
        run_relay()
        delivery = WebhookDelivery.objects.get(endpoint_id=hook["id"])
        assert (delivery.state, delivery.attempt, delivery.status_code) == ("pending", 1, 500)
        assert delivery.error == "HTTP 500"
        assert start < delivery.next_attempt_at <= start + timedelta(seconds=30)
        run_relay()
        assert len(receiver.requests) == 1  # not due yet
        frozen.tick(timedelta(seconds=31))
        run_relay()
        first, second = receiver.requests
        verified(hook["secret"], second)  # a fresh timestamp, signed again
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == f"evt_{event.pk}"
    assert first.body == second.body
    assert int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) == 31
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt, delivery.status_code) == ("succeeded", 2, 200)

    listed = admin.get(f"{WEBHOOKS}/{hook['id']}/deliveries")
    assert listed.status_code == 200
    [item] = listed.json()["results"]
    assert (item["state"], item["attempts"], item["status_code"], item["error"]) == (
        "succeeded",
        2,
        200,
        "",
    )
    assert item["webhook_id"] == f"evt_{event.pk}" and item["latency_ms"] is not None


def test_backoff_grows_and_stops_after_more_than_a_day(admin, tenant, receiver, account):
    hook = register(admin, receiver.url, ["account.updated"])
    receiver.default = 503
    start = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    waits = []
    with freeze_time(start) as frozen:
        record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]})
        run_relay()
        delivery = WebhookDelivery.objects.get(endpoint_id=hook["id"])
        while delivery.state == "pending":
            waits.append(delivery.next_attempt_at - datetime.now(UTC))
            frozen.move_to(delivery.next_attempt_at)
            # keep the endpoint on: this test is about one delivery's schedule
            WebhookEndpoint.objects.filter(pk=hook["id"]).update(failing_since=None)
            run_relay()
            delivery.refresh_from_db()
    assert waits == sorted(waits) and waits[0] <= timedelta(seconds=30)
    assert sum(waits, timedelta()) > timedelta(days=1)
    assert delivery.state == "failed" and delivery.attempt == relay.MAX_ATTEMPTS
    assert len(receiver.requests) == relay.MAX_ATTEMPTS


def test_an_endpoint_failing_for_a_day_is_switched_off_with_an_event(
    admin, tenant, receiver, account
):
    hook = register(admin, receiver.url, ["account.updated"])
    receiver.default = 500
    start = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    with freeze_time(start) as frozen:
        record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]})
        run_relay()
        frozen.tick(timedelta(hours=23))
        record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["B", "C"]})
        run_relay()
        assert WebhookEndpoint.objects.get(pk=hook["id"]).enabled is True
        frozen.tick(timedelta(hours=1, minutes=1))
        record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["C", "D"]})
        run_relay()
    endpoint = WebhookEndpoint.objects.get(pk=hook["id"])
    assert endpoint.enabled is False and endpoint.disabled_reason
    event = AuditEvent.objects.get(tenant=tenant, action="webhook.disabled")
    assert event.actor_type == "system" and event.diff["webhook"] == hook["id"]
    assert hook["secret"] not in str(event.diff)
    sent = len(receiver.requests)
    record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["D", "E"]})
    run_relay()
    assert len(receiver.requests) == sent  # a switched-off endpoint receives nothing

    on = admin.request("PATCH", f"{WEBHOOKS}/{hook['id']}", body={"enabled": True})
    assert on.status_code == 200 and on.json()["enabled"] is True
    endpoint.refresh_from_db()
    assert (endpoint.consecutive_failures, endpoint.failing_since) == (0, None)


def test_replay_sends_events_again_with_their_original_ids(admin, tenant, receiver, account):
    hook = register(admin, receiver.url, ["account.updated"])
    first = record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]})
    second = record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["B", "C"]})
    record(tenant, "account.blocked", uid=account.uid, changes={"IsActive": [True, False]})
    run_relay()
    assert len(receiver.requests) == 2

    path = f"{WEBHOOKS}/{hook['id']}/replay"
    by_id = admin.post(path, {"event_ids": [first.pk]})
    assert by_id.status_code == 202 and by_id.json() == {"count": 1}
    run_relay()
    assert receiver.requests[-1].headers["webhook-id"] == f"evt_{first.pk}"
    assert receiver.requests[-1].body == receiver.requests[0].body
    verified(hook["secret"], receiver.requests[-1])

    since = admin.post(path, {"since": first.occurred_at.isoformat()})
    assert since.status_code == 202 and since.json() == {"count": 2}  # not the blocked one
    run_relay()
    assert [r.headers["webhook-id"] for r in receiver.requests[-2:]] == [
        f"evt_{first.pk}",
        f"evt_{second.pk}",
    ]
    assert AuditEvent.objects.filter(tenant=tenant, action="webhook.replayed").count() == 2
    for body in ({}, {"event_ids": ["x"]}, {"since": "yesterday"}, {"event_ids": [1], "x": 1}):
        assert admin.post(path, body).status_code == 400


def test_imported_events_are_not_delivered(admin, tenant, receiver):
    register(admin, receiver.url, ["*"])
    with transaction.atomic():
        audit.record_imported(
            tenant=tenant,
            actor=Actor.system("import"),
            action="account.created",
            subjects=[("u-imported-1", {}), ("u-imported-2", {})],
        )
    run_relay()
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_prevent_webhook_on_a_loginradius_call_suppresses_its_deliveries(
    admin, lr, tenant, receiver, account
):
    register(admin, receiver.url, ["account.updated"])
    path = f"/identity/v2/manage/account/{account.uid}"
    quiet = lr.put(path, {"FirstName": "Quiet"}, params={"prevent_webhook": "true"})
    assert quiet.status_code == 200, quiet.content
    by_header = lr.put(path, {"FirstName": "Hushed"}, HTTP_X_PREVENTWEBHOOK="true")
    assert by_header.status_code == 200, by_header.content
    suppressed = AuditEvent.objects.filter(tenant=tenant, action="account.updated")
    assert [e.webhooks_suppressed for e in suppressed.order_by("id")] == [True, True]
    run_relay()
    assert receiver.requests == []

    loud = lr.put(path, {"FirstName": "Loud"})
    assert loud.status_code == 200
    run_relay()
    [request] = receiver.requests
    assert request.json["data"]["changes"]["FirstName"] == ["Hushed", "Loud"]


def test_a_loginradius_endpoint_gets_loginradius_payloads_for_loginradius_events(
    admin, tenant, receiver, account
):
    hook = register(admin, receiver.url, ["*"], format="loginradius")
    assert hook["format"] == "loginradius"
    record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["Ann", "Anna"]})
    record(tenant, "role.created", changes={"name": [None, "editor"]})
    # Another account's deletion: this one's would erase the update above (portal/erasure.py).
    record(tenant, "account.deleted", uid="another-account")
    record(
        tenant,
        "account_password.set",
        uid=account.uid,
        changes={"HasPassword": [True, True]},
        actor=Actor.account(account.uid),
    )
    run_relay()
    payloads = [verified(hook["secret"], request) for request in receiver.requests]
    assert [p["Hook"] for p in payloads] == ["UpdateProfile", "DeleteAccount", "ChangePassword"]
    assert payloads[0]["Data"] == {"FirstName": "Anna", "Uid": account.uid}
    assert payloads[0]["Time"].endswith("Z")


def test_a_receiver_that_answers_slowly_times_out_and_is_retried(
    admin, tenant, receiver, account, settings
):
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    port = silent.getsockname()[1]
    settings.OUTBOUND_TEST_HOSTS = {**settings.OUTBOUND_TEST_HOSTS, f"127.0.0.1:{port}": None}
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    try:
        hook = register(admin, f"http://127.0.0.1:{port}/hook", ["account.updated"])
        record(tenant, "account.updated", uid=account.uid, changes={"FirstName": ["A", "B"]})
        run_relay()
    finally:
        silent.close()
    delivery = WebhookDelivery.objects.get(endpoint_id=hook["id"])
    assert (delivery.state, delivery.attempt, delivery.status_code) == ("pending", 1, None)
    assert delivery.error == "timed out"

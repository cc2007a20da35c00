"""Domain events: one per recorded change, handed to in-transaction and on-commit
subscribers (portal/events.py), with the cause of cascaded events recorded."""

import pytest
from django.db import transaction

from portal import audit, events
from portal.audit import Actor
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

SYSTEM = Actor.system("test")
audit.register(
    {
        "eventtest.changed": "A change made by the events tests",
        "eventtest.followed": "A change a subscriber made because of eventtest.changed",
    }
)


@pytest.fixture
def subscribed():
    """Subscribe handlers for one test only."""
    added = []

    def add(event_type, handler, phase):
        events.subscribe(event_type, handler, phase=phase)
        added.append((event_type, handler))

    yield add
    for event_type, handler in added:
        events.unsubscribe(event_type, handler)


def change(tenant, **diff):
    return audit.record(
        tenant=tenant,
        actor=SYSTEM,
        action="eventtest.changed",
        subject_uid="uid-1",
        reason="because",
        changes=diff,
    )


def test_an_in_transaction_subscriber_sees_the_event_inside_the_transaction(tenant, subscribed):
    seen = []

    def handler(event):
        seen.append(
            (
                event.type,
                event.subject_uid,
                event.reason,
                event.diff,
                transaction.get_connection().in_atomic_block,
            )
        )

    subscribed("eventtest.changed", handler, events.IN_TRANSACTION)
    with transaction.atomic():
        row = change(tenant, field=["a", "b"])
        assert seen == [("eventtest.changed", "uid-1", "because", {"field": ["a", "b"]}, True)]
    assert row.schema_version == events.SCHEMA_VERSION and row.caused_by is None


def test_events_a_subscriber_records_point_to_their_cause(tenant, subscribed):
    def follow(event):
        audit.record(
            tenant=tenant, actor=SYSTEM, action="eventtest.followed", subject_uid=event.subject_uid
        )

    subscribed("eventtest.changed", follow, events.IN_TRANSACTION)
    with transaction.atomic():
        cause = change(tenant)
    followed = AuditEvent.objects.get(action="eventtest.followed")
    assert followed.caused_by == cause.pk
    # Outside the subscriber, nothing is "caused".
    with transaction.atomic():
        assert change(tenant).caused_by is None


def test_a_failing_in_transaction_subscriber_rolls_the_change_back(tenant, subscribed):
    def refuse(event):
        raise RuntimeError("refused")

    subscribed("eventtest.changed", refuse, events.IN_TRANSACTION)
    with pytest.raises(RuntimeError), transaction.atomic():
        change(tenant)
    assert not AuditEvent.objects.filter(action="eventtest.changed").exists()


def test_on_commit_subscribers_run_after_commit_and_never_after_a_rollback(tenant, subscribed):
    seen = []

    def handler(event):
        seen.append((event.id, transaction.get_connection().in_atomic_block))

    subscribed("eventtest.changed", handler, events.ON_COMMIT)
    with transaction.atomic():
        row = change(tenant)
        assert seen == []
    assert seen == [(row.pk, False)]

    seen.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        change(tenant)
        raise RuntimeError("roll back")
    assert seen == []


def test_subscribing_twice_runs_the_handler_once(tenant, subscribed):
    calls = []

    def handler(event):
        calls.append(event.id)

    subscribed("eventtest.changed", handler, events.IN_TRANSACTION)
    events.subscribe("eventtest.changed", handler, phase=events.IN_TRANSACTION)
    with transaction.atomic():
        change(tenant)
    assert len(calls) == 1


def test_an_unknown_phase_is_refused():
    with pytest.raises(ValueError):
        events.subscribe("eventtest.changed", print, phase="later")


def test_every_subscription_names_a_registered_event_type():
    registered = audit.registered_actions()
    unknown = [
        f"{s.name} -> {s.event_type}"
        for s in events.subscriptions()
        if s.event_type not in registered
    ]
    assert not unknown, unknown


def test_a_set_of_events_reaches_a_set_form_in_one_call_and_other_handlers_one_by_one(tenant):
    whole, single, causes = [], [], []

    def one(event):
        single.append(event.subject_uid)

    def many(batch):
        whole.append([event.subject_uid for event in batch])

    def plain(event):
        single.append(f"plain:{event.subject_uid}")
        causes.append(events.current_cause())  # what it records would point to the event

    events.subscribe("eventtest.changed", one, phase=events.IN_TRANSACTION, many=many)
    events.subscribe("eventtest.changed", plain, phase=events.IN_TRANSACTION)
    try:
        with transaction.atomic():
            rows = audit.record_many(
                tenant=tenant,
                actor=SYSTEM,
                action="eventtest.changed",
                subjects=[("a", {}), ("b", {})],
                reason="because",
            )
    finally:
        events.unsubscribe("eventtest.changed", one)
        events.unsubscribe("eventtest.changed", plain)
    assert whole == [["a", "b"]]
    assert single == ["plain:a", "plain:b"]  # `one` ran only through its set form
    assert causes == [row.pk for row in rows]
    assert [(r.subject_uid, r.reason, r.action) for r in rows] == [
        ("a", "because", "eventtest.changed"),
        ("b", "because", "eventtest.changed"),
    ]
    assert AuditEvent.objects.filter(action="eventtest.changed").count() == 2
    with pytest.raises(ValueError, match="set form"):
        events.subscribe("eventtest.changed", one, phase=events.ON_COMMIT, many=many)

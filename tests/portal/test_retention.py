"""Per-tenant retention (portal/retention.py): events, sign-in events, webhook deliveries and
job reports older than their tenant's setting are purged in bounded batches; events the
webhook relay still needs are kept; on PostgreSQL the append-only trigger still refuses any
other DELETE or UPDATE of an event."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.models import Job, JobRow
from portal import retention
from portal.models import AuditEvent
from portal.tasks import retention_purge_kind_task, retention_purge_task
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookRelayCursor
from webhooks.services.relay import CURSOR

pytestmark = pytest.mark.django_db


def aged(tenant, action: str, days: float, uid: str = "u-1") -> AuditEvent:
    """An event recorded `days` ago (written directly: record() stamps the present)."""
    return AuditEvent.objects.create(
        tenant=tenant,
        action=action,
        actor_type=AuditEvent.ACTOR_SYSTEM,
        actor_label="test",
        subject_uid=uid,
        occurred_at=timezone.now() - timedelta(days=days),
    )


def remaining(tenant) -> set[int]:
    return set(AuditEvent.objects.filter(tenant=tenant).values_list("id", flat=True))


def set_days(tenant, **days: int) -> None:
    tenant.settings = {**tenant.settings, **days}
    tenant.save()


def purge(tenant, kind: str, **kwargs) -> retention.PurgeResult:
    return retention.retention_purge(tenant=tenant, kind=kind, **kwargs)


def test_the_kinds_are_registered_with_their_tenant_settings():
    assert retention.kinds() == [
        "approval_results",
        "events",
        "job_reports",
        "signin_events",
        "webhook_deliveries",
    ]


def test_events_older_than_the_tenants_setting_go_and_other_tenants_keep_theirs(
    tenant, other_tenant
):
    set_days(tenant, retention_events_days=10)
    old = aged(tenant, "account.updated", 11)
    young = aged(tenant, "account.updated", 9)
    signin_old = aged(tenant, "signin.failed", 11)  # sign-in events follow their own setting
    elsewhere = aged(other_tenant, "account.updated", 11)  # default: 365 days

    result = purge(tenant, "events")

    assert (result.deleted, result.more) == (1, False)
    assert remaining(tenant) == {young.pk, signin_old.pk}
    assert remaining(other_tenant) == {elsewhere.pk}
    assert not AuditEvent.objects.filter(pk=old.pk).exists()


def test_sign_in_events_follow_their_own_setting(tenant):
    assert tenant.setting("retention_signin_events_days") == 90
    old_failure = aged(tenant, "signin.failed", 91)
    old_success = aged(tenant, "signin.succeeded", 91)
    young = aged(tenant, "signin.succeeded", 89)
    other = aged(tenant, "account.updated", 91)  # an ordinary event: 365 days

    assert purge(tenant, "signin_events").deleted == 2

    assert remaining(tenant) == {young.pk, other.pk}
    assert not AuditEvent.objects.filter(pk__in=[old_failure.pk, old_success.pk]).exists()


def test_a_purge_runs_bounded_batches_and_a_second_run_goes_on(tenant):
    set_days(tenant, retention_events_days=1)
    old = [aged(tenant, "account.updated", 2) for _ in range(25)]
    young = aged(tenant, "account.updated", 0)

    with CaptureQueriesContext(connection) as queries:
        first = purge(tenant, "events", batch_size=10, max_batches=2)
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 2  # one bounded statement per batch
    assert all("LIMIT 10" in sql for sql in deletes), deletes
    assert (first.deleted, first.batches, first.more) == (20, 2, True)
    # The oldest go first.
    assert remaining(tenant) == {event.pk for event in old[20:]} | {young.pk}

    second = purge(tenant, "events", batch_size=10, max_batches=2)
    assert (second.deleted, second.more) == (5, False)
    assert purge(tenant, "events", batch_size=10).deleted == 0  # idempotent
    assert remaining(tenant) == {young.pk}


def test_the_task_queues_the_next_run_while_rows_remain(tenant, monkeypatch, eager_tasks):
    set_days(tenant, retention_events_days=1)
    for _ in range(7):
        aged(tenant, "account.updated", 2)
    young = aged(tenant, "account.updated", 0)
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    monkeypatch.setattr(retention, "MAX_BATCHES_PER_RUN", 1)

    retention_purge_kind_task(tenant.pk, "events")

    assert remaining(tenant) == {young.pk}


def test_beat_runs_every_kind_for_every_tenant(tenant, other_tenant, eager_tasks):
    set_days(tenant, retention_events_days=5, retention_signin_events_days=5)
    set_days(other_tenant, retention_events_days=30)
    aged(tenant, "account.updated", 6)
    aged(tenant, "signin.failed", 6)
    kept = aged(other_tenant, "account.updated", 6)
    assert django_settings.CELERY_BEAT_SCHEDULE["retention-purge"]["task"] == (
        "portal.retention_purge"
    )

    retention_purge_task()

    assert remaining(tenant) == set()
    assert remaining(other_tenant) == {kept.pk}


def test_an_unknown_kind_is_refused(tenant):
    with pytest.raises(ValueError, match="unknown retention kind"):
        purge(tenant, "everything")


# --- The webhook relay's events are kept ------------------------------------------------


def endpoint(tenant, since: int = 0) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        tenant=tenant,
        url="https://hooks.example.com/x",
        events=["*"],
        secret_encrypted="",
        since_event_id=since,
    )


def test_events_after_the_relay_cursor_are_kept_whatever_their_age(tenant):
    set_days(tenant, retention_events_days=1)
    read = [aged(tenant, "account.updated", 5) for _ in range(2)]
    unread = [aged(tenant, "account.updated", 5) for _ in range(2)]
    endpoint(tenant)
    WebhookRelayCursor.objects.create(name=CURSOR, last_event_id=read[-1].pk)

    assert purge(tenant, "events").deleted == 2

    assert remaining(tenant) == {event.pk for event in unread}


def test_before_any_relay_run_the_events_an_endpoint_awaits_are_kept(tenant):
    set_days(tenant, retention_events_days=1)
    before = aged(tenant, "account.updated", 5)
    awaited = aged(tenant, "account.updated", 5)
    endpoint(tenant, since=before.pk)  # registered after `before`: it receives what follows

    assert purge(tenant, "events").deleted == 1
    assert remaining(tenant) == {awaited.pk}


def test_an_event_a_pending_delivery_will_still_send_is_kept(tenant):
    set_days(tenant, retention_events_days=1)
    pending_event = aged(tenant, "account.updated", 5)
    sent_event = aged(tenant, "account.updated", 5)
    hook = endpoint(tenant)
    WebhookRelayCursor.objects.create(name=CURSOR, last_event_id=sent_event.pk)
    WebhookDelivery.objects.create(endpoint=hook, event_id=pending_event.pk)
    WebhookDelivery.objects.create(
        endpoint=hook, event_id=sent_event.pk, state=WebhookDelivery.SUCCEEDED
    )

    assert purge(tenant, "events").deleted == 0  # everything from the pending one on stays
    assert remaining(tenant) == {pending_event.pk, sent_event.pk}


# --- Webhook deliveries and job reports ---------------------------------------------------


def delivery(hook, *, state: str, days: float) -> WebhookDelivery:
    row = WebhookDelivery.objects.create(endpoint=hook, event_id=1, state=state, replay=True)
    WebhookDelivery.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(days=days)
    )
    return row


def test_finished_deliveries_past_the_setting_go_and_pending_ones_stay(tenant, other_tenant):
    set_days(tenant, retention_webhook_deliveries_days=7)
    hook, other_hook = endpoint(tenant), endpoint(other_tenant)
    old_ok = delivery(hook, state=WebhookDelivery.SUCCEEDED, days=8)
    old_failed = delivery(hook, state=WebhookDelivery.FAILED, days=8)
    old_pending = delivery(hook, state=WebhookDelivery.PENDING, days=8)
    young = delivery(hook, state=WebhookDelivery.SUCCEEDED, days=6)
    elsewhere = delivery(other_hook, state=WebhookDelivery.SUCCEEDED, days=8)  # 30 days there

    assert purge(tenant, "webhook_deliveries").deleted == 2

    left = set(WebhookDelivery.objects.values_list("id", flat=True))
    assert left == {old_pending.pk, young.pk, elsewhere.pk}
    assert not {old_ok.pk, old_failed.pk} & left


def job(tenant, *, status: str, finished_days: float | None, rows: int = 3) -> Job:
    finished = None if finished_days is None else timezone.now() - timedelta(days=finished_days)
    made = Job.objects.create(
        tenant=tenant,
        action="block",
        command={},
        status=status,
        reason="test",
        actor_type="system",
        finished_at=finished,
    )
    JobRow.objects.bulk_create(JobRow(job=made, uid=f"u-{n}") for n in range(rows))
    return made


def test_finished_jobs_past_the_setting_go_with_their_reports(tenant, other_tenant):
    set_days(tenant, retention_job_reports_days=10)
    old = job(tenant, status=Job.STATUS_SUCCEEDED, finished_days=11, rows=5)
    old_cancelled = job(tenant, status=Job.STATUS_CANCELLED, finished_days=11)
    young = job(tenant, status=Job.STATUS_SUCCEEDED, finished_days=9)
    running = job(tenant, status=Job.STATUS_RUNNING, finished_days=None)
    elsewhere = job(other_tenant, status=Job.STATUS_SUCCEEDED, finished_days=11)  # 30 days

    result = purge(tenant, "job_reports", batch_size=4)

    assert result.deleted == 5 + 3 + 2  # rows in batches of 4, then the two jobs
    assert set(Job.objects.values_list("id", flat=True)) == {young.pk, running.pk, elsewhere.pk}
    assert not JobRow.objects.filter(job_id__in=[old.pk, old_cancelled.pk]).exists()
    assert JobRow.objects.filter(job=running).count() == 3


# --- The append-only trigger (PostgreSQL) ---------------------------------------------------


def execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.postgres
def test_a_plain_delete_or_update_of_an_event_is_still_refused(tenant):
    event = aged(tenant, "account.updated", 400)
    for sql in (
        "DELETE FROM portal_auditevent WHERE id = %s",
        "UPDATE portal_auditevent SET reason = 'x' WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            execute(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, reason="").exists()


@pytest.mark.postgres
def test_the_retention_mark_lets_deletes_through_and_nothing_else(tenant):
    first, second = aged(tenant, "account.updated", 400), aged(tenant, "account.updated", 400)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        retention.audit_maintenance("retention"),
    ):
        execute("UPDATE portal_auditevent SET reason = 'x' WHERE id = %s", [first.pk])
    with transaction.atomic():
        with retention.audit_maintenance("retention"):
            execute("DELETE FROM portal_auditevent WHERE id = %s", [first.pk])
        # The mark ends with the block, before the transaction does.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            execute("DELETE FROM portal_auditevent WHERE id = %s", [second.pk])
    assert remaining(tenant) == {second.pk}


@pytest.mark.postgres
def test_a_mark_set_by_hand_outside_the_two_modes_opens_nothing(tenant):
    event = aged(tenant, "account.updated", 400)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        execute("SELECT set_config('portal.audit_maintenance', 'anything', true)", [])
        execute("DELETE FROM portal_auditevent WHERE id = %s", [event.pk])
    assert remaining(tenant) == {event.pk}


def test_the_maintenance_mark_knows_two_modes_only():
    with pytest.raises(ValueError), transaction.atomic(), retention.audit_maintenance("x"):
        pass

"""A bulk job's worker SIGKILLed midway through a chained job: a new worker finishes the
job and every row applies exactly once (one `account.blocked` event per account, one
report line per account).

Real components only: PostgreSQL, Redis and `celery -A portal worker` processes."""

import csv
import io
from collections import Counter

import pytest

from accounts.models import Account
from jobs.models import Job, JobRow
from jobs.services import BATCH_SIZE
from portal.models import AuditEvent
from tests.factories import AccountFactory
from tests.jobs.conftest import JOBS
from tests.messages.conftest import (  # noqa: F401
    broker_idle,
    celery_worker_factory,
    smtp_server,
)
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

# Three batches: the worker is killed once the first has committed, while it runs the next
# (a batch is claimed, applied and marked in one transaction).
ACCOUNTS = 3 * BATCH_SIZE
KILL_AFTER = BATCH_SIZE
# The broker hands the dead worker's unacknowledged task out again after 3 s.
TIMING = {"CELERY_VISIBILITY_TIMEOUT": "3", "CELERY_MAX_RETRY_DELAY": "1"}


def _applied(job_id: int) -> int:
    return JobRow.objects.filter(job_id=job_id, state=JobRow.APPLIED).count()


def test_worker_killed_mid_job_a_new_worker_finishes_it_and_applies_each_row_once(
    lr,
    tenant,
    celery_worker_factory,  # noqa: F811
):
    accounts = AccountFactory.create_batch(ACCOUNTS, tenant=tenant)
    uids = {account.uid for account in accounts}
    response = lr.post(
        JOBS,
        {
            "action": "block",
            "uids": sorted(uids),
            "expected_count": ACCOUNTS,
            "reason": "fraud ring",
        },
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]

    first = celery_worker_factory(**TIMING)
    assert wait_until(lambda: _applied(job_id) >= KILL_AFTER, timeout=240, interval=0.02), (
        first.log()
    )
    first.kill()
    applied_at_kill = _applied(job_id)
    assert KILL_AFTER <= applied_at_kill < ACCOUNTS, "the job finished before the kill"
    assert Job.objects.get(pk=job_id).status == Job.STATUS_RUNNING
    # A batch's rows are applied and marked in one transaction: whole batches or nothing.
    assert applied_at_kill % BATCH_SIZE == 0, applied_at_kill
    blocked_at_kill = AuditEvent.objects.filter(tenant=tenant, action="account.blocked").count()
    assert blocked_at_kill == applied_at_kill
    assert Account.objects.filter(tenant=tenant, is_active=False).count() == applied_at_kill

    second = celery_worker_factory(**TIMING)
    assert wait_until(
        lambda: Job.objects.get(pk=job_id).status in Job.FINISHED, timeout=240, interval=0.2
    ), second.log()
    # The killed worker's task comes back once the broker restores unacknowledged tasks
    # (kombu scans for them only every few polls); the job being finished, it does nothing.
    assert wait_until(broker_idle, timeout=240), "job tasks still wait in the broker"

    job = Job.objects.get(pk=job_id)
    assert job.status == Job.STATUS_SUCCEEDED
    states = Counter(JobRow.objects.filter(job_id=job_id).values_list("state", flat=True))
    assert states == {JobRow.APPLIED: ACCOUNTS}
    blocked = Counter(
        AuditEvent.objects.filter(tenant=tenant, action="account.blocked").values_list(
            "subject_uid", flat=True
        )
    )
    assert set(blocked) == uids and set(blocked.values()) == {1}
    finished = AuditEvent.objects.filter(tenant=tenant, action="job.finished")
    assert finished.count() == 1
    assert finished.get().diff["succeeded"] == ACCOUNTS

    report = lr.get(f"{JOBS}/{job_id}/report")
    assert report.status_code == 200
    lines = list(csv.reader(io.StringIO(report.content.decode())))
    assert lines[0] == ["uid", "result", "detail"]
    assert Counter(line[0] for line in lines[1:]) == Counter(uids)  # one line per account
    assert {line[1] for line in lines[1:]} == {"applied"}

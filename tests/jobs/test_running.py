"""Running a job: batches, a worker killed midway, two workers at once, cancel and revert."""

import pytest
from django.db import connection

from accounts.models import Account
from jobs.commands import JobBatchRun
from jobs.models import Job, JobRow
from jobs.services import job_batch_run
from portal.models import AuditEvent
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory
from tests.jobs.conftest import JOBS, run_job

pytestmark = pytest.mark.django_db


def _create(lr, **body):
    body.setdefault("reason", "bulk support work")
    response = lr.post(JOBS, body)
    assert response.status_code == 202, response.content
    return response.json()


def _blocked_events(tenant):
    return list(
        AuditEvent.objects.filter(tenant=tenant, action="account.blocked").values_list(
            "subject_uid", flat=True
        )
    )


def test_a_job_runs_in_batches_and_a_rerun_applies_no_row_twice(lr, tenant):
    accounts = [AccountFactory(tenant=tenant) for _ in range(5)]
    job = _create(lr, action="block", uids=[a.uid for a in accounts], expected_count=5)
    # A worker runs two rows, then is killed before chaining the rest.
    assert job_batch_run(JobBatchRun(job_id=job["id"], batch_size=2)) is True
    body = lr.get(f"{JOBS}/{job['id']}").json()
    assert (body["status"], body["processed"], body["succeeded"]) == ("running", 2, 2)
    # The task runs again (redelivered): it picks up the pending rows only.
    run_job(job["id"])
    run_job(job["id"])  # and once more after the job finished: nothing happens
    assert sorted(_blocked_events(tenant)) == sorted(a.uid for a in accounts)
    assert JobRow.objects.filter(state="applied").count() == 5
    assert AuditEvent.objects.filter(action="job.finished").count() == 1
    body = lr.get(f"{JOBS}/{job['id']}").json()
    assert (body["status"], body["processed"]) == ("succeeded", 5)
    assert body["finished_at"].endswith("Z")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_job_apply_each_row_once(credential):
    from tests.conftest import LRClient

    lr = LRClient(credential)
    tenant = credential.tenant
    accounts = [AccountFactory(tenant=tenant) for _ in range(12)]
    job = _create(lr, action="block", uids=[a.uid for a in accounts], expected_count=12)
    assert connection.vendor == "postgresql"
    assert JobRow.objects.filter(job_id=job["id"], state="pending").count() == 12
    outcomes = run_concurrently(
        lambda: job_batch_run(JobBatchRun(job_id=job["id"], batch_size=500)), 2
    )
    assert len(outcomes) == 2
    blocked = _blocked_events(tenant)
    assert sorted(blocked) == sorted(a.uid for a in accounts)  # each account once
    assert JobRow.objects.filter(job_id=job["id"], state="applied").count() == 12
    assert Job.objects.get(pk=job["id"]).status == "succeeded"
    assert AuditEvent.objects.filter(action="job.finished").count() == 1


def test_cancel_leaves_the_rows_not_yet_run(lr, tenant):
    accounts = [AccountFactory(tenant=tenant) for _ in range(4)]
    job = _create(lr, action="block", uids=[a.uid for a in accounts], expected_count=4)
    job_batch_run(JobBatchRun(job_id=job["id"], batch_size=1))
    response = lr.post(f"{JOBS}/{job['id']}/cancel", {"reason": "wrong list"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled" and response.json()["processed"] == 1
    run_job(job["id"])  # a chained task still queued: it runs nothing
    assert len(_blocked_events(tenant)) == 1
    assert Account.objects.filter(tenant=tenant, is_active=False).count() == 1
    report = lr.get(f"{JOBS}/{job['id']}/report").content.decode().splitlines()
    assert [line.split(",")[1] for line in report[1:]] == ["applied"] + ["not_run"] * 3
    again = lr.post(f"{JOBS}/{job['id']}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "job.finished"
    assert AuditEvent.objects.filter(action="job.cancelled").count() == 1


def test_revert_undoes_the_applied_rows_and_skips_a_changed_account(
    lr, tenant, django_capture_on_commit_callbacks
):
    from accounts import services as account_services
    from accounts.commands import AccountChanges
    from portal.audit import Actor

    accounts = [AccountFactory(tenant=tenant) for _ in range(3)]
    already_blocked = AccountFactory(tenant=tenant, is_active=False)
    uids = [a.uid for a in accounts] + [already_blocked.uid]
    job = _create(lr, action="block", uids=uids, expected_count=4)
    with django_capture_on_commit_callbacks(execute=True):  # what follows each block too
        run_job(job["id"])
    # One account changes after the job ran.
    changed = Account.objects.get(pk=accounts[0].pk)
    account_services.account_update(
        AccountChanges(values={"FirstName": "Changed"}),
        tenant=tenant,
        actor=Actor.system("t"),
        account=changed,
    )
    missing_reason = lr.post(f"{JOBS}/{job['id']}/revert", {})
    assert missing_reason.status_code == 400
    response = lr.post(f"{JOBS}/{job['id']}/revert", {"reason": "wrong accounts"})
    assert response.status_code == 202, response.content
    revert = response.json()
    assert (revert["action"], revert["reverts"], revert["total"]) == ("unblock", job["id"], 3)
    run_job(revert["id"])
    active = set(
        Account.objects.filter(tenant=tenant, is_active=True).values_list("uid", flat=True)
    )
    assert active == {accounts[1].uid, accounts[2].uid}  # the changed one and the one
    # that was blocked before the job stay blocked
    report = lr.get(f"{JOBS}/{revert['id']}/report").content.decode()
    assert f"{accounts[0].uid},skipped,The account changed since the job ran." in report
    unblocked = AuditEvent.objects.filter(action="account.unblocked").values_list(
        "subject_uid", flat=True
    )
    assert sorted(unblocked) == sorted([accounts[1].uid, accounts[2].uid])


def test_revert_of_roles_takes_only_the_roles_the_job_added(lr, tenant, editor_role):
    from roles import services as role_services
    from roles.commands import AccountRolesAssign
    from roles.selectors import account_role_names
    from tests.jobs.conftest import SYSTEM

    holder, newcomer = AccountFactory(tenant=tenant), AccountFactory(tenant=tenant)
    role_services.account_roles_assign(
        AccountRolesAssign(roles=("editor",)), tenant=tenant, actor=SYSTEM, account=holder
    )
    job = _create(
        lr, action="assign_roles", uids=[holder.uid, newcomer.uid], params={"roles": ["editor"]}
    )
    run_job(job["id"])
    revert = lr.post(f"{JOBS}/{job['id']}/revert", {"reason": "undo"}).json()
    assert revert["total"] == 1
    run_job(revert["id"])
    assert account_role_names(account=holder) == ["editor"]
    assert account_role_names(account=newcomer) == []


def test_revert_is_refused_for_an_action_nothing_undoes(lr, tenant, accounts):
    job = _create(lr, action="unlock", uids=[accounts[0].uid])
    run_job(job["id"])
    response = lr.post(f"{JOBS}/{job['id']}/revert", {"reason": "undo"})
    assert response.status_code == 409 and response.json()["code"] == "job.not_revertible"
    delete = _create(lr, action="delete", uids=[accounts[1].uid], expected_count=1)
    run_job(delete["id"])
    assert lr.post(f"{JOBS}/{delete['id']}/revert", {"reason": "undo"}).status_code == 409


def test_unlock_with_relock_reverts_to_locked(lr, tenant, accounts):
    from security.selectors import login_lock_active
    from tests.factories import AccountLockoutFactory

    AccountLockoutFactory(account=accounts[0])
    job = _create(lr, action="unlock", uids=[a.uid for a in accounts[:2]], params={"relock": True})
    run_job(job["id"])
    assert not login_lock_active(account=Account.objects.get(pk=accounts[0].pk))
    revert = lr.post(f"{JOBS}/{job['id']}/revert", {"reason": "too early"}).json()
    assert (revert["action"], revert["total"]) == ("lock", 1)  # only the one that was locked
    run_job(revert["id"])
    assert login_lock_active(account=Account.objects.get(pk=accounts[0].pk))
    assert not login_lock_active(account=Account.objects.get(pk=accounts[1].pk))


def test_jobs_are_listed_newest_first_with_cursor_links(lr, accounts):
    ids = [_create(lr, action="unblock", uids=[accounts[0].uid])["id"] for _ in range(3)]
    page = lr.get(JOBS, {"page_size": "2"}).json()
    assert page["count"] == 3 and [j["id"] for j in page["results"]] == ids[::-1][:2]
    assert "after=" in page["next"]
    after = page["next"].split("after=")[1].split("&")[0]
    rest = lr.get(JOBS, {"page_size": "2", "after": after}).json()
    assert [j["id"] for j in rest["results"]] == [ids[0]] and rest["next"] is None
    assert lr.get(JOBS, {"status": "nope"}).status_code == 400
    assert lr.get(JOBS, {"sort": "x"}).status_code == 400
    keys = set(page["results"][0])
    assert {
        "id",
        "action",
        "status",
        "total",
        "processed",
        "succeeded",
        "failed",
        "dry_run",
        "created_at",
        "finished_at",
        "reason",
        "ticket",
    } <= keys


def test_a_job_whose_stored_command_cannot_be_read_ends_failed(lr, tenant, accounts):
    job = _create(lr, action="unblock", uids=[accounts[0].uid])
    Job.objects.filter(pk=job["id"]).update(command={"type": "no.such_command", "data": {}})
    run_job(job["id"])
    body = lr.get(f"{JOBS}/{job['id']}").json()
    assert (body["status"], body["processed"]) == ("failed", 0)
    finished = AuditEvent.objects.get(action="job.finished")
    assert finished.diff["status"] == "failed"


def test_the_finished_event_carries_the_counts(lr, tenant, accounts):
    job = _create(lr, action="unblock", uids=[accounts[0].uid, "ghost"], ticket="T-9")
    run_job(job["id"])
    created = AuditEvent.objects.get(action="job.created")
    assert created.diff["job"] == job["id"] and created.diff["total"] == 2
    finished = AuditEvent.objects.get(action="job.finished")
    assert finished.diff == {
        "job": job["id"],
        "action": "unblock",
        "status": "succeeded",
        "succeeded": 1,
        "failed": 1,
        "skipped": 0,
    }
    assert (finished.reason, finished.ticket, finished.subject_uid) == (
        "bulk support work",
        "T-9",
        "",
    )


def test_a_job_is_reverted_once_and_only_once_it_finished(lr, tenant, accounts):
    Account.objects.filter(pk=accounts[0].pk).update(is_active=False)
    job = _create(lr, action="unblock", uids=[accounts[0].uid])
    running = lr.post(f"{JOBS}/{job['id']}/revert", {"reason": "undo"})
    assert running.status_code == 409  # not finished yet
    run_job(job["id"])
    assert lr.post(f"{JOBS}/{job['id']}/revert", {"reason": "undo"}).status_code == 202
    again = lr.post(f"{JOBS}/{job['id']}/revert", {"reason": "undo"})
    assert again.status_code == 409 and "already" in again.json()["detail"]
    dry = _create(lr, action="unblock", uids=[accounts[0].uid], dry_run=True)
    assert lr.post(f"{JOBS}/{dry['id']}/revert", {"reason": "undo"}).status_code == 409


def test_the_events_of_a_jobs_rows_point_to_the_job(lr, tenant):
    accounts = [AccountFactory(tenant=tenant) for _ in range(2)]
    job = _create(lr, action="block", uids=[a.uid for a in accounts], expected_count=2)
    run_job(job["id"])
    created = AuditEvent.objects.get(tenant=tenant, action="job.created")
    followed = AuditEvent.objects.filter(tenant=tenant, caused_by=created.pk)
    assert sorted(followed.values_list("action", flat=True)) == [
        "account.blocked",
        "account.blocked",
        "job.finished",
    ]

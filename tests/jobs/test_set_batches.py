"""Block and unblock jobs run their rows a batch at a time through the set form of the
account services: each row still gets the change, the event and the session revocation
the single call gives it, in a number of statements that does not grow with the batch."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.commands import AccountBlock, AccountUnblock
from accounts.models import Account
from accounts.selectors import account_version
from jobs.commands import JobBatchRun
from jobs.models import Job, JobRow
from jobs.services import job_batch_run
from portal.audit import Actor
from portal.models import AuditEvent
from tests.factories import AccountFactory
from tests.jobs.conftest import JOBS, run_job
from tokens.commands import SessionIssue
from tokens.models import AccessToken, RefreshToken, TokenFamily
from tokens.services.sessions import session_issue

pytestmark = pytest.mark.django_db

EVENT_FIELDS = ("action", "actor_type", "actor_id", "actor_label", "reason", "ticket", "diff")


def _create(lr, **body):
    body.setdefault("reason", "fraud ring")
    response = lr.post(JOBS, body)
    assert response.status_code == 202, response.content
    return response.json()


def _sign_in(tenant, account):
    return session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
    )


def _event(tenant, action, uid):
    return AuditEvent.objects.get(tenant=tenant, action=action, subject_uid=uid)


def _fields(event):
    return {name: getattr(event, name) for name in EVENT_FIELDS}


def test_each_blocked_row_gets_the_change_event_and_revocation_of_the_single_call(
    lr, tenant, credential
):
    active = [AccountFactory(tenant=tenant) for _ in range(3)]
    already_blocked = AccountFactory(tenant=tenant)
    doomed = AccountFactory(tenant=tenant)
    single = AccountFactory(tenant=tenant)  # blocked by the single call, to compare with
    for account in [*active, already_blocked, single]:
        _sign_in(tenant, account)
    Account.objects.filter(pk=already_blocked.pk).update(is_active=False)
    already_blocked.is_active = False
    uids = [a.uid for a in [*active, already_blocked, doomed]]
    job = _create(lr, action="block", uids=uids, expected_count=5, ticket="RISK-1")
    Account.objects.filter(pk=doomed.pk).delete()  # gone before its row runs

    run_job(job["id"])
    account_services.account_block(
        AccountBlock(reason="fraud ring", ticket="RISK-1"),
        tenant=tenant,
        actor=Actor.credential(credential),
        account=single,
    )

    assert not Account.objects.filter(tenant=tenant, is_active=True).exists()
    reference = _fields(_event(tenant, "account.blocked", single.uid))
    reference_sessions = _fields(_event(tenant, "session.all_revoked", single.uid))
    created = AuditEvent.objects.get(tenant=tenant, action="job.created")
    for account in [*active, already_blocked]:
        blocked = _event(tenant, "account.blocked", account.uid)
        expected = reference if account.is_active else {**reference, "diff": {}}
        assert _fields(blocked) == expected
        assert blocked.caused_by == created.pk
        revoked = _event(tenant, "session.all_revoked", account.uid)
        assert _fields(revoked) == reference_sessions
        assert revoked.caused_by == blocked.pk  # the revocation follows from its block
    assert not AuditEvent.objects.filter(subject_uid=doomed.uid).exists()
    assert not TokenFamily.objects.filter(tenant=tenant, revoked_at__isnull=True).exists()
    assert not AccessToken.objects.filter(revoked_at__isnull=True).exists()
    assert not RefreshToken.objects.filter(revoked_at__isnull=True).exists()
    assert set(
        TokenFamily.objects.filter(tenant=tenant).values_list("revoked_reason", flat=True)
    ) == {TokenFamily.REVOKED_ACCOUNT}

    report = lr.get(f"{JOBS}/{job['id']}/report").content.decode().splitlines()
    assert report[1:] == [
        f"{active[0].uid},applied,",
        f"{active[1].uid},applied,",
        f"{active[2].uid},applied,",
        f"{already_blocked.uid},applied,",
        f"{doomed.uid},failed,The account no longer exists.",
    ]
    rows = {row.uid: row for row in JobRow.objects.filter(job_id=job["id"])}
    # Only what the job changed is undone by a revert; the version it left is recorded.
    assert [rows[a.uid].undo for a in active] == [{}, {}, {}]
    assert rows[already_blocked.uid].undo is None
    for account in active:
        stored = Account.objects.get(pk=account.pk)
        assert rows[account.uid].version_after == account_version(stored)
    finished = AuditEvent.objects.get(tenant=tenant, action="job.finished")
    assert (finished.diff["succeeded"], finished.diff["failed"]) == (4, 1)


def test_a_batch_costs_the_same_statements_whatever_its_size(lr, tenant):
    accounts = [AccountFactory(tenant=tenant) for _ in range(50)]
    for account in accounts:
        _sign_in(tenant, account)
    job = _create(lr, action="block", uids=[a.uid for a in accounts], expected_count=50)
    job_batch_run(JobBatchRun(job_id=job["id"], batch_size=2))  # the job is running now
    costs = []
    for size in (4, 40):  # neither batch is the last one (that one also finishes the job)
        with CaptureQueriesContext(connection) as queries:
            assert job_batch_run(JobBatchRun(job_id=job["id"], batch_size=size)) is True
        costs.append(len(queries))
    assert costs[0] == costs[1], costs
    run_job(job["id"])
    assert Account.objects.filter(tenant=tenant, is_active=False).count() == 50
    assert AuditEvent.objects.filter(tenant=tenant, action="account.blocked").count() == 50
    assert AuditEvent.objects.filter(tenant=tenant, action="session.all_revoked").count() == 50
    assert Job.objects.get(pk=job["id"]).status == Job.STATUS_SUCCEEDED


def test_a_revert_batch_skips_the_changed_rows_and_unblocks_the_rest(lr, tenant):
    accounts = [AccountFactory(tenant=tenant) for _ in range(4)]
    job = _create(lr, action="block", uids=[a.uid for a in accounts], expected_count=4)
    run_job(job["id"])
    # Unblocked and blocked again by hand: blocked still, but not as the job left it.
    account_services.account_unblock(
        AccountUnblock(reason="t"), tenant=tenant, actor=Actor.system("t"), account=accounts[2]
    )
    account_services.account_block(
        AccountBlock(reason="again"), tenant=tenant, actor=Actor.system("t"), account=accounts[2]
    )
    revert = lr.post(f"{JOBS}/{job['id']}/revert", {"reason": "wrong list"}).json()
    before = AuditEvent.objects.filter(action="account.unblocked").count()
    run_job(revert["id"])
    report = lr.get(f"{JOBS}/{revert['id']}/report").content.decode().splitlines()
    assert report[1:] == [
        f"{accounts[0].uid},applied,",
        f"{accounts[1].uid},applied,",
        f"{accounts[2].uid},skipped,The account changed since the job ran.",
        f"{accounts[3].uid},applied,",
    ]
    active = set(Account.objects.filter(is_active=True).values_list("uid", flat=True))
    assert active == {accounts[0].uid, accounts[1].uid, accounts[3].uid}
    unblocked = AuditEvent.objects.filter(action="account.unblocked").order_by("id")[before:]
    assert sorted(e.subject_uid for e in unblocked) == sorted(active)
    assert {tuple(e.diff["IsActive"]) for e in unblocked} == {(False, True)}


def test_the_actions_scheduled_as_set_jobs_are_those_with_a_set_service():
    from jobs.services.actions import SET_ACTIONS
    from jobs.services.running import SET_SERVICES

    assert set(SET_SERVICES) == SET_ACTIONS

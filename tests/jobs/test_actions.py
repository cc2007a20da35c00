"""Every job action runs the section's own command per account: one event per account,
of the same type the single call records, and the job ends with its counts."""

import pytest

from accounts.models import Account
from jobs.models import Job, JobRow
from portal.models import AuditEvent
from roles.selectors import account_role_names
from security.models import TotpFactor
from security.selectors import login_lock_active
from tests.factories import AccountLockoutFactory
from tests.jobs.conftest import JOBS, run_job

pytestmark = pytest.mark.django_db


def _create(lr, **body):
    body.setdefault("reason", "bulk support work")
    response = lr.post(JOBS, body)
    assert response.status_code == 202, response.content
    return response.json()


def _events(tenant, action):
    return sorted(
        AuditEvent.objects.filter(tenant=tenant, action=action).values_list(
            "subject_uid", flat=True
        )
    )


def _uids(accounts):
    return [a.uid for a in accounts]


def _finish(lr, job):
    run_job(job["id"])
    body = lr.get(f"{JOBS}/{job['id']}").json()
    assert body["status"] == "succeeded", body
    return body


def test_block_blocks_each_account_with_its_own_event(lr, tenant, accounts):
    job = _create(lr, action="block", uids=_uids(accounts), expected_count=3, ticket="RISK-1")
    assert job["status"] == "queued" and job["total"] == 3 and job["processed"] == 0
    body = _finish(lr, job)
    assert (body["processed"], body["succeeded"], body["failed"]) == (3, 3, 0)
    assert not Account.objects.filter(pk__in=[a.pk for a in accounts], is_active=True).exists()
    assert _events(tenant, "account.blocked") == sorted(_uids(accounts))
    event = AuditEvent.objects.filter(action="account.blocked").first()
    assert (event.reason, event.ticket, event.actor_type) == (
        "bulk support work",
        "RISK-1",
        "credential",
    )
    assert AuditEvent.objects.filter(action="job.created").count() == 1
    assert AuditEvent.objects.filter(action="job.finished").count() == 1


def test_unblock(lr, tenant, accounts):
    Account.objects.filter(pk__in=[a.pk for a in accounts]).update(is_active=False)
    _finish(lr, _create(lr, action="unblock", uids=_uids(accounts)))
    assert Account.objects.filter(tenant=tenant, is_active=True).count() == 3
    assert _events(tenant, "account.unblocked") == sorted(_uids(accounts))


def test_delete(lr, tenant, accounts):
    _finish(lr, _create(lr, action="delete", uids=_uids(accounts), expected_count=3))
    assert not Account.objects.filter(tenant=tenant).exists()
    assert _events(tenant, "account.deleted") == sorted(_uids(accounts))


def test_unlock(lr, tenant, accounts):
    for account in accounts:
        AccountLockoutFactory(account=account)
    _finish(lr, _create(lr, action="unlock", uids=_uids(accounts)))
    assert not any(login_lock_active(account=a) for a in Account.objects.filter(tenant=tenant))
    assert _events(tenant, "account.unlocked") == sorted(_uids(accounts))


def test_reset_factor(lr, tenant, accounts):
    for account in accounts:
        TotpFactor.objects.create(
            tenant=tenant, account=account, secret_encrypted="x", confirmed=True
        )
    job = _create(
        lr, action="reset_factor", uids=_uids(accounts), params={"kind": "totp"}, expected_count=3
    )
    _finish(lr, job)
    assert not TotpFactor.objects.filter(tenant=tenant).exists()
    assert _events(tenant, "mfa_factor.reset") == sorted(_uids(accounts))


def test_reset_factor_needs_a_known_kind(lr, accounts):
    response = lr.post(
        JOBS,
        {"action": "reset_factor", "uids": _uids(accounts), "params": {"kind": "x"}, "reason": "r"},
    )
    assert response.status_code == 400
    assert not Job.objects.exists()


def test_revoke_sessions(lr, tenant, accounts):
    from portal.audit import Actor
    from tokens.commands import SessionIssue
    from tokens.models import TokenFamily
    from tokens.services.sessions import session_issue

    for account in accounts:
        session_issue(
            SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
        )
    job = _create(lr, action="revoke_sessions", uids=_uids(accounts), expected_count=3)
    _finish(lr, job)
    assert not TokenFamily.objects.filter(tenant=tenant, revoked_at__isnull=True).exists()
    assert _events(tenant, "session.all_revoked") == sorted(_uids(accounts))


def test_assign_and_unassign_roles(lr, tenant, accounts, editor_role):
    _finish(
        lr, _create(lr, action="assign_roles", uids=_uids(accounts), params={"roles": ["editor"]})
    )
    assert all(account_role_names(account=a) == ["editor"] for a in accounts)
    assert _events(tenant, "account_roles.assigned") == sorted(_uids(accounts))
    _finish(
        lr, _create(lr, action="unassign_roles", uids=_uids(accounts), params={"roles": ["editor"]})
    )
    assert all(account_role_names(account=a) == [] for a in accounts)
    assert _events(tenant, "account_roles.unassigned") == sorted(_uids(accounts))


def test_an_unknown_role_fails_each_row_and_the_job_still_succeeds(lr, accounts):
    job = _create(lr, action="assign_roles", uids=_uids(accounts), params={"roles": ["nope"]})
    body = _finish(lr, job)
    assert (body["succeeded"], body["failed"]) == (0, 3)
    assert set(JobRow.objects.values_list("state", flat=True)) == {"failed"}


def test_send_verification(lr, tenant, accounts):
    from tokens.models import OutboxMessage

    _finish(lr, _create(lr, action="send_verification", uids=_uids(accounts)))
    sent = OutboxMessage.objects.filter(tenant=tenant)
    assert sorted(sent.values_list("recipient", flat=True)) == sorted(
        f"bulk{i}@example.com" for i in range(3)
    )
    assert _events(tenant, "multipurpose_token.issued") == sorted(_uids(accounts))


def test_a_filter_selects_through_the_account_search(lr, tenant, accounts):
    job = _create(lr, action="unblock", filter={"email_prefix": "bulk1"})
    assert job["total"] == 1
    assert list(JobRow.objects.values_list("uid", flat=True)) == [accounts[1].uid]


def test_unknown_uids_get_a_not_found_row(lr, accounts, other_tenant):
    from tests.factories import AccountFactory

    foreign = AccountFactory(tenant=other_tenant)
    job = _create(lr, action="unblock", uids=[accounts[0].uid, "nobody", foreign.uid])
    body = _finish(lr, job)
    assert (body["total"], body["succeeded"], body["failed"]) == (3, 1, 2)
    report = lr.get(f"{JOBS}/{job['id']}/report").content.decode()
    assert f"{foreign.uid},not_found," in report and "nobody,not_found," in report

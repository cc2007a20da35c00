"""What a job refuses before it selects anything, and what a dry run writes."""

import pytest

from accounts.models import Account
from jobs.models import Job, JobRow
from portal.models import AuditEvent
from tests.conftest import LRClient
from tests.factories import AccountFactory, ApiCredentialFactory
from tests.jobs.conftest import JOBS, PROBLEM

pytestmark = pytest.mark.django_db


def _nothing_written():
    assert not Job.objects.exists() and not JobRow.objects.exists()
    assert not AuditEvent.objects.exists()


def test_reason_is_required(lr, accounts):
    response = lr.post(JOBS, {"action": "unblock", "uids": [accounts[0].uid]})
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "input.required" and "reason" in response.json()["detail"]
    _nothing_written()


@pytest.mark.parametrize(
    "selection",
    [{}, {"uids": []}, {"filter": {}}, {"filter": {"search": "  "}}, {"uids": ["  "]}],
)
def test_an_empty_selection_is_refused(lr, accounts, selection):
    response = lr.post(JOBS, {"action": "unblock", "reason": "r", **selection})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "job.selection_empty"
    _nothing_written()


def test_an_unknown_filter_is_refused_rather_than_ignored(lr, accounts):
    response = lr.post(JOBS, {"action": "unblock", "reason": "r", "filter": {"emial": "x"}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "filter.emial"
    _nothing_written()


def test_an_unknown_action_is_refused(lr, accounts):
    response = lr.post(JOBS, {"action": "explode", "reason": "r", "uids": [accounts[0].uid]})
    assert response.status_code == 400
    _nothing_written()


def test_destructive_actions_need_the_count_a_dry_run_reported(lr, accounts):
    selection = {"action": "block", "reason": "fraud", "filter": {"email_prefix": "bulk"}}
    dry = lr.post(JOBS, {**selection, "dry_run": True}).json()
    assert (dry["status"], dry["total"], dry["succeeded"], dry["dry_run"]) == (
        "succeeded",
        3,
        3,
        True,
    )

    missing = lr.post(JOBS, selection)
    assert missing.status_code == 400 and "3" in missing.json()["detail"]

    AccountFactory(tenant=accounts[0].tenant, email="bulk9@example.com")
    stale = lr.post(JOBS, {**selection, "expected_count": dry["total"]})
    assert stale.status_code == 409 and stale["Content-Type"] == PROBLEM
    body = stale.json()
    assert body["code"] == "job.count_mismatch" and "now holds 4 accounts" in body["detail"]
    assert body["errors"][0]["field"] == "expected_count"
    assert Job.objects.count() == 1  # the dry run only
    assert Account.objects.filter(is_active=False).count() == 0

    accepted = lr.post(JOBS, {**selection, "expected_count": 4})
    assert accepted.status_code == 202


def test_a_dry_run_writes_nothing_but_its_report(lr, accounts):
    response = lr.post(
        JOBS,
        {
            "action": "block",
            "uids": [a.uid for a in accounts] + ["ghost"],
            "reason": "r",
            "dry_run": True,
        },
    )
    assert response.status_code == 202
    job = response.json()
    assert Account.objects.filter(is_active=False).count() == 0
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"job.created"}
    report = lr.get(f"{JOBS}/{job['id']}/report")
    lines = report.content.decode().splitlines()
    assert lines[0] == "uid,result,detail"
    assert [line.split(",")[1] for line in lines[1:]] == ["would_apply"] * 3 + ["not_found"]


def test_a_credential_scoped_away_from_the_actions_section_is_refused(tenant, accounts):
    roles_only = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts"]))
    response = roles_only.post(
        JOBS,
        {
            "action": "assign_roles",
            "uids": [accounts[0].uid],
            "params": {"roles": ["x"]},
            "reason": "r",
        },
    )
    assert response.status_code == 403 and response["Content-Type"] == PROBLEM
    _nothing_written()
    security_only = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["security"]))
    response = security_only.post(
        JOBS, {"action": "unlock", "uids": [accounts[0].uid], "reason": "r"}
    )
    assert response.status_code == 403  # a job itself needs the accounts section
    both = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts", "security"]))
    response = both.post(JOBS, {"action": "unlock", "uids": [accounts[0].uid], "reason": "r"})
    assert response.status_code == 202


def test_another_tenants_job_is_not_found(lr, lr_other, accounts):
    job = lr.post(JOBS, {"action": "unblock", "uids": [accounts[0].uid], "reason": "r"}).json()
    for path in ("", "/report"):
        assert lr_other.get(f"{JOBS}/{job['id']}{path}").status_code == 404
    assert lr_other.post(f"{JOBS}/{job['id']}/cancel").status_code == 404
    assert lr.get(f"{JOBS}/not-a-number").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"action": "unblock", "reason": "r", "uids": [1, 2]},
        {"action": "unblock", "reason": "r", "uids": ["a\x00b"]},
        {"action": "unblock", "reason": "r", "filter": {"email": "a\x00"}},
        {"action": "unblock", "reason": "r", "filter": {"created_after": "nope"}},
        {"action": "unblock", "reason": "r", "filter": {"blocked": "maybe"}},
        {"action": "unblock", "reason": "r", "uids": ["a"], "filter": {"search": "x"}},
        {"action": "assign_roles", "reason": "r", "uids": ["a"], "params": {"roles": "x"}},
        {"action": "unlock", "reason": "r", "uids": ["a"], "params": {"relock": "yes"}},
        {"action": "unblock", "reason": "r", "uids": ["a"], "params": {"roles": ["x"]}},
        {"action": "block", "reason": "r", "uids": ["a"], "expected_count": "1"},
        {"action": "unblock", "reason": "r", "uids": ["a"], "dry_run": "yes"},
        {"action": "unblock", "reason": "r", "uids": ["a"], "extra": 1},
    ],
)
def test_malformed_bodies_answer_400_and_write_nothing(lr, accounts, body):
    response = lr.post(JOBS, body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    _nothing_written()

"""`POST /api/v1/accounts/{uid}/unlock`: the AccountLockSet command and service on the native
conventions; the answer is the account's lock state afterwards."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import AuditEvent
from security.models import AccountLockout, LoginFailureCounter
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def path(uid: str) -> str:
    return f"/api/v1/accounts/{uid}/unlock"


def lock(account, *, until=None, failures: int = 5) -> None:
    AccountLockout.objects.create(
        account=account,
        tenant=account.tenant,
        locked_type="FailedLoginAttemptsExceeded",
        locked_until=until,
    )
    LoginFailureCounter.objects.create(
        tenant=account.tenant, account=account, failure_count=failures
    )


def state():
    return (
        sorted(AccountLockout.objects.values_list("account_id", "locked_type")),
        sorted(LoginFailureCounter.objects.values_list("account_id", "failure_count")),
        AuditEvent.objects.count(),
    )


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    return response.json()


def test_unlock_lifts_the_lock_and_clears_the_failure_counter(lr, account, credential):
    lock(account, until=timezone.now() + timedelta(minutes=10))
    response = lr.post(path(account.uid), {"reason": "verified by phone", "ticket": "SUP-8"})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "uid": account.uid,
        "locked": False,
        "locked_type": None,
        "locked_until": None,
        "unlocked": True,
    }
    assert not AccountLockout.objects.filter(account=account).exists()
    assert LoginFailureCounter.objects.get(account=account).failure_count == 0
    [event] = AuditEvent.objects.filter(action="account.unlocked")
    assert (event.subject_uid, event.reason, event.ticket, event.actor_id) == (
        account.uid,
        "verified by phone",
        "SUP-8",
        str(credential.pk),
    )


def test_the_reason_may_come_from_the_headers(lr, account):
    lock(account)
    response = lr.post(path(account.uid), {}, HTTP_X_REASON="by header", HTTP_X_TICKET="T-2")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="account.unlocked")
    assert (event.reason, event.ticket) == ("by header", "T-2")


def test_an_account_that_is_not_locked_answers_its_state_and_records_nothing(lr, account):
    response = lr.post(path(account.uid), {"reason": "just in case"})
    assert response.status_code == 200
    assert response.json()["locked"] is False and response.json()["unlocked"] is False
    assert not AuditEvent.objects.exists()


def test_another_tenants_or_an_unknown_account_is_404(lr, lr_other, account):
    lock(account)
    before = state()
    problem(lr_other.post(path(account.uid), {"reason": "x"}), 404, "account.not_found")
    problem(lr.post(path("0" * 32), {"reason": "x"}), 404, "account.not_found")
    assert state() == before


def test_a_credential_without_the_security_scope_is_refused(tenant, account):
    lock(account)
    before = state()
    caller = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts"]))
    problem(caller.post(path(account.uid), {"reason": "x"}), 403, "credential.scope_refused")
    assert state() == before


@pytest.mark.parametrize(
    "body", [{"reason": 5}, {"reason": "x", "until": "later"}, ["reason"], {"ticket": ["T"]}]
)
def test_bad_bodies_are_400_and_change_nothing(lr, account, body):
    lock(account)
    before = state()
    problem(lr.post(path(account.uid), body), 400, "input.invalid")
    assert state() == before


def test_an_unknown_query_parameter_is_400(lr, account):
    lock(account)
    before = state()
    body = problem(
        lr.post(path(account.uid), {"reason": "x"}, params={"force": "1"}), 400, "input.invalid"
    )
    assert body["errors"][0]["field"] == "force"
    assert state() == before

"""Sign-in attempts in the event feed: `signin.succeeded` and `signin.failed` with the
reason, IP and device, recorded even though a refused sign-in changes nothing, and capped
per account and address under a flood."""

import pytest

from portal.models import AuditEvent
from security.services import signin_events
from tests.accounts.conftest import GOOD_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/identity/v2/auth/login"


@pytest.fixture
def person(lr, tenant):
    response = lr.post(
        "/identity/v2/manage/account",
        {"Email": [{"Type": "Primary", "Value": "sign@example.com"}], "Password": GOOD_PASSWORD},
    )
    assert response.status_code == 200, response.content
    return response.json()["Uid"]


def login(client, tenant, password, email="sign@example.com"):
    return client.post(
        f"{LOGIN}?apikey={tenant.api_key}",
        {"email": email, "password": password},
        format="json",
        HTTP_USER_AGENT="Firefox on Linux",
        REMOTE_ADDR="203.0.113.9",
    )


def events_of(tenant, action):
    return list(AuditEvent.objects.filter(tenant=tenant, action=action).order_by("id"))


@pytest.fixture
def client():
    from rest_framework.test import APIClient

    return APIClient()


def test_a_wrong_password_is_recorded_with_reason_ip_and_device(client, tenant, person):
    assert login(client, tenant, "Wrong-password-1").status_code != 200
    [event] = events_of(tenant, "signin.failed")
    assert event.subject_uid == person
    assert event.diff == {"method": "password", "reason": "wrong_password"}
    assert (event.ip, event.user_agent) == ("203.0.113.9", "Firefox on Linux")


def test_an_unknown_identifier_is_recorded_without_an_account(client, tenant, person):
    login(client, tenant, GOOD_PASSWORD, email="nobody@example.com")
    [event] = events_of(tenant, "signin.failed")
    assert (event.subject_uid, event.diff["reason"]) == ("", "unknown_account")


def test_a_locked_account_is_recorded_as_locked(client, tenant, person):
    tenant.settings = {**tenant.settings, "lockout_threshold": 2}
    tenant.save()
    for _ in range(3):
        login(client, tenant, "Wrong-password-1")
    reasons = [event.diff["reason"] for event in events_of(tenant, "signin.failed")]
    assert reasons == ["wrong_password", "wrong_password", "locked"]


def test_a_success_is_recorded_with_its_method(client, tenant, person):
    assert login(client, tenant, GOOD_PASSWORD).status_code == 200
    [event] = events_of(tenant, "signin.succeeded")
    assert (event.subject_uid, event.diff) == (person, {"method": "password sign-in"})
    assert event.ip == "203.0.113.9"


def test_a_flood_is_capped_per_account_and_address(client, tenant, person):
    tenant.settings = {**tenant.settings, "lockout_threshold": 0, "rate_limit_signin": 0}
    tenant.save()
    for _ in range(signin_events.FAILURES_RECORDED_PER_WINDOW + 5):
        login(client, tenant, "Wrong-password-1")
    assert len(events_of(tenant, "signin.failed")) == signin_events.FAILURES_RECORDED_PER_WINDOW


def test_sign_in_events_are_in_the_feed(client, lr, tenant, person):
    login(client, tenant, "Wrong-password-1")
    login(client, tenant, GOOD_PASSWORD)
    feed = lr.get("/api/v1/events", {"type": "signin.*"}).json()
    assert [event["type"] for event in feed["results"]] == ["signin.failed", "signin.succeeded"]
    assert feed["results"][0]["context"]["ip"] == "203.0.113.9"

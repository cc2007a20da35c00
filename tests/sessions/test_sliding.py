"""GET /identity/v2/auth/access_token/sliding_token: a live access token buys a fresh pair
of the same session and stops working itself."""

import re
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from portal.audit import Actor
from portal.models import AuditEvent
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory
from tokens.api.sessions.views import lr_datetime
from tokens.commands import AccessTokenInvalidate, AccountSessionsRevoke, SessionIssue
from tokens.errors import AccessTokenInvalid
from tokens.models import AccessToken, RefreshToken, TokenFamily
from tokens.services import sessions

GUID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
SLIDE = "/identity/v2/auth/access_token/sliding_token"
VALIDATE = "/identity/v2/auth/access_token/validate"


def auth_get(tenant, path, token=None, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return APIClient().get(f"{path}?{urlencode({'apikey': tenant.api_key, **params})}", **headers)


@pytest.mark.django_db
def test_slide_issues_a_fresh_pair_of_the_same_session_and_retires_the_presented_token(
    tenant, account, issue
):
    issued = issue(account)
    family = TokenFamily.objects.get()

    response = auth_get(tenant, SLIDE, issued.access_token)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in"}
    assert GUID.match(body["access_token"]) and GUID.match(body["refresh_token"])
    assert (
        body["access_token"] != issued.access_token
        and body["refresh_token"] != issued.refresh_token
    )
    assert auth_get(tenant, VALIDATE, issued.access_token).json()["ErrorCode"] == 905
    fresh = auth_get(tenant, VALIDATE, body["access_token"]).json()
    assert fresh == {"access_token": body["access_token"], "expires_in": body["expires_in"]}
    # Same session: no new family; the old refresh token was rotated into the new one.
    assert (
        TokenFamily.objects.count() == 1 and AccessToken.objects.filter(family=family).count() == 2
    )
    old_refresh = RefreshToken.objects.get(rotated_at__isnull=False)
    assert old_refresh.replaced_by.family_id == family.pk
    again = sessions.session_refresh(
        tenant=tenant, refresh_token=body["refresh_token"], actor=Actor.account(account.uid)
    )
    assert again.access_token
    event = AuditEvent.objects.get(action="session.slid")
    assert (
        event.subject_uid == account.uid
        and event.actor_type == "account"
        and event.actor_id == account.uid
    )
    assert event.diff["session"] == [family.pk, family.pk]
    assert issued.access_token not in str(event.diff) and body["access_token"] not in str(
        event.diff
    )


@pytest.mark.django_db
def test_the_presented_token_slides_once(tenant, account, issue):
    issued = issue(account)
    assert auth_get(tenant, SLIDE, issued.access_token).status_code == 200
    assert auth_get(tenant, SLIDE, issued.access_token).json()["ErrorCode"] == 905
    assert AuditEvent.objects.filter(action="session.slid").count() == 1
    assert AccessToken.objects.count() == 2


@pytest.mark.django_db
def test_slide_is_bounded_by_the_session_lifetime(tenant, account, issue):
    issued = issue(account)
    family = TokenFamily.objects.get()
    TokenFamily.objects.filter(pk=family.pk).update(
        expires_at=timezone.now() + timedelta(minutes=5)
    )
    body = auth_get(tenant, SLIDE, issued.access_token).json()
    family.refresh_from_db()
    assert body["expires_in"] == lr_datetime(
        AccessToken.objects.get(revoked_at__isnull=True).expires_at
    )
    assert AccessToken.objects.get(revoked_at__isnull=True).expires_at <= family.expires_at


@pytest.mark.django_db
def test_slide_without_a_live_refresh_token_still_stays_in_the_session(tenant, account, issue):
    issued = issue(account)
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    body = auth_get(tenant, SLIDE, issued.access_token).json()
    assert GUID.match(body["refresh_token"])
    assert TokenFamily.objects.count() == 1 and RefreshToken.objects.count() == 2
    assert AuditEvent.objects.filter(action="session.slid").count() == 1


@pytest.mark.django_db
def test_slide_errors_change_nothing(tenant, other_tenant, account, issue):
    issued = issue(account)
    assert auth_get(tenant, SLIDE).json()["ErrorCode"] == 1060
    assert auth_get(tenant, SLIDE, "junk").json()["ErrorCode"] == 905
    assert auth_get(tenant, SLIDE, str(uuid.uuid4())).json()["ErrorCode"] == 905
    assert auth_get(other_tenant, SLIDE, issued.access_token).json()["ErrorCode"] == 905
    with freeze_time(timezone.now() + timedelta(hours=2)):
        assert auth_get(tenant, SLIDE, issued.access_token).json()["ErrorCode"] == 906
    assert AccessToken.objects.get().revoked_at is None
    assert RefreshToken.objects.get().rotated_at is None
    assert not AuditEvent.objects.filter(action="session.slid").exists()

    sessions.access_token_invalidate(
        AccessTokenInvalidate(access_token=issued.access_token),
        tenant=tenant,
        actor=Actor.system("t"),
    )
    assert auth_get(tenant, SLIDE, issued.access_token).json()["ErrorCode"] == 905
    assert (
        AccessToken.objects.count() == 1
        and not AuditEvent.objects.filter(action="session.slid").exists()
    )


@pytest.mark.django_db
def test_service_refuses_a_token_revoked_after_it_was_resolved(tenant, account, issue):
    issued = issue(account)
    sessions.account_sessions_revoke(
        AccountSessionsRevoke(), tenant=tenant, account=account, actor=Actor.system("t")
    )
    with pytest.raises(AccessTokenInvalid):
        sessions.access_token_slide(
            tenant=tenant, access_token=issued.access_token, actor=Actor.account(account.uid)
        )
    assert AccessToken.objects.count() == 1


@pytest.mark.django_db
def test_slide_query_count(tenant, account, issue, django_assert_max_num_queries):
    issued = issue(account)
    with django_assert_max_num_queries(16):
        assert auth_get(tenant, SLIDE, issued.access_token).status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_slides_of_one_token_yield_one_pair(tenant):
    account = AccountFactory(tenant=tenant)
    issued = sessions.session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
    )
    threads_n = 6
    results = run_concurrently(
        lambda: sessions.access_token_slide(
            tenant=tenant, access_token=issued.access_token, actor=Actor.account(account.uid)
        ),
        threads_n,
    )

    winners = [r for r in results if isinstance(r, sessions.IssuedSession)]
    assert len(results) == threads_n and len(winners) == 1, results
    assert sorted(r for r in results if not isinstance(r, sessions.IssuedSession)) == [
        AccessTokenInvalid.code
    ] * (threads_n - 1)
    assert AccessToken.objects.filter(revoked_at__isnull=True).count() == 1
    assert (
        RefreshToken.objects.filter(rotated_at__isnull=True, revoked_at__isnull=True).count() == 1
    )
    assert AuditEvent.objects.filter(action="session.slid").count() == 1


@pytest.mark.django_db(transaction=True)
def test_sdk_sliding_access_token(lr_sdk, tenant):
    sdk = lr_sdk()
    account = AccountFactory(tenant=tenant)
    issued = sessions.session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
    )

    result = sdk.sliding_token.sliding_access_token(issued.access_token)

    assert "ErrorCode" not in result, result
    assert set(result) == {"access_token", "refresh_token", "expires_in"}
    assert GUID.match(result["access_token"]) and result["expires_in"].endswith("Z")
    assert sdk.authentication.auth_validate_access_token(issued.access_token)["ErrorCode"] == 905
    assert (
        sdk.authentication.auth_validate_access_token(result["access_token"])["access_token"]
        == result["access_token"]
    )
    assert sdk.sliding_token.sliding_access_token(issued.access_token)["ErrorCode"] == 905

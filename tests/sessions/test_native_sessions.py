"""`/api/v1/accounts/{uid}/sessions`: an account's live sessions as a native list, and
ending one or all of them for real (the access tokens stop validating at once)."""

from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from portal.crypto import token_hash
from portal.models import AuditEvent
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory
from tokens.commands import SessionIssue
from tokens.models import AccessToken, TokenFamily

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def path(uid, *rest) -> str:
    return "/".join([f"/api/v1/accounts/{uid}/sessions", *map(str, rest)])


def validates(tenant, access_token) -> bool:
    """Whether the LoginRadius token-side validate route accepts the access token."""
    query = urlencode({"apikey": tenant.api_key})
    response = APIClient().get(
        f"/identity/v2/auth/access_token/validate?{query}",
        HTTP_AUTHORIZATION=f"Bearer {access_token}",
    )
    return response.status_code == 200


def family_id(issued) -> int:
    return AccessToken.objects.get(token_hash=token_hash(issued.access_token)).family_id


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    return response.json()


def state():
    return (
        sorted(TokenFamily.objects.values_list("pk", "revoked_at")),
        sorted(AccessToken.objects.values_list("pk", "revoked_at")),
        AuditEvent.objects.count(),
    )


def test_list_shows_live_sessions_with_device_and_times(lr, account, issue):
    one = issue(account, SessionIssue(device={"ip": "203.0.113.9", "user_agent": CHROME}))
    issue(account)
    response = lr.get(path(account.uid))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2 and body["next"] is None
    first = body["results"][0]
    assert first["id"] == family_id(one)
    assert set(first) == {
        "id",
        "device",
        "ip",
        "location",
        "impersonated_by",
        "created_at",
        "last_used_at",
        "expires_at",
    }
    assert first["ip"] == "203.0.113.9"
    assert first["device"]["browser"] == "Chrome"
    assert first["created_at"].endswith("Z") and first["expires_at"].endswith("Z")
    assert first["impersonated_by"] is None
    assert one.access_token not in response.content.decode()


def test_list_pages_by_cursor(lr, account, issue):
    ids = [family_id(issue(account)) for _ in range(3)]
    first = lr.get(path(account.uid), {"page_size": 2}).json()
    assert [row["id"] for row in first["results"]] == ids[:2]
    assert first["count"] == 3 and f"after={ids[1]}" in first["next"]
    second = lr.get(path(account.uid), {"page_size": 2, "after": ids[1]}).json()
    assert [row["id"] for row in second["results"]] == ids[2:] and second["next"] is None


def test_delete_one_ends_it_at_once_and_leaves_the_other(lr, account, issue, tenant):
    one, two = issue(account), issue(account)
    assert validates(tenant, one.access_token)
    response = lr.delete(
        path(account.uid, family_id(one)), HTTP_X_REASON="lost phone", HTTP_X_TICKET="SUP-1"
    )
    assert response.status_code == 204
    assert not validates(tenant, one.access_token)
    assert validates(tenant, two.access_token)
    event = AuditEvent.objects.get(action="session.revoked_by_id")
    assert (event.reason, event.ticket, event.subject_uid) == ("lost phone", "SUP-1", account.uid)
    assert [row["id"] for row in lr.get(path(account.uid)).json()["results"]] == [family_id(two)]


def test_delete_all_ends_every_session(lr, account, issue, tenant):
    one, two = issue(account), issue(account)
    assert lr.delete(path(account.uid)).status_code == 204
    assert not validates(tenant, one.access_token)
    assert not validates(tenant, two.access_token)
    assert AuditEvent.objects.filter(action="session.all_revoked").count() == 1
    assert lr.get(path(account.uid)).json()["count"] == 0


def test_an_ended_or_unknown_session_is_404_and_changes_nothing(lr, account, issue):
    one = issue(account)
    lr.delete(path(account.uid, family_id(one)))
    before = state()
    problem(lr.delete(path(account.uid, family_id(one))), 404, "session.not_found")
    problem(lr.delete(path(account.uid, "not-a-number")), 404, "session.not_found")
    assert state() == before


def test_another_tenants_account_or_session_is_404(lr, lr_other, account, other_tenant, issue):
    from tests.factories import AccountFactory

    stranger = AccountFactory(tenant=other_tenant)
    theirs = issue(stranger)
    before = state()
    problem(lr.get(path(stranger.uid)), 404, "account.not_found")
    problem(lr.delete(path(stranger.uid, family_id(theirs))), 404, "account.not_found")
    problem(lr.delete(path(account.uid, family_id(theirs))), 404, "session.not_found")
    problem(lr_other.delete(path(account.uid)), 404, "account.not_found")
    assert state() == before
    assert validates(other_tenant, theirs.access_token)


def test_a_credential_scoped_away_from_sessions_is_refused(tenant, account, issue):
    one = issue(account)
    scoped = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts"]))
    before = state()
    problem(scoped.get(path(account.uid)), 403, "credential.scope_refused")
    problem(scoped.delete(path(account.uid, family_id(one))), 403, "credential.scope_refused")
    problem(scoped.delete(path(account.uid)), 403, "credential.scope_refused")
    assert state() == before
    allowed = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["sessions"]))
    assert allowed.get(path(account.uid)).status_code == 200


def test_unknown_query_parameters_and_bad_cursors_are_400(lr, account):
    body = problem(lr.get(path(account.uid), {"pagesize": 5}), 400, "input.invalid")
    assert body["errors"][0]["field"] == "pagesize"
    problem(lr.get(path(account.uid), {"after": "x"}), 400, "input.invalid")
    problem(lr.get(path(account.uid), {"page_size": 0}), 400, "input.invalid")

"""`GET /api/v1/events` and `GET /api/v1/event-types`: the tenant's domain events, oldest
first after a cursor, only of the sections the credential reaches (docs/api.md)."""

from urllib.parse import parse_qs, urlparse

import pytest
from django.db import transaction

from portal import audit
from portal.audit import Actor
from portal.models import AuditEvent
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory

pytestmark = pytest.mark.django_db

FEED = "/api/v1/events"
PROBLEM = "application/problem+json"


def _record(tenant, action, *, uid="", actor=None, changes=None, reason=""):
    with transaction.atomic():
        return audit.record(
            tenant=tenant,
            actor=actor or Actor.system("test"),
            action=action,
            subject_uid=uid,
            changes=changes or {},
            reason=reason,
        )


@pytest.fixture
def history(tenant, other_tenant):
    rows = [
        _record(tenant, "account.created", uid="u1", changes={"Email": [None, "a@example.com"]}),
        _record(
            tenant, "account.updated", uid="u1", changes={"FirstName": ["A", "B"]}, reason="why"
        ),
        _record(
            tenant, "role.created", changes={"name": [None, "admin"], "permissions": [[], ["x"]]}
        ),
        _record(tenant, "account.blocked", uid="u2", actor=Actor("staff", "7", "sam")),
        _record(
            tenant,
            "credential.revoked",
            changes={"credential": [None, 1], "replaced_by": [None, None]},
        ),
        _record(other_tenant, "account.created", uid="elsewhere"),
    ]
    return rows


def _page(response):
    assert response.status_code == 200, response.content
    return response.json()


def _ids(body):
    return [event["id"] for event in body["results"]]


def _query_of(url):
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def test_events_come_oldest_first_with_exact_count_and_a_cursor(lr, history):
    tenant_rows = [row.pk for row in history[:4]]  # the credential event needs admin
    first = _page(lr.get(FEED, {"page_size": 2}))
    assert first["count"] == 4 and first["previous"] is None
    assert _ids(first) == tenant_rows[:2]
    following = _query_of(first["next"])
    assert following["after"] == str(tenant_rows[1]) and "apisecret" not in following
    second = _page(lr.get(FEED, {"page_size": 2, "after": following["after"]}))
    assert _ids(second) == tenant_rows[2:] and second["next"] is None
    event = first["results"][1]
    assert event["type"] == "account.updated" and event["uid"] == "u1"
    assert event["changes"] == {"FirstName": ["A", "B"]} and event["reason"] == "why"
    assert event["occurred_at"].endswith("Z")


def test_a_secret_in_the_query_is_never_echoed_in_the_next_link(lr, history):
    body = _page(lr.get(FEED, {"page_size": 1, "apisecret": lr.credential.raw}))
    assert lr.credential.raw not in body["next"]


def test_filters_by_type_uid_and_actor(lr, history):
    assert _ids(_page(lr.get(FEED, {"type": "account.*"}))) == [r.pk for r in history[:2]] + [
        history[3].pk
    ]
    assert _ids(_page(lr.get(FEED, {"type": "role.created,account.blocked"}))) == [
        history[2].pk,
        history[3].pk,
    ]
    assert _ids(_page(lr.get(FEED, {"uid": "u1"}))) == [history[0].pk, history[1].pk]
    assert _ids(_page(lr.get(FEED, {"actor": "staff:7"}))) == [history[3].pk]


def test_time_window(lr, history):
    moment = history[2].occurred_at.isoformat()
    since = _page(lr.get(FEED, {"since": moment}))
    until = _page(lr.get(FEED, {"until": moment}))
    assert set(_ids(since)) | set(_ids(until)) == {r.pk for r in history[:4]}
    assert not set(_ids(since)) & set(_ids(until))


@pytest.mark.parametrize(
    "params, field",
    [
        ({"emial": "x"}, "emial"),
        ({"type": "nothing.like_this"}, "type"),
        ({"after": "ten"}, "after"),
        ({"since": "yesterday"}, "since"),
        ({"page_size": "500"}, "page_size"),
    ],
)
def test_bad_parameters_answer_400_problems(lr, history, params, field):
    response = lr.get(FEED, params)
    assert response.status_code == 400 and response["Content-Type"].startswith(PROBLEM)
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_a_scoped_credential_reads_only_its_sections_and_admin_needs_its_own_scope(tenant, history):
    roles_only = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["roles"]))
    assert _ids(_page(roles_only.get(FEED))) == [history[2].pk]
    assert _page(roles_only.get(FEED, {"type": "account.*"}))["results"] == []
    admin = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["admin"]))
    assert _ids(_page(admin.get(FEED))) == [history[4].pk]
    catalogue = _page(roles_only.get("/api/v1/event-types"))
    assert {item["section"] for item in catalogue["results"]} == {"roles"}
    assert catalogue["count"] == len(catalogue["results"]) > 0


def test_an_empty_scope_list_does_not_imply_admin(lr, history):
    types = {item["type"] for item in _page(lr.get("/api/v1/event-types"))["results"]}
    assert "account.updated" in types and "credential.revoked" not in types
    assert history[4].pk not in _ids(_page(lr.get(FEED)))


def test_another_tenants_events_are_not_listed(lr_other, history):
    body = _page(lr_other.get(FEED))
    assert [event["uid"] for event in body["results"]] == ["elsewhere"]


def test_changes_made_through_the_wire_paths_appear(lr, tenant):
    created = lr.post(
        "/identity/v2/manage/account",
        {"Email": [{"Type": "Primary", "Value": "feed@example.com"}], "FirstName": "Feed"},
    )
    assert created.status_code == 200, created.content
    uid = created.json()["Uid"]
    assert lr.put(f"/identity/v2/manage/account/{uid}", {"FirstName": "Fed"}).status_code == 200
    body = _page(lr.get(FEED, {"uid": uid}))
    assert [event["type"] for event in body["results"]] == ["account.created", "account.updated"]
    assert body["results"][1]["actor"]["type"] == AuditEvent.ACTOR_CREDENTIAL


def test_a_credential_that_may_read_no_event_type_is_refused(tenant, history):
    native_only = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["native"]))
    for path in (FEED, "/api/v1/event-types"):
        response = native_only.get(path)
        assert response.status_code == 403 and response["Content-Type"].startswith(PROBLEM)
        assert response.json()["code"] == "credential.scope_refused"

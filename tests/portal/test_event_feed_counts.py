"""The `count` of `GET /api/v1/events` stays exact page after page while the pages stay
cheap: one snapshot count per set of filters, then only the events recorded since are
counted (portal/event_counts.py, docs/api.md "Lists"). Runs on SQLite and PostgreSQL."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import audit, retention
from portal.audit import Actor
from portal.models import AuditEvent
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory

pytestmark = pytest.mark.django_db

FEED = "/api/v1/events"
ACTIONS = ("account.created", "account.updated", "role.created", "credential.revoked")


def _record(tenant, action, *, uid="", actor=None):
    with transaction.atomic():
        return audit.record(
            tenant=tenant, actor=actor or Actor.system("test"), action=action, subject_uid=uid
        )


def _aged(tenant, action, days, uid="old"):
    """An event recorded `days` ago (written directly: record() stamps the present)."""
    return AuditEvent.objects.create(
        tenant=tenant,
        action=action,
        actor_type=AuditEvent.ACTOR_SYSTEM,
        actor_label="test",
        subject_uid=uid,
        occurred_at=timezone.now() - timedelta(days=days),
    )


def _truth(tenant, client, **filters):
    """What the count must be: the tenant's rows of the types the credential reaches."""
    readable = [
        a for a in audit.registered_actions() if client.credential.allows(audit.action_section(a))
    ]
    return AuditEvent.objects.filter(tenant=tenant, action__in=readable, **filters).count()


def _get(client, params):
    response = client.get(FEED, params)
    assert response.status_code == 200, response.content
    return response.json()


def _follow(client, url):
    parts = urlsplit(url)
    response = client.client.get(
        f"{parts.path}?{parts.query}", HTTP_X_LOGINRADIUS_APISECRET=client.credential.raw
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def many(tenant, other_tenant):
    for index in range(12):
        _record(tenant, ACTIONS[index % len(ACTIONS)], uid=f"u{index % 3}")
    _record(other_tenant, "account.created", uid="elsewhere")


def test_the_count_stays_exact_on_every_page_while_events_are_recorded(lr, tenant, many):
    body = _get(lr, {"page_size": 2})
    assert body["count"] == _truth(tenant, lr) == 9  # three of twelve need `admin`
    seen = len(body["results"])
    added = 0
    while body["next"]:
        _record(tenant, "account.updated", uid="late")
        added += 1
        body = _follow(lr, body["next"])
        seen += len(body["results"])
        assert body["count"] == _truth(tenant, lr) == 9 + added
    assert seen == 9 + added  # the walk read every event the last count names


def test_a_following_page_counts_only_the_events_above_the_snapshot(lr, tenant, many):
    first = _get(lr, {"page_size": 2})
    with CaptureQueriesContext(connection) as queries:
        second = _follow(lr, first["next"])
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert second["count"] == first["count"] == 9
    assert len(counts) == 1 and '"id" >' in counts[0]  # not the whole history again


@pytest.mark.parametrize(
    "scopes",
    [[], ["roles"], ["admin"], ["accounts", "roles", "admin"]],
    ids=["unscoped", "roles", "admin", "several"],
)
def test_each_credential_counts_only_what_it_may_read(tenant, many, lr, scopes):
    _get(lr, {"page_size": 1})  # the unscoped credential's snapshot is taken first
    client = LRClient(ApiCredentialFactory(tenant=tenant, scopes=scopes))
    body, seen = _get(client, {"page_size": 2}), 0
    expected = _truth(tenant, client)
    while True:
        assert body["count"] == expected
        seen += len(body["results"])
        if not body["next"]:
            break
        body = _follow(client, body["next"])
    assert seen == expected
    assert _get(lr, {"page_size": 1})["count"] == _truth(tenant, lr)


def test_filters_keep_their_own_exact_counts(lr, tenant, many):
    for params, filters in (
        ({"type": "account.*"}, {"action__startswith": "account."}),
        ({"uid": "u1"}, {"subject_uid": "u1"}),
        ({"type": "role.created", "uid": "u0"}, {"action": "role.created", "subject_uid": "u0"}),
    ):
        assert _get(lr, {**params, "page_size": 1})["count"] == _truth(tenant, lr, **filters)
        _record(tenant, "account.updated", uid="u1")
        _record(tenant, "role.created", uid="u0")
        assert _get(lr, {**params, "page_size": 1})["count"] == _truth(tenant, lr, **filters)
    mark = timezone.now()
    _record(tenant, "account.created", uid="u2")
    since = _get(lr, {"since": mark.isoformat()})
    until = _get(lr, {"until": mark.isoformat()})
    assert since["count"] == 1 and until["count"] == _truth(tenant, lr) - 1


def test_another_tenants_feed_has_its_own_count(lr, lr_other, tenant, other_tenant, many):
    assert _get(lr, {})["count"] == 9
    assert _get(lr_other, {})["count"] == 1
    _record(other_tenant, "account.updated")
    assert _get(lr_other, {})["count"] == 2 and _get(lr, {})["count"] == 9


def test_a_retention_purge_shows_in_the_count_of_the_next_page(
    lr, tenant, django_capture_on_commit_callbacks
):
    tenant.settings = {**tenant.settings, "retention_events_days": 10}
    tenant.save()
    for _ in range(3):
        _aged(tenant, "account.updated", 30)
    for index in range(4):
        _record(tenant, "account.created", uid=f"n{index}")
    first = _get(lr, {"page_size": 2})
    assert first["count"] == 7
    with django_capture_on_commit_callbacks(execute=True):
        result = retention.retention_purge(tenant=tenant, kind="events")
    assert result.deleted == 3
    following = _follow(lr, first["next"])
    assert following["count"] == _truth(tenant, lr) == 4
    assert _get(lr, {"page_size": 2})["count"] == 4


def test_erasure_leaves_the_counts_as_they_were(lr, tenant):
    created = lr.post(
        "/identity/v2/manage/account",
        {"Email": [{"Type": "Primary", "Value": "gone@example.com"}], "FirstName": "Gone"},
    )
    assert created.status_code == 200, created.content
    uid = created.json()["Uid"]
    assert lr.put(f"/identity/v2/manage/account/{uid}", {"FirstName": "G"}).status_code == 200
    before = _get(lr, {"uid": uid})
    assert before["count"] == 2
    assert lr.delete(f"/identity/v2/manage/account/{uid}").status_code == 200
    after = _get(lr, {"uid": uid})
    assert any(event["erased"] for event in after["results"])
    assert after["count"] == _truth(tenant, lr, subject_uid=uid) == len(after["results"]) > 2


def test_a_lost_cache_only_costs_a_new_count(lr, tenant, many):
    first = _get(lr, {"page_size": 2})
    cache.clear()  # the snapshot and the tenant's generation gone (eviction, a restart)
    _record(tenant, "account.created")
    assert _follow(lr, first["next"])["count"] == _truth(tenant, lr) == 10

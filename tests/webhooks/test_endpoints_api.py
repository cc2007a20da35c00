"""`/api/v1/webhooks`: registering, reading, changing and deleting endpoints, with the
secret shown only at creation and rotation, and administration scope required."""

import base64
import json

import pytest

from portal.models import AuditEvent
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory
from tests.webhooks.conftest import WEBHOOKS, register
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
URL = "https://hooks.example.com/portal"


def _events_text(tenant) -> str:
    return json.dumps(
        [e.diff for e in AuditEvent.objects.filter(tenant=tenant, action__startswith="webhook.")]
    )


def test_create_shows_the_secret_once_and_records_an_event_without_it(admin, tenant):
    response = admin.post(
        WEBHOOKS, {"url": URL, "events": ["account.updated"], "description": "CRM"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "url",
        "events",
        "enabled",
        "secret",
        "description",
        "format",
        "created_at",
    }
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"][len("whsec_") :])) >= 24
    assert (body["format"], body["enabled"], body["events"]) == (
        "standard",
        True,
        ["account.updated"],
    )
    assert body["created_at"].endswith("Z") and response["ETag"]
    stored = WebhookEndpoint.objects.get(pk=body["id"])
    assert body["secret"] not in stored.secret_encrypted

    shown = admin.get(f"{WEBHOOKS}/{body['id']}")
    assert shown.status_code == 200 and "secret" not in shown.json()
    listed = admin.get(WEBHOOKS).json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]

    event = AuditEvent.objects.get(tenant=tenant, action="webhook.created")
    assert event.diff["url"] == [None, URL] and event.diff["webhook"] == body["id"]
    assert body["secret"] not in _events_text(tenant)


def test_rotating_shows_a_new_secret_once(admin, tenant):
    created = register(admin, URL, ["*"])
    rotated = admin.post(f"{WEBHOOKS}/{created['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.content
    secret = rotated.json()["secret"]
    assert secret.startswith("whsec_") and secret != created["secret"]
    assert "secret" not in admin.get(f"{WEBHOOKS}/{created['id']}").json()
    assert AuditEvent.objects.filter(tenant=tenant, action="webhook.secret_rotated").count() == 1
    text = _events_text(tenant)
    assert secret not in text and created["secret"] not in text


@pytest.mark.parametrize("scopes", [[], ["native"], ["accounts", "roles"]])
def test_a_credential_without_the_admin_scope_is_refused(tenant, scopes):
    client = LRClient(ApiCredentialFactory(tenant=tenant, scopes=scopes))
    response = client.post(WEBHOOKS, {"url": URL, "events": ["*"]})
    assert response.status_code == 403 and response["Content-Type"].startswith(PROBLEM)
    assert client.get(WEBHOOKS).status_code == 403
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="webhook.").exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": URL, "events": ["account.nothing"]}, "events"),
        ({"url": URL, "events": ["*", "account.updated"]}, "events"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL}, "events"),
        ({"events": ["*"]}, "url"),
        ({"url": "ftp://hooks.example.com/x", "events": ["*"]}, "url"),
        ({"url": "http://hooks.example.com/x", "events": ["*"]}, "url"),
        ({"url": URL, "events": ["*"], "format": "xml"}, "format"),
        ({"url": URL, "events": ["*"], "secret": "whsec_AAAA"}, "secret"),
        ({"url": URL, "events": ["*"], "colour": "red"}, "colour"),
    ],
)
def test_bad_input_answers_field_errors_and_creates_nothing(admin, body, field):
    response = admin.post(WEBHOOKS, body)
    assert response.status_code == 400 and response["Content-Type"].startswith(PROBLEM)
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="webhook.").exists()


def test_patch_is_a_merge_patch_with_if_match(admin, tenant):
    created = register(admin, URL, ["account.updated"], description="CRM")
    path = f"{WEBHOOKS}/{created['id']}"
    etag = admin.get(path)["ETag"]
    changed = admin.request(
        "PATCH",
        path,
        body={"events": ["*"], "description": None, "enabled": False, "format": "loginradius"},
        HTTP_IF_MATCH=etag,
        HTTP_X_REASON="switching",
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["events"], body["description"], body["enabled"], body["format"]) == (
        ["*"],
        "",
        False,
        "loginradius",
    )
    assert changed["ETag"] != etag and "secret" not in body
    event = AuditEvent.objects.get(tenant=tenant, action="webhook.updated")
    assert event.diff["enabled"] == [True, False] and event.reason == "switching"

    stale = admin.request("PATCH", path, body={"enabled": True}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert WebhookEndpoint.objects.get(pk=created["id"]).enabled is False
    for patch, field in (({"url": None}, "url"), ({"events": ["nope.never"]}, "events")):
        refused = admin.request("PATCH", path, body=patch)
        assert refused.status_code == 400
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert AuditEvent.objects.filter(tenant=tenant, action="webhook.updated").count() == 1


def test_delete_with_a_stale_etag_is_refused_then_deletes(admin, tenant):
    created = register(admin, URL, ["*"])
    path = f"{WEBHOOKS}/{created['id']}"
    assert admin.delete(path, HTTP_IF_MATCH='"99"').status_code == 412
    assert admin.delete(path, HTTP_IF_MATCH=admin.get(path)["ETag"]).status_code == 204
    assert admin.get(path).status_code == 404
    assert AuditEvent.objects.filter(tenant=tenant, action="webhook.deleted").count() == 1


def test_another_tenants_endpoint_is_not_found(admin, other_tenant):
    theirs = register(
        LRClient(ApiCredentialFactory(tenant=other_tenant, scopes=["admin"])), URL, ["*"]
    )
    path = f"{WEBHOOKS}/{theirs['id']}"
    assert admin.get(path).status_code == 404
    assert admin.request("PATCH", path, body={"enabled": False}).status_code == 404
    assert admin.delete(path).status_code == 404
    assert admin.post(f"{path}/rotate-secret").status_code == 404
    assert admin.post(f"{path}/replay", {"event_ids": [1]}).status_code == 404
    assert admin.get(f"{path}/deliveries").status_code == 404
    assert admin.get(f"{WEBHOOKS}/not-a-number").status_code == 404
    assert WebhookEndpoint.objects.get(pk=theirs["id"]).enabled is True


def test_the_list_pages_by_id(admin):
    ids = [register(admin, f"{URL}/{n}", ["*"])["id"] for n in range(3)]
    first = admin.get(WEBHOOKS, {"page_size": 2}).json()
    assert [item["id"] for item in first["results"]] == ids[:2] and first["count"] == 3
    assert "apisecret" not in first["next"]
    second = admin.get(WEBHOOKS, {"page_size": 2, "after": str(ids[1])}).json()
    assert [item["id"] for item in second["results"]] == ids[2:] and second["next"] is None
    assert admin.get(WEBHOOKS, {"sort": "id"}).status_code == 400

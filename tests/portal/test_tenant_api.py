"""`GET` and `PATCH /api/v1/tenant`: the settings object with its version as ETag, `If-Match`
on the change, and the service's rules answered as field errors under `settings.`."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

from portal import tenant_settings
from portal.models import AuditEvent, Tenant
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def admin(tenant):
    return LRClient(ApiCredentialFactory(tenant=tenant, scopes=["admin"], label="ops"))


def patch(client, body, **headers):
    return client.client.patch(
        f"/api/v1/tenant?apikey={client.credential.tenant.api_key}",
        json.dumps(body),
        content_type="application/merge-patch+json",
        HTTP_X_LOGINRADIUS_APISECRET=client.credential.raw,
        **headers,
    )


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    return response.json()


def state():
    return sorted(Tenant.objects.values_list("pk", "settings")), AuditEvent.objects.count()


def test_get_shows_every_setting_and_its_version(lr, tenant):
    tenant.settings = {"retention_events_days": 400}
    tenant.save()
    response = lr.get("/api/v1/tenant")
    assert response.status_code == 200
    settings = response.json()["settings"]
    assert settings == {**tenant_settings.DEFAULTS, "retention_events_days": 400}
    assert response["ETag"] == f'"{tenant_settings.version_of(tenant.settings)}"'


def test_patch_with_the_current_etag_applies_and_answers_the_new_one(admin, tenant):
    etag = admin.get("/api/v1/tenant")["ETag"]
    response = patch(admin, {"settings": {"retention_signin_events_days": 30}}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    assert response.json()["settings"]["retention_signin_events_days"] == 30
    assert response["ETag"] != etag
    assert response["ETag"] == admin.get("/api/v1/tenant")["ETag"]


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(admin, tenant):
    etag = admin.get("/api/v1/tenant")["ETag"]
    assert patch(admin, {"settings": {"lockout_threshold": 3}}).status_code == 200
    before = state()
    response = patch(admin, {"settings": {"lockout_threshold": 9}}, HTTP_IF_MATCH=etag)
    problem(response, 412, "tenant.version_stale")
    assert state() == before


def test_patch_names_every_refused_setting_and_changes_nothing(admin, tenant):
    before = state()
    body = problem(
        patch(
            admin,
            {
                "settings": {
                    "lockout_threshold": -1,
                    "retention_webhook_deliveries_days": 366,
                    "password_min_length": 0,
                    "nope": 1,
                }
            },
        ),
        400,
        "input.invalid",
    )
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("settings.lockout_threshold", "invalid"),
        ("settings.retention_webhook_deliveries_days", "invalid"),
        ("settings.password_min_length", "invalid"),
        ("settings.nope", "unknown"),
    }
    assert all(e["message"] for e in body["errors"])
    assert state() == before


def test_patch_refuses_a_minimum_above_the_stored_maximum(admin, tenant):
    before = state()
    body = problem(patch(admin, {"settings": {"password_min_length": 33}}), 400, "input.invalid")
    assert [e["field"] for e in body["errors"]] == ["settings.password_max_length"]
    assert state() == before


@pytest.mark.parametrize("scopes", [[], ["native"], ["security", "roles"]])
def test_patch_needs_the_admin_scope(tenant, scopes):
    caller = LRClient(ApiCredentialFactory(tenant=tenant, scopes=scopes))
    before = state()
    problem(
        patch(caller, {"settings": {"retention_events_days": 10}}), 403, "credential.scope_refused"
    )
    assert state() == before


def test_patch_changes_only_the_callers_tenant(admin, tenant, other_tenant):
    assert patch(admin, {"settings": {"retention_events_days": 10}}).status_code == 200
    assert Tenant.objects.get(pk=other_tenant.pk).settings == {}
    assert Tenant.objects.get(pk=tenant.pk).settings == {"retention_events_days": 10}


def test_patch_refuses_an_unknown_query_parameter(admin):
    before = state()
    response = admin.client.patch(
        f"/api/v1/tenant?apikey={admin.credential.tenant.api_key}&dry_run=1",
        json.dumps({"settings": {"lockout_threshold": 2}}),
        content_type="application/merge-patch+json",
        HTTP_X_LOGINRADIUS_APISECRET=admin.credential.raw,
    )
    body = problem(response, 400, "input.invalid")
    assert body["errors"][0] == {
        "field": "dry_run",
        "message": "This resource has no such query parameter.",
        "code": "unknown",
    }
    assert state() == before


# --- the schema of every operation this area serves -----------------------------------------

OPERATIONS = [
    ("get", "/api/v1/tenant"),
    ("patch", "/api/v1/tenant"),
    ("post", "/api/v1/accounts/{uid}/unlock"),
    ("post", "/api/v1/accounts/{uid}/secure"),
    ("get", "/api/v1/security/duo"),
    ("put", "/api/v1/security/duo"),
    ("get", "/api/v1/accounts/{uid}/permissions"),
    ("put", "/api/v1/accounts/{uid}/roles"),
    ("patch", "/api/v1/roles/{role}"),
]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_each_operation_has_a_tag_an_operation_id_and_examples(schema, method, path):
    operation = schema["paths"][path][method]
    assert operation["tags"] and operation["operationId"]
    assert "examples" in json.dumps(operation), f"{method} {path} shows no example"

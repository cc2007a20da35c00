"""`/api/v1/customobject-types`: a tenant's custom object types as a native resource, through
the ObjectTypeCreate / ObjectTypeUpdate / ObjectTypeDelete commands; versioned by ETag."""

import json

import pytest

from customobjects import services
from customobjects.commands import RecordCreate
from customobjects.models import CustomObjectRecord, CustomObjectType
from portal.audit import Actor
from portal.models import AuditEvent
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory

pytestmark = pytest.mark.django_db

TYPES = "/api/v1/customobject-types"
PROBLEM = "application/problem+json"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    return response.json()


def patch(lr, path, body, **headers):
    return lr.client.patch(
        f"{path}?apikey={lr.credential.tenant.api_key}",
        json.dumps(body),
        content_type="application/merge-patch+json",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
        **headers,
    )


def state():
    return (
        sorted(
            CustomObjectType.objects.values_list(
                "tenant_id", "name", "schema", "max_bytes", "max_depth", "modified"
            ),
            key=str,
        ),
        CustomObjectRecord.objects.count(),
        AuditEvent.objects.count(),
    )


def test_create_then_read_with_an_etag(lr, tenant):
    schema = {"type": "object", "properties": {"plan": {"type": "string"}}, "required": ["plan"]}
    created = lr.post(
        TYPES,
        {"name": "Subscriptions", "schema": schema, "max_bytes": 4096, "max_depth": 8},
        HTTP_X_REASON="new product",
        HTTP_X_TICKET="OPS-3",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {
        "name": "Subscriptions",
        "schema": schema,
        "max_bytes": 4096,
        "max_depth": 8,
        "max_records_per_account": 1000,
        "created_at": body["created_at"],
        "modified_at": body["modified_at"],
    }
    assert body["created_at"].endswith("Z")
    read = lr.get(f"{TYPES}/subscriptions")
    assert read.status_code == 200 and read.json() == body
    assert read["ETag"] == created["ETag"] and read["ETag"].startswith('"')
    event = AuditEvent.objects.get(action="customobject_type.created")
    assert (event.reason, event.ticket) == ("new product", "OPS-3")
    assert event.diff["name"] == [None, "Subscriptions"]
    assert CustomObjectType.objects.get(tenant=tenant).schema == schema


def test_lists_in_id_order_with_a_cursor_and_an_exact_count(lr, make_type, lr_other):
    for name in ("b", "a", "c"):
        make_type(name)
    first = lr.get(TYPES, {"page_size": "2"}).json()
    assert first["count"] == 3 and [t["name"] for t in first["results"]] == ["b", "a"]
    rest = lr.client.get(first["next"], HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw).json()
    assert rest["count"] == 3 and [t["name"] for t in rest["results"]] == ["c"]
    assert rest["next"] is None
    assert lr_other.get(TYPES).json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "name", "required"),
        ({"name": 5}, "name", "invalid"),
        ({"name": "has space"}, "name", "invalid"),
        ({"name": "x", "max_bytes": 10 * 1024 * 1024}, "max_bytes", "invalid"),
        ({"name": "x", "max_depth": 0}, "max_depth", "invalid"),
        ({"name": "x", "max_records_per_account": "many"}, "max_records_per_account", "invalid"),
        ({"name": "x", "Name": "y"}, "Name", "unknown"),
        ({"name": "x", "created_at": "2026-01-01T00:00:00Z"}, "created_at", "read_only"),
    ],
)
def test_invalid_bodies_are_400_and_change_nothing(lr, body, field, code):
    before = state()
    answer = problem(lr.post(TYPES, body), 400, "input.invalid")
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [(field, code)]
    assert state() == before


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"type": "objekt"}, "schema/type"),
        ({"properties": {"a": {"minLength": -1}}}, "schema/properties/a/minLength"),
        ([1, 2], "schema"),
    ],
)
def test_an_invalid_schema_is_refused(lr, schema, field):
    answer = problem(
        lr.post(TYPES, {"name": "bad", "schema": schema}), 400, "customobject.schema_invalid"
    )
    assert answer["errors"][0]["field"] == field
    assert not CustomObjectType.objects.exists() and not AuditEvent.objects.exists()


def test_names_are_unique_per_tenant_in_any_case(lr, lr_other, make_type):
    make_type("orders")
    answer = problem(lr.post(TYPES, {"name": "ORDERS"}), 400, "input.invalid")
    assert answer["errors"][0]["field"] == "name"
    assert lr_other.post(TYPES, {"name": "orders"}).status_code == 201


def test_merge_patch_changes_resets_and_clears(lr, make_type):
    make_type("orders", schema={"type": "object"}, max_depth=4)
    etag = lr.get(f"{TYPES}/orders")["ETag"]
    changed = patch(
        lr,
        f"{TYPES}/ORDERS",
        {"max_depth": None, "schema": None, "max_bytes": 2048},
        HTTP_IF_MATCH=etag,
        HTTP_X_REASON="loosen",
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["max_depth"], body["schema"], body["max_bytes"]) == (32, None, 2048)
    assert changed["ETag"] != etag
    event = AuditEvent.objects.get(action="customobject_type.updated")
    assert event.diff["max_depth"] == [4, 32] and event.reason == "loosen"
    renamed = patch(lr, f"{TYPES}/orders", {"name": "purchases"})
    assert renamed.json()["name"] == "purchases"
    problem(lr.get(f"{TYPES}/orders"), 404, "customobject.type_not_found")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"created_at": None}, "created_at", "read_only"),
        ({"maxdepth": 3}, "maxdepth", "unknown"),
        ({"name": None}, "name", "invalid"),
        ({"max_depth": 0}, "max_depth", "invalid"),
    ],
)
def test_refused_patches_change_nothing(lr, make_type, body, field, code):
    make_type("orders")
    before = state()
    answer = problem(patch(lr, f"{TYPES}/orders", body), 400, "input.invalid")
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [(field, code)]
    assert state() == before


def test_a_stale_if_match_is_412_and_changes_nothing(lr, make_type):
    make_type("orders")
    stale = lr.get(f"{TYPES}/orders")["ETag"]
    assert patch(lr, f"{TYPES}/orders", {"max_depth": 5}, HTTP_IF_MATCH=stale).status_code == 200
    before = state()
    problem(
        patch(lr, f"{TYPES}/orders", {"max_depth": 6}, HTTP_IF_MATCH=stale),
        412,
        "customobject_type.version_stale",
    )
    problem(
        lr.delete(f"{TYPES}/orders", HTTP_IF_MATCH=stale), 412, "customobject_type.version_stale"
    )
    problem(
        lr.delete(f"{TYPES}/orders", HTTP_IF_MATCH='"nonsense"'),
        412,
        "customobject_type.version_stale",
    )
    assert state() == before
    current = lr.get(f"{TYPES}/orders")["ETag"]
    assert lr.delete(f"{TYPES}/orders", HTTP_IF_MATCH=current).status_code == 204
    assert not CustomObjectType.objects.exists()


def test_deleting_a_type_with_records_needs_force(lr, object_type, account):
    services.record_create(
        RecordCreate(data={"a": 1}),
        tenant=account.tenant,
        actor=Actor.system("t"),
        object_type=object_type,
        account=account,
    )
    before = state()
    problem(lr.delete(f"{TYPES}/orders"), 409, "customobject.type_in_use")
    problem(lr.delete(f"{TYPES}/orders", params={"force": "yes"}), 400, "input.invalid")
    assert state() == before
    deleted = lr.delete(f"{TYPES}/orders", params={"force": "true"}, HTTP_X_REASON="retired")
    assert deleted.status_code == 204 and deleted.content == b""
    assert not CustomObjectType.objects.exists() and not CustomObjectRecord.objects.exists()
    event = AuditEvent.objects.get(action="customobject_type.deleted")
    assert event.diff["records_deleted"] == 1 and event.reason == "retired"


def test_another_tenants_type_is_404_and_untouched(lr, lr_other, make_type, other_tenant):
    make_type("secret", of_tenant=other_tenant)
    before = state()
    problem(lr.get(f"{TYPES}/secret"), 404, "customobject.type_not_found")
    problem(patch(lr, f"{TYPES}/secret", {"max_depth": 3}), 404, "customobject.type_not_found")
    problem(lr.delete(f"{TYPES}/secret"), 404, "customobject.type_not_found")
    assert state() == before
    assert lr_other.get(f"{TYPES}/secret").status_code == 200


def test_a_credential_scoped_away_from_custom_objects_is_refused(tenant, make_type):
    make_type("orders")
    scoped = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts"]))
    before = state()
    problem(scoped.get(TYPES), 403, "credential.scope_refused")
    problem(scoped.post(TYPES, {"name": "x"}), 403, "credential.scope_refused")
    problem(scoped.delete(f"{TYPES}/orders"), 403, "credential.scope_refused")
    assert state() == before


def test_unknown_query_parameters_are_400(lr, make_type):
    make_type("orders")
    before = state()
    answer = problem(lr.get(TYPES, {"limit": "5"}), 400, "input.invalid")
    assert answer["errors"][0] == {
        "field": "limit",
        "message": "This resource has no such query parameter.",
        "code": "unknown",
    }
    problem(lr.post(TYPES, {"name": "x"}, params={"dry": "1"}), 400, "input.invalid")
    assert state() == before


def test_an_idempotent_create_is_replayed_and_a_reused_key_is_422(lr):
    first = lr.post(TYPES, {"name": "orders"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    after_first = state()
    replay = lr.post(TYPES, {"name": "orders"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json() and replay["ETag"] == first["ETag"]
    problem(
        lr.post(TYPES, {"name": "invoices"}, HTTP_IDEMPOTENCY_KEY="k-1"),
        422,
        "idempotency.key_reused",
    )
    assert state() == after_first


def test_hostile_bodies_are_problems_not_500(lr, send_raw):
    answer = problem(send_raw(lr.client, "POST", TYPES, b'{"name": '), 400, "body_malformed")
    assert answer["status"] == 400
    deep = b'{"name": "x", "schema": ' + b"[" * 10000 + b"]" * 10000 + b"}"
    problem(send_raw(lr.client, "POST", TYPES, deep), 400, "customobject.too_large")
    problem(send_raw(lr.client, "POST", TYPES, b"[1, 2]"), 400, "input.invalid")
    unstorable = b'{"name": "x", "schema": {"title": "\\u0000"}}'
    problem(send_raw(lr.client, "POST", TYPES, unstorable), 400, "customobject.schema_invalid")
    assert not CustomObjectType.objects.exists()

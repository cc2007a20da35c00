"""`/api/v1/customobjects/{objectname}/records`: the records of a type as a native resource,
through the RecordCreate / RecordUpdate / RecordDelete commands; versioned by ETag
(If-Match refuses a stale write with 412), listed with a containment filter and an exact
count."""

import json

import pytest

from customobjects import selectors, services
from customobjects.commands import RecordCreate
from customobjects.models import CustomObjectRecord
from customobjects.selectors import jsonb_contains
from portal.audit import Actor
from portal.models import AuditEvent
from tests.conftest import LRClient
from tests.factories import AccountFactory, ApiCredentialFactory

RECORDS = "/api/v1/customobjects/orders/records"
PROBLEM = "application/problem+json"


def add(account, object_type, data, record_id=None):
    return services.record_create(
        RecordCreate(data=data, record_id=record_id),
        tenant=account.tenant,
        actor=Actor.system("t"),
        object_type=object_type,
        account=account,
    )


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
        sorted(CustomObjectRecord.objects.values_list("record_id", "data", "version"), key=str),
        AuditEvent.objects.count(),
    )


# --- one record ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_then_read_with_an_etag(lr, account, object_type):
    created = lr.post(
        RECORDS,
        {"uid": account.uid, "id": "order-1", "data": {"total": 42}},
        HTTP_X_REASON="migrated",
        HTTP_X_TICKET="OPS-7",
    )
    assert created.status_code == 201, created.content
    record = CustomObjectRecord.objects.get()
    body = created.json()
    assert body == {
        "id": "order-1",
        "uid": account.uid,
        "object_name": "orders",
        "data": {"total": 42},
        "version": selectors.record_version(record),
        "created_at": body["created_at"],
        "modified_at": body["modified_at"],
    }
    assert created["ETag"] == f'"{body["version"]}"'
    read = lr.get(f"{RECORDS}/order-1")
    assert read.json() == body and read["ETag"] == created["ETag"]
    event = AuditEvent.objects.get(action="customobject.created")
    assert (event.reason, event.ticket, event.subject_uid) == ("migrated", "OPS-7", account.uid)
    made_up = lr.post(RECORDS, {"uid": account.uid, "data": {}}).json()["id"]
    assert len(made_up) == 32


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"data": {"a": 1}}, "uid", "required"),
        ({"uid": "x", "id": 5, "data": {}}, "id", "invalid"),
        ({"uid": "x"}, "data", "required"),
        ({"uid": "x", "data": [1]}, "data", "invalid"),
        ({"uid": "x", "data": {}, "version": 1}, "version", "read_only"),
        ({"uid": "x", "data": {}, "Uid": "y"}, "Uid", "unknown"),
    ],
)
def test_invalid_create_bodies_are_400(lr, account, object_type, body, field, code):
    body = {key: account.uid if value == "x" else value for key, value in body.items()}
    before = state()
    answer = problem(lr.post(RECORDS, body), 400, "input.invalid")
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [(field, code)]
    assert state() == before


@pytest.mark.django_db
def test_create_keeps_the_types_rules(lr, account, make_type, other_tenant):
    make_type("orders", schema={"type": "object", "required": ["total"]}, max_records_per_account=1)
    answer = problem(
        lr.post(RECORDS, {"uid": account.uid, "data": {}}), 400, "customobject.data_invalid"
    )
    assert answer["errors"][0]["field"] == "/total"
    assert (
        lr.post(RECORDS, {"uid": account.uid, "id": "a", "data": {"total": 1}}).status_code == 201
    )
    problem(
        lr.post(RECORDS, {"uid": account.uid, "data": {"total": 2}}),
        409,
        "customobject.record_limit_reached",
    )
    stranger = AccountFactory(tenant=other_tenant)
    problem(lr.post(RECORDS, {"uid": stranger.uid, "data": {"total": 3}}), 404, "account.not_found")
    assert CustomObjectRecord.objects.count() == 1


@pytest.mark.django_db
def test_merge_patch_with_if_match(lr, account, object_type):
    record = add(account, object_type, {"a": 1, "b": {"c": 2, "d": 3}, "e": 4})
    etag = lr.get(f"{RECORDS}/{record.record_id}")["ETag"]
    changed = patch(
        lr,
        f"{RECORDS}/{record.record_id}",
        {"data": {"b": {"c": 9, "d": None}, "e": None, "f": [1]}},
        HTTP_IF_MATCH=etag,
        HTTP_X_REASON="fix",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["data"] == {"a": 1, "b": {"c": 9}, "f": [1]}
    assert changed["ETag"] != etag
    assert CustomObjectRecord.objects.get().data == {"a": 1, "b": {"c": 9}, "f": [1]}
    event = AuditEvent.objects.get(action="customobject.updated")
    assert event.reason == "fix" and event.diff["UpdateType"] == "mergepatch"
    # application/json is a merge patch too.
    plain = lr.client.patch(
        f"{RECORDS}/{record.record_id}?apikey={lr.credential.tenant.api_key}",
        json.dumps({"data": {"a": 2}}),
        content_type="application/json",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    assert plain.json()["data"] == {"a": 2, "b": {"c": 9}, "f": [1]}


@pytest.mark.django_db
def test_a_patch_that_changes_nothing_records_nothing(lr, account, object_type):
    record = add(account, object_type, {"a": 1, "b": {"c": 2}})
    etag = lr.get(f"{RECORDS}/{record.record_id}")["ETag"]
    same = patch(lr, f"{RECORDS}/{record.record_id}", {"data": {"a": 1, "b": {"c": 2}, "z": None}})
    assert same.status_code == 200, same.content
    assert same.json()["data"] == {"a": 1, "b": {"c": 2}} and same["ETag"] == etag
    assert not AuditEvent.objects.filter(action="customobject.updated").exists()
    changed = patch(lr, f"{RECORDS}/{record.record_id}", {"data": {"a": 3}}, HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert AuditEvent.objects.filter(action="customobject.updated").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"data": [1]}, "data", "invalid"),
        ({"data": None}, "data", "invalid"),
        ({"uid": "someone"}, "uid", "read_only"),
        ({"CustomObject": {}}, "CustomObject", "unknown"),
    ],
)
def test_refused_patches_change_nothing(lr, account, object_type, body, field, code):
    record = add(account, object_type, {"a": 1})
    before = state()
    answer = problem(patch(lr, f"{RECORDS}/{record.record_id}", body), 400, "input.invalid")
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [(field, code)]
    assert state() == before


@pytest.mark.django_db
def test_a_stale_if_match_is_412_and_changes_nothing(lr, account, object_type):
    record = add(account, object_type, {"a": 1})
    path = f"{RECORDS}/{record.record_id}"
    stale = lr.get(path)["ETag"]
    assert patch(lr, path, {"data": {"a": 2}}, HTTP_IF_MATCH=stale).status_code == 200
    before = state()
    problem(
        patch(lr, path, {"data": {"a": 3}}, HTTP_IF_MATCH=stale), 412, "customobject.version_stale"
    )
    problem(lr.delete(path, HTTP_IF_MATCH=stale), 412, "customobject.version_stale")
    problem(lr.delete(path, HTTP_IF_MATCH='"order-1.2"'), 412, "customobject.version_stale")
    assert state() == before
    assert CustomObjectRecord.objects.get().data == {"a": 2}
    deleted = lr.delete(path, HTTP_IF_MATCH=lr.get(path)["ETag"], HTTP_X_REASON="duplicate")
    assert deleted.status_code == 204 and deleted.content == b""
    assert not CustomObjectRecord.objects.exists()
    event = AuditEvent.objects.get(action="customobject.deleted")
    assert event.diff["CustomObject"] == {"a": [2, None]} and event.reason == "duplicate"


@pytest.mark.django_db
def test_without_if_match_writes_apply_to_the_current_version(lr, account, object_type):
    record = add(account, object_type, {"a": 1})
    path = f"{RECORDS}/{record.record_id}"
    assert patch(lr, path, {"data": {"b": 2}}).json()["data"] == {"a": 1, "b": 2}
    assert patch(lr, path, {"data": {"c": 3}}, HTTP_IF_MATCH="*").status_code == 200
    assert lr.delete(path).status_code == 204


@pytest.mark.django_db
def test_another_tenants_records_are_404_and_untouched(
    lr, lr_other, account, object_type, other_tenant, make_type
):
    record = add(account, object_type, {"a": 1})
    path = f"{RECORDS}/{record.record_id}"
    problem(lr.get(f"{RECORDS}/{'0' * 32}"), 404, "customobject.record_not_found")
    problem(
        lr.get(f"/api/v1/customobjects/nope/records/{record.record_id}"),
        404,
        "customobject.type_not_found",
    )
    problem(lr_other.get(path), 404, "customobject.type_not_found")
    make_type("orders", of_tenant=other_tenant)
    before = state()
    problem(lr_other.get(path), 404, "customobject.record_not_found")
    problem(patch(lr_other, path, {"data": {"x": 1}}), 404, "customobject.record_not_found")
    problem(lr_other.delete(path), 404, "customobject.record_not_found")
    assert lr_other.get(RECORDS).json()["count"] == 0
    assert state() == before


@pytest.mark.django_db
def test_a_credential_scoped_away_from_custom_objects_is_refused(tenant, account, object_type):
    record = add(account, object_type, {"a": 1})
    scoped = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts", "tokens"]))
    before = state()
    problem(scoped.get(RECORDS), 403, "credential.scope_refused")
    problem(scoped.post(RECORDS, {"uid": account.uid, "data": {}}), 403, "credential.scope_refused")
    problem(scoped.delete(f"{RECORDS}/{record.record_id}"), 403, "credential.scope_refused")
    assert state() == before


@pytest.mark.django_db
def test_an_idempotent_create_is_replayed_and_a_reused_key_is_422(lr, account, object_type):
    body = {"uid": account.uid, "data": {"a": 1}}
    first = lr.post(RECORDS, body, HTTP_IDEMPOTENCY_KEY="rec-1")
    assert first.status_code == 201
    after_first = state()
    replay = lr.post(RECORDS, body, HTTP_IDEMPOTENCY_KEY="rec-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json() and replay["ETag"] == first["ETag"]
    other = lr.post(RECORDS, {**body, "data": {"a": 2}}, HTTP_IDEMPOTENCY_KEY="rec-1")
    problem(other, 422, "idempotency.key_reused")
    assert state() == after_first and CustomObjectRecord.objects.count() == 1


@pytest.mark.django_db
def test_hostile_record_bodies_are_problems_not_500(lr, account, object_type, send_raw):
    before = state()
    problem(send_raw(lr.client, "POST", RECORDS, b'{"uid": '), 400, "body_malformed")
    deep = b'{"uid": "x", "data": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    problem(send_raw(lr.client, "POST", RECORDS, deep), 400, "customobject.too_large")
    nul = b'{"uid": "' + account.uid.encode() + b'", "data": {"a": "\\u0000"}}'
    assert send_raw(lr.client, "POST", RECORDS, nul).status_code == 400
    assert state() == before


# --- lists ---------------------------------------------------------------------------------


def seed(tenant, object_type, n_accounts=3):
    accounts = [AccountFactory(tenant=tenant) for _ in range(n_accounts)]
    plans = ["gold", "free", "gold", "silver"]
    records = []
    for i in range(12):
        account = accounts[i % n_accounts]
        data = {
            "plan": plans[i % 4],
            "n": i,
            "tags": ["even" if i % 2 == 0 else "odd", f"t{i % 3}"],
            "meta": {"region": "eu" if i < 6 else "us", "flags": {"beta": i % 5 == 0}},
        }
        records.append(add(account, object_type, data))
    return accounts, records


def query(lr, params):
    res = lr.get(RECORDS, params=params)
    assert res.status_code == 200, res.json()
    return res.json()


def all_pages(lr, params, page_size):
    page = query(lr, {**params, "page_size": page_size})
    ids, counts = [r["id"] for r in page["results"]], {page["count"]}
    while page["next"]:
        page = lr.client.get(page["next"], HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw).json()
        ids += [r["id"] for r in page["results"]]
        counts.add(page["count"])
    return ids, counts


FILTERS = [
    ({"plan": "gold"}, lambda d: d["plan"] == "gold"),
    (
        {"plan": "gold", "meta": {"region": "us"}},
        lambda d: d["plan"] == "gold" and d["meta"]["region"] == "us",
    ),
    ({"tags": ["even", "t0"]}, lambda d: "even" in d["tags"] and "t0" in d["tags"]),
    ({"meta": {"flags": {"beta": True}}}, lambda d: d["meta"]["flags"]["beta"] is True),
    ({"n": 3}, lambda d: d["n"] == 3),
    ({"n": 3.0}, lambda d: d["n"] == 3),
    ({"plan": "platinum"}, lambda d: False),
    ({"missing": None}, lambda d: False),
    ({}, lambda d: True),
]


def check_query_correctness(lr, tenant, object_type):
    accounts, records = seed(tenant, object_type)
    for flt, predicate in FILTERS:
        expected = [r.record_id for r in records if predicate(r.data)]
        page = query(lr, {"filter": json.dumps(flt)})
        assert page["count"] == len(expected), flt
        assert [r["id"] for r in page["results"]] == expected, flt
        ids, counts = all_pages(lr, {"filter": json.dumps(flt)}, page_size=2)
        assert ids == expected and counts <= {len(expected)}, flt
    uid = accounts[1].uid
    expected = [r.record_id for r in records if r.account.uid == uid]
    page = query(lr, {"uid": uid})
    assert page["count"] == len(expected) and [r["id"] for r in page["results"]] == expected
    expected = [r.record_id for r in records if r.account.uid == uid and r.data["plan"] == "gold"]
    page = query(lr, {"uid": uid, "filter": '{"plan":"gold"}'})
    assert page["count"] == len(expected) and [r["id"] for r in page["results"]] == expected
    assert query(lr, {"uid": "nobody"}) == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    ids, counts = all_pages(lr, {}, page_size=5)
    assert ids == [r.record_id for r in records] and counts == {12}


@pytest.mark.django_db
def test_query_correctness_and_counts(lr, tenant, object_type):
    check_query_correctness(lr, tenant, object_type)


@pytest.mark.postgres
@pytest.mark.django_db
def test_query_correctness_and_counts_on_postgres_use_jsonb(
    lr, tenant, object_type, django_assert_max_num_queries
):
    from django.db import connection

    assert connection.vendor == "postgresql"
    check_query_correctness(lr, tenant, object_type)
    # One count and one page query, whatever the page size.
    with django_assert_max_num_queries(5):
        query(lr, {"filter": '{"plan":"gold"}', "page_size": 3})
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM customobjects_customobjectrecord WHERE data @> %s::jsonb",
            ['{"plan": "gold"}'],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "customobject_rec_data_gin" in plan


@pytest.mark.django_db
def test_query_tenant_isolation(lr, lr_other, tenant, other_tenant, object_type, make_type):
    seed(tenant, object_type)
    make_type("orders", of_tenant=other_tenant)
    assert lr_other.get(RECORDS).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"filter": "[1]"}, "filter", "invalid"),
        ({"filter": "{nope"}, "filter", "invalid"),
        ({"filter": "x" * 9000}, "filter", "invalid"),
        ({"filter": '{"a": "\\u0000"}'}, "filter", "invalid"),
        ({"filter": '{"a": NaN}'}, "filter", "invalid"),
        ({"filter": "[" * 8000}, "filter", "invalid"),
        ({"after": "!!!"}, "after", "invalid"),
        ({"page_size": "0"}, "page_size", "invalid"),
        ({"page_size": "201"}, "page_size", "invalid"),
        ({"limit": "10"}, "limit", "unknown"),
        ({"cursor": "MQ"}, "cursor", "unknown"),
    ],
)
def test_query_bad_parameters_are_400(lr, object_type, params, field, code):
    answer = problem(lr.get(RECORDS, params=params), 400, "input.invalid")
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [(field, code)]


@pytest.mark.django_db
def test_query_of_an_unknown_type_is_404(lr, make_type):
    problem(lr.get(RECORDS), 404, "customobject.type_not_found")
    make_type("other")
    problem(lr.get(RECORDS), 404, "customobject.type_not_found")


def test_containment_matches_postgres_semantics():
    doc = {"a": 1, "b": [1, 2, {"c": 3}], "d": {"e": True, "f": None}, "s": "x"}
    assert jsonb_contains(doc, {})
    assert jsonb_contains(doc, {"a": 1.0})
    assert not jsonb_contains(doc, {"a": True})
    assert jsonb_contains(doc, {"b": [2]})
    assert jsonb_contains(doc, {"b": [{"c": 3}, 1]})
    assert not jsonb_contains(doc, {"b": 2})  # a nested array does not contain a bare scalar
    assert jsonb_contains(doc, {"d": {"f": None}})
    assert not jsonb_contains(doc, {"d": {"e": 1}})
    assert not jsonb_contains(doc, {"s": ["x"]})
    assert jsonb_contains([1, 2], 1)  # only at top level
    assert not jsonb_contains({"a": 1}, {"a": 1, "z": 1})

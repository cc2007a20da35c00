"""Native record API: ETag / If-Match concurrency and the containment query."""

import json

import pytest

from customobjects import services
from customobjects.commands import RecordCreate
from customobjects.models import CustomObjectRecord
from customobjects.selectors import jsonb_contains
from portal.audit import Actor
from portal.models import AuditEvent
from tests.factories import AccountFactory

RECORDS = "/api/v1/customobjects/orders/records"


def add(account, object_type, data, record_id=None):
    return services.record_create(
        RecordCreate(data=data, record_id=record_id),
        tenant=account.tenant,
        actor=Actor.system("t"),
        object_type=object_type,
        account=account,
    )


@pytest.mark.django_db
def test_get_gives_an_etag_and_native_fields(lr, account, object_type):
    record = add(account, object_type, {"a": 1})
    res = lr.get(f"{RECORDS}/{record.record_id}")
    assert res.status_code == 200
    assert res["ETag"] == f'"{record.record_id}.1"'
    body = res.json()
    assert body["Version"] == 1 and body["ObjectName"] == "orders"
    assert body["Uid"] == account.uid and body["CustomObject"] == {"a": 1}


@pytest.mark.django_db
def test_put_replaces_and_patch_merges_with_if_match(lr, account, object_type):
    record = add(account, object_type, {"a": 1, "b": 2})
    etag = lr.get(f"{RECORDS}/{record.record_id}")["ETag"]
    res = lr.request("PATCH", f"{RECORDS}/{record.record_id}", body={"c": 3}, HTTP_IF_MATCH=etag)
    assert res.status_code == 200, res.json()
    assert res.json()["CustomObject"] == {"a": 1, "b": 2, "c": 3}
    new_etag = res["ETag"]
    assert new_etag != etag
    res = lr.put(f"{RECORDS}/{record.record_id}", {"z": 0}, HTTP_IF_MATCH=new_etag)
    assert res.json()["CustomObject"] == {"z": 0}
    assert res.json()["Version"] == 3


@pytest.mark.django_db
def test_stale_etag_is_412_and_changes_nothing(lr, account, object_type):
    record = add(account, object_type, {"a": 1})
    stale = lr.get(f"{RECORDS}/{record.record_id}")["ETag"]
    # Another agent changes the record in between.
    assert (
        lr.request(
            "PATCH", f"{RECORDS}/{record.record_id}", body={"a": 2}, HTTP_IF_MATCH=stale
        ).status_code
        == 200
    )
    res = lr.put(f"{RECORDS}/{record.record_id}", {"a": 3}, HTTP_IF_MATCH=stale)
    assert res.status_code == 412
    body = res.json()
    assert body["ErrorCode"] == 9412
    assert body["Message"] == "Precondition failed"
    assert res["ETag"] == f'"{record.record_id}.2"'
    assert CustomObjectRecord.objects.get().data == {"a": 2}
    assert AuditEvent.objects.filter(action="customobject.updated").count() == 1
    res = lr.delete(f"{RECORDS}/{record.record_id}", HTTP_IF_MATCH=stale)
    assert res.status_code == 412
    assert CustomObjectRecord.objects.exists()


@pytest.mark.django_db
def test_if_match_star_weak_and_lists(lr, account, object_type):
    record = add(account, object_type, {"a": 1})
    assert lr.put(f"{RECORDS}/{record.record_id}", {"a": 2}, HTTP_IF_MATCH="*").status_code == 200
    current = f'"{record.record_id}.2"'
    assert (
        lr.put(
            f"{RECORDS}/{record.record_id}", {"a": 3}, HTTP_IF_MATCH=f'"x.1", W/{current}'
        ).status_code
        == 200
    )
    assert lr.delete(
        f"{RECORDS}/{record.record_id}", HTTP_IF_MATCH=f'"{record.record_id}.3"'
    ).json() == {"IsDeleted": True}
    assert not CustomObjectRecord.objects.exists()


@pytest.mark.django_db
def test_loginradius_put_honours_if_match_too(lr, account, object_type):
    record = add(account, object_type, {"a": 1})
    path = f"/identity/v2/manage/account/{account.uid}/customobject/{record.record_id}"
    res = lr.put(path, {"a": 2}, params={"objectname": "orders"}, HTTP_IF_MATCH='"stale.0"')
    assert res.json()["ErrorCode"] == 9412
    assert CustomObjectRecord.objects.get().data == {"a": 1}


@pytest.mark.django_db
def test_native_record_errors(lr, lr_other, account, object_type, other_tenant, make_type):
    record = add(account, object_type, {"a": 1})
    assert lr.get(f"{RECORDS}/{'0' * 32}").json()["ErrorCode"] == 1057
    assert lr.get(f"{RECORDS}/bad!id").json()["ErrorCode"] == 995
    assert (
        lr.get(f"/api/v1/customobjects/nope/records/{record.record_id}").json()["ErrorCode"] == 1064
    )
    make_type("orders", of_tenant=other_tenant)
    assert lr_other.get(f"{RECORDS}/{record.record_id}").json()["ErrorCode"] == 1057
    assert lr_other.put(f"{RECORDS}/{record.record_id}", {"x": 1}).json()["ErrorCode"] == 1057
    assert lr_other.get(RECORDS).json()["count"] == 0
    assert CustomObjectRecord.objects.get().data == {"a": 1}


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


def all_pages(lr, params, limit):
    ids, cursor, counts = [], None, set()
    while True:
        page = query(lr, {**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        ids += [r["Id"] for r in page["results"]]
        counts.add(page["count"])
        cursor = page["next_cursor"]
        if not cursor:
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
        assert [r["Id"] for r in page["results"]] == expected, flt
        ids, counts = all_pages(lr, {"filter": json.dumps(flt)}, limit=2)
        assert ids == expected and counts <= {len(expected)}, flt
    # Account filter, alone and with a filter.
    uid = accounts[1].uid
    expected = [r.record_id for r in records if r.account.uid == uid]
    page = query(lr, {"uid": uid})
    assert page["count"] == len(expected) and [r["Id"] for r in page["results"]] == expected
    expected = [r.record_id for r in records if r.account.uid == uid and r.data["plan"] == "gold"]
    page = query(lr, {"uid": uid, "filter": '{"plan":"gold"}'})
    assert page["count"] == len(expected) and [r["Id"] for r in page["results"]] == expected
    assert query(lr, {"uid": "nobody"}) == {"results": [], "count": 0, "next_cursor": None}
    # Every record once across pages, exact count on each page.
    ids, counts = all_pages(lr, {}, limit=5)
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
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'customobject_rec_data_gin'"
        )
        (indexdef,) = cursor.fetchone()
    assert "gin" in indexdef and "jsonb_path_ops" in indexdef
    # One count and one page query, whatever the page size.
    with django_assert_max_num_queries(4):
        query(lr, {"filter": '{"plan":"gold"}', "limit": 3})
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
    assert lr_other.get(RECORDS).json() == {"results": [], "count": 0, "next_cursor": None}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, code",
    [
        ({"filter": "[1]"}, 908),
        ({"filter": "{nope"}, 908),
        ({"filter": "x" * 9000}, 908),
        ({"cursor": "!!!"}, 908),
        ({"limit": "0"}, 908),
        ({"limit": "ten"}, 908),
    ],
)
def test_query_bad_parameters(lr, object_type, params, code):
    assert lr.get(RECORDS, params=params).json()["ErrorCode"] == code


@pytest.mark.django_db
def test_query_of_unknown_type(lr, make_type):
    assert lr.get(RECORDS).json()["ErrorCode"] == 999
    make_type("other")
    assert lr.get(RECORDS).json()["ErrorCode"] == 1064


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

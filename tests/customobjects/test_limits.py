"""Hostile bodies are refused without reading or parsing them whole, and never reach a 500."""

import json
import tracemalloc

import django.test.client
import pytest
from django.test.client import FakePayload

from customobjects.models import HARD_MAX_DEPTH, CustomObjectRecord, CustomObjectType
from customobjects.validation import text_nesting_depth, value_depth
from tests.customobjects.conftest import manage_path


@pytest.fixture
def body_bytes_read(monkeypatch):
    """`body_bytes_read()`: how many bytes of request bodies the views have read so far
    (the test client hands each body over as a FakePayload, counted here)."""
    read = [0]

    class CountedPayload(FakePayload):
        def read(self, size=-1, /):
            data = super().read(size)
            read[0] += len(data)
            return data

        def readline(self, size=-1, /):
            data = super().readline(size)
            read[0] += len(data)
            return data

    monkeypatch.setattr(django.test.client, "FakePayload", CountedPayload)
    return lambda: read[0]


@pytest.fixture
def nesting_counts(monkeypatch):
    """The depths `text_nesting_depth` answered, in call order."""
    import customobjects.validation as validation

    counted: list[int] = []

    def counting(text, **kwargs):
        counted.append(text_nesting_depth(text, **kwargs))
        return counted[-1]

    monkeypatch.setattr(validation, "text_nesting_depth", counting)
    return counted


def peak_traced_bytes(fn) -> tuple[object, int]:
    """(fn(), the peak of memory allocated while it ran)."""
    tracemalloc.start()
    try:
        return fn(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.django_db
def test_five_megabyte_body_is_refused_before_reading(
    lr, account, object_type, send_raw, monkeypatch, body_bytes_read
):
    import customobjects.validation as validation

    monkeypatch.setattr(
        validation, "json_loads", lambda *a, **k: pytest.fail("the body was parsed")
    )
    body = b'{"a": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    res = send_raw(
        lr.client, "POST", manage_path(account.uid), body, params={"objectname": "orders"}
    )
    assert res.status_code == 400
    assert res.json()["ErrorCode"] == 1002
    assert body_bytes_read() == 0
    assert not CustomObjectRecord.objects.exists()


@pytest.mark.django_db
def test_body_over_the_type_limit_is_refused_by_content_length(
    lr, account, make_type, send_raw, monkeypatch
):
    make_type("orders", max_bytes=1000)
    import customobjects.validation as validation

    def never(*args, **kwargs):
        raise AssertionError("the body must not be parsed")

    monkeypatch.setattr(validation, "json_loads", never)
    body = json.dumps({"a": "x" * 2000}).encode()
    res = send_raw(
        lr.client, "POST", manage_path(account.uid), body, params={"objectname": "orders"}
    )
    assert res.json()["ErrorCode"] == 1002


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_ten_thousand_deep_nesting_is_refused_without_recursion(
    lr, account, object_type, send_raw, method, monkeypatch, nesting_counts
):
    import customobjects.validation as validation

    def never(*args, **kwargs):
        raise AssertionError("the body must not be parsed")

    existing = CustomObjectRecord.objects.create(
        tenant=account.tenant, object_type=object_type, account=account, data={"a": 1}
    )
    monkeypatch.setattr(validation, "json_loads", never)
    body = b'{"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    path = (
        manage_path(account.uid)
        if method == "POST"
        else manage_path(account.uid, existing.record_id)
    )
    res = send_raw(lr.client, method, path, body, params={"objectname": "orders"})
    assert res.status_code == 400
    assert res.json()["ErrorCode"] == 1002
    assert nesting_counts == [HARD_MAX_DEPTH + 1]  # the count stopped one level past the limit
    assert list(CustomObjectRecord.objects.values_list("data", flat=True)) == [{"a": 1}]


@pytest.mark.django_db
def test_deep_objects_and_strings_with_brackets(lr, account, object_type, send_raw):
    deep_objects = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    res = send_raw(
        lr.client, "POST", manage_path(account.uid), deep_objects, params={"objectname": "orders"}
    )
    assert res.json()["ErrorCode"] == 1002
    # Brackets inside strings do not count as nesting.
    fine = json.dumps({"a": "[[[[" * 100 + '\\"{{{'}).encode()
    assert (
        send_raw(
            lr.client, "POST", manage_path(account.uid), fine, params={"objectname": "orders"}
        ).status_code
        == 200
    )


@pytest.mark.django_db
def test_hundred_thousand_item_array_is_refused_before_reading(
    lr, account, object_type, send_raw, body_bytes_read
):
    body = json.dumps({"items": list(range(100_000))}).encode()
    res = send_raw(
        lr.client, "POST", manage_path(account.uid), body, params={"objectname": "orders"}
    )
    assert res.status_code == 400
    assert res.json()["ErrorCode"] == 1002
    assert body_bytes_read() == 0  # refused on its Content-Length, over the type's limit
    res, peak = peak_traced_bytes(
        lambda: send_raw(
            lr.client, "POST", manage_path(account.uid), body, params={"objectname": "orders"}
        )
    )
    # Never more than a few copies of the (600 KB) body in memory.
    assert peak < 8 * len(body)
    assert not CustomObjectRecord.objects.exists()


@pytest.mark.django_db
def test_hundred_thousand_item_array_within_a_large_type_limit_is_checked_by_size(
    lr, account, make_type, send_raw, body_bytes_read
):
    make_type("orders", max_bytes=300_000)
    body = json.dumps({"items": [0] * 100_000}).encode()  # 300 KB: under the hard cap
    res = send_raw(
        lr.client, "POST", manage_path(account.uid), body, params={"objectname": "orders"}
    )
    assert res.json()["ErrorCode"] == 1002
    assert body_bytes_read() == 0


@pytest.mark.django_db
def test_deep_filter_and_hostile_type_bodies_never_500(lr, object_type, send_raw):
    deep = "[" * 10_000 + "]" * 10_000
    res = lr.get("/api/v1/customobjects/orders/records", params={"filter": deep[:8000]})
    assert res.status_code == 400 and res.json()["errors"][0]["field"] == "filter"
    res = send_raw(
        lr.client,
        "PATCH",
        "/api/v1/customobject-types/orders",
        b'{"schema": ' + deep.encode() + b"}",
    )
    assert res.status_code == 400 and res.json()["code"] == "customobject.too_large"
    assert CustomObjectType.objects.get().schema is None


def test_nesting_counters():
    assert text_nesting_depth('{"a": [1, {"b": "]]]"}]}') == 3
    assert text_nesting_depth("[" * 500, stop_above=100) == 101
    assert value_depth({"a": [1, {"b": {}}]}) == 4
    assert value_depth({}) == 1
    deep: list = []
    cur = deep
    for _ in range(50_000):
        nxt: list = []
        cur.append(nxt)
        cur = nxt
    assert value_depth(deep) == 50_001


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "nul\\u0000"}',
        b'{"k\\u0000": 1}',
        b'{"a": "\\ud800"}',
        b'{"a": NaN}',
        b'{"a": [Infinity]}',
        b'{"a": 1e400}',
        b'{"a": ' + b"9" * 5000 + b"}",
    ],
)
def test_json_that_cannot_be_stored_is_1035_not_a_500(lr, account, object_type, send_raw, raw):
    res = send_raw(
        lr.client, "POST", manage_path(account.uid), raw, params={"objectname": "orders"}
    )
    assert res.status_code == 400
    assert res.json()["ErrorCode"] == 1035
    assert not CustomObjectRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("flt", ['{"a": "\\u0000"}', '{"a": NaN}', '{"a": "\\udfff"}'])
def test_unusable_filters_are_908(lr, object_type, flt):
    res = lr.get("/api/v1/customobjects/orders/records", params={"filter": flt})
    assert res.status_code == 400 and res.json()["errors"][0]["field"] == "filter"


@pytest.mark.django_db
def test_unstorable_schema_is_1134(lr, send_raw):
    res = send_raw(
        lr.client,
        "POST",
        "/api/v1/customobject-types",
        b'{"name": "x", "schema": {"title": "\\u0000"}}',
    )
    assert res.json()["code"] == "customobject.schema_invalid"
    assert not CustomObjectType.objects.exists()

"""Schema patterns (`pattern`, `patternProperties`, and `additionalProperties` next to them)
run on a linear-time engine (RE2): a catastrophic-backtracking pattern answers at once, and
patterns RE2 cannot run (backreferences, lookarounds) are refused when the type is saved."""

import pytest

from customobjects.models import CustomObjectRecord, CustomObjectType
from portal.models import AuditEvent
from tests.customobjects.conftest import manage_path

TYPES = "/api/v1/customobject-types"
CATASTROPHIC = "^(a+)+$"

pytestmark = pytest.mark.django_db


def create_type(lr, name, schema):
    return lr.post(TYPES, {"name": name, "schema": schema})


def add_record(lr, account, name, data):
    return lr.post(manage_path(account.uid), data, params={"objectname": name})


@pytest.mark.timeout(20)
def test_catastrophic_pattern_is_evaluated_in_linear_time(lr, account):
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": CATASTROPHIC}}}
    assert create_type(lr, "codes", schema).status_code == 201
    refused = add_record(lr, account, "codes", {"code": "a" * 5000 + "!"})
    assert refused.status_code == 400 and refused.json()["ErrorCode"] == 1134
    assert refused.json()["Errors"][0]["FieldName"] == "/code"
    accepted = add_record(lr, account, "codes", {"code": "a" * 5000})
    assert accepted.status_code in (200, 201), accepted.json()
    assert CustomObjectRecord.objects.count() == 1


@pytest.mark.timeout(20)
def test_catastrophic_pattern_properties_and_additional_properties(lr, account):
    schema = {
        "type": "object",
        "patternProperties": {CATASTROPHIC: {"type": "integer"}},
        "additionalProperties": False,
    }
    assert create_type(lr, "keys", schema).status_code == 201
    long_key = "a" * 3000
    assert add_record(lr, account, "keys", {long_key: 1}).status_code in (200, 201)
    wrong_type = add_record(lr, account, "keys", {long_key: "one"})
    assert wrong_type.json()["ErrorCode"] == 1134
    extra = add_record(lr, account, "keys", {long_key + "!": 1})
    assert extra.json()["ErrorCode"] == 1134
    assert [e["FieldName"] for e in extra.json()["Errors"]] == [f"/{long_key}!"]
    assert CustomObjectRecord.objects.count() == 1


@pytest.mark.timeout(20)
def test_property_names_pattern_uses_the_same_engine(lr, account):
    schema = {"type": "object", "propertyNames": {"pattern": CATASTROPHIC}}
    assert create_type(lr, "names", schema).status_code == 201
    assert add_record(lr, account, "names", {"a" * 3000: 1}).status_code in (200, 201)
    assert add_record(lr, account, "names", {"a" * 3000 + "b": 1}).json()["ErrorCode"] == 1134


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"properties": {"a": {"pattern": r"^(a)\1$"}}}, "schema/properties/a/pattern"),
        ({"properties": {"a": {"pattern": "^(?=a)"}}}, "schema/properties/a/pattern"),
        ({"properties": {"a": {"pattern": "(?<!x)y"}}}, "schema/properties/a/pattern"),
        ({"patternProperties": {r"^(\w)\1$": {}}}, r"schema/patternProperties/^(\w)\1$"),
        ({"items": {"propertyNames": {"pattern": "(?!a)b"}}}, "schema/items/propertyNames/pattern"),
    ],
)
def test_patterns_the_safe_engine_cannot_run_are_refused(lr, schema, field):
    response = create_type(lr, "bad", schema)
    assert response.status_code == 400 and response.json()["code"] == "customobject.schema_invalid"
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert "regular expression" in error["message"]
    assert not CustomObjectType.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="customobject").exists()


def test_update_with_a_backreference_is_refused_and_changes_nothing(lr, make_type):
    make_type("orders", schema={"type": "object"})
    response = lr.request(
        "PATCH", f"{TYPES}/orders", body={"schema": {"properties": {"a": {"pattern": r"(x)\1"}}}}
    )
    assert response.json()["code"] == "customobject.schema_invalid"
    assert response.json()["errors"][0]["field"] == "schema/properties/a/pattern"
    assert CustomObjectType.objects.get(name="orders").schema == {"type": "object"}
    assert not AuditEvent.objects.filter(action="customobject_type.updated").exists()


def test_stored_schema_with_an_unsafe_pattern_is_not_run(account, lr, make_type):
    """A schema saved before the rule is refused at evaluation with a LoginRadius error."""
    object_type = make_type("legacy")
    CustomObjectType.objects.filter(pk=object_type.pk).update(
        schema={"properties": {"a": {"pattern": r"(a)\1"}}}
    )
    response = add_record(lr, account, "legacy", {"a": "aa"})
    assert response.status_code == 400 and response.json()["ErrorCode"] == 1134
    assert not CustomObjectRecord.objects.exists()


def test_unevaluated_properties_next_to_pattern_properties_is_refused(lr):
    schema = {"patternProperties": {"^x": {}}, "unevaluatedProperties": False}
    response = create_type(lr, "mixed", schema)
    assert response.json()["code"] == "customobject.schema_invalid"
    assert "unevaluatedProperties" in response.json()["errors"][0]["message"]
    assert not CustomObjectType.objects.exists()


def test_ordinary_patterns_still_work(lr, account):
    schema = {
        "type": "object",
        "properties": {"zip": {"type": "string", "pattern": r"^\d{5}(-\d{4})?$"}},
        "patternProperties": {"^x-": {"type": "string"}},
        "additionalProperties": {"type": "integer"},
    }
    assert create_type(lr, "addr", schema).status_code == 201
    assert add_record(
        lr, account, "addr", {"zip": "12345-6789", "x-note": "hi", "n": 1}
    ).status_code in (200, 201)
    bad = add_record(lr, account, "addr", {"zip": "1234", "x-note": 5, "n": "one"})
    assert sorted(e["FieldName"] for e in bad.json()["Errors"]) == ["/n", "/x-note", "/zip"]

"""The five LoginRadius management operations on /identity/v2/manage/account/{uid}/customobject."""

import re

import pytest

from customobjects import services
from customobjects.commands import RecordCreate, RecordDelete, RecordUpdate
from customobjects.models import CustomObjectRecord
from portal.audit import Actor
from portal.models import AuditEvent
from tests.customobjects.conftest import manage_path
from tests.factories import AccountFactory

RECORD_KEYS = {"Id", "IsActive", "DateCreated", "DateModified", "IsDeleted", "Uid", "CustomObject"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def create(lr, account, body, name="orders", **params):
    return lr.post(manage_path(account.uid), body, params={"objectname": name, **params})


@pytest.mark.django_db
def test_create_returns_the_record(lr, account, object_type):
    res = create(lr, account, {"field1": "v", "nested": {"a": [1, 2]}})
    assert res.status_code == 200, res.json()
    body = res.json()
    assert set(body) == RECORD_KEYS
    assert re.fullmatch(r"[0-9a-f]{32}", body["Id"])
    assert body["Uid"] == account.uid
    assert body["IsActive"] is True and body["IsDeleted"] is False
    assert ISO.match(body["DateCreated"]) and ISO.match(body["DateModified"])
    assert body["CustomObject"] == {"field1": "v", "nested": {"a": [1, 2]}}
    record = CustomObjectRecord.objects.get(record_id=body["Id"])
    assert (record.account, record.object_type, record.version) == (account, object_type, 1)
    event = AuditEvent.objects.get(action="customobject.created")
    assert event.subject_uid == account.uid
    assert event.diff["Id"] == body["Id"]
    assert event.diff["CustomObject"]["field1"] == [None, "v"]


@pytest.mark.django_db
def test_object_name_parameter_in_any_case_and_customobjectid(lr, account, object_type):
    res = lr.post(
        manage_path(account.uid),
        {"a": 1},
        params={"objectName": "ORDERS", "customObjectId": "order-42"},
    )
    assert res.json()["Id"] == "order-42"
    # The same id twice is refused and changes nothing.
    again = lr.post(
        manage_path(account.uid),
        {"a": 2},
        params={"objectname": "orders", "customobjectid": "order-42"},
    )
    assert again.json()["ErrorCode"] == 995
    assert CustomObjectRecord.objects.get().data == {"a": 1}
    bad = lr.post(
        manage_path(account.uid),
        {"a": 2},
        params={"objectname": "orders", "customobjectid": "no/pe!"},
    )
    assert bad.json()["ErrorCode"] == 995
    assert CustomObjectRecord.objects.count() == 1


@pytest.mark.django_db
def test_list_by_account(lr, account, object_type, make_type):
    other_type = make_type("invoices")
    first = create(lr, account, {"n": 1}).json()
    second = create(lr, account, {"n": 2}).json()
    create(lr, account, {"n": 3}, name="invoices")
    create(lr, AccountFactory(tenant=account.tenant), {"n": 4})
    res = lr.get(manage_path(account.uid), params={"objectname": "orders"})
    assert res.status_code == 200
    body = res.json()
    assert body["Count"] == 2
    assert [r["Id"] for r in body["data"]] == [first["Id"], second["Id"]]
    assert set(body["data"][0]) == RECORD_KEYS
    assert other_type.records.count() == 1


@pytest.mark.django_db
def test_list_of_an_account_without_records_is_empty(lr, account, object_type):
    assert lr.get(manage_path(account.uid), params={"objectname": "orders"}).json() == {
        "data": [],
        "Count": 0,
    }


@pytest.mark.django_db
def test_get_by_record_id(lr, account, object_type):
    created = create(lr, account, {"a": 1}).json()
    res = lr.get(manage_path(account.uid, created["Id"]), params={"objectname": "orders"})
    assert res.json() == created
    assert res["ETag"] == f'"{created["Id"]}.1"'


@pytest.mark.django_db
def test_get_query_count_is_pinned(lr, account, object_type, django_assert_max_num_queries):
    created = create(lr, account, {"a": 1}).json()
    # Credential lookup + one joined record query (+1 spare for a credential touch).
    with django_assert_max_num_queries(3):
        res = lr.get(manage_path(account.uid, created["Id"]), params={"objectname": "orders"})
    assert res.status_code == 200


@pytest.mark.django_db
def test_update_replace_overwrites(lr, account, object_type):
    created = create(lr, account, {"a": 1, "b": 2}).json()
    res = lr.put(
        manage_path(account.uid, created["Id"]),
        {"c": 3},
        params={"objectname": "orders", "updatetype": "replace"},
    )
    assert res.status_code == 200, res.json()
    assert res.json()["CustomObject"] == {"c": 3}
    assert res.json()["Id"] == created["Id"]
    record = CustomObjectRecord.objects.get()
    assert (record.data, record.version) == ({"c": 3}, 2)
    event = AuditEvent.objects.get(action="customobject.updated")
    assert event.diff["CustomObject"] == {"a": [1, None], "b": [2, None], "c": [None, 3]}
    assert event.diff["UpdateType"] == "replace"


@pytest.mark.django_db
@pytest.mark.parametrize("update_type", ["partialreplace", "PartialReplace", "default", None])
def test_update_partialreplace_merges_top_level_keys(lr, account, object_type, update_type):
    created = create(lr, account, {"a": 1, "b": {"x": 1, "y": 2}}).json()
    params = {"objectName": "orders"}
    if update_type:
        params["updateType"] = update_type
    res = lr.put(manage_path(account.uid, created["Id"]), {"b": {"x": 9}, "c": 3}, params=params)
    assert res.json()["CustomObject"] == {"a": 1, "b": {"x": 9}, "c": 3}
    assert CustomObjectRecord.objects.get().data == {"a": 1, "b": {"x": 9}, "c": 3}


@pytest.mark.django_db
def test_unknown_update_type_is_refused(lr, account, object_type):
    created = create(lr, account, {"a": 1}).json()
    res = lr.put(
        manage_path(account.uid, created["Id"]),
        {"c": 3},
        params={"objectname": "orders", "updatetype": "merge"},
    )
    assert res.json()["ErrorCode"] == 908
    assert CustomObjectRecord.objects.get().data == {"a": 1}


@pytest.mark.django_db
def test_delete(lr, account, object_type):
    created = create(lr, account, {"a": 1}).json()
    res = lr.delete(manage_path(account.uid, created["Id"]), params={"objectname": "orders"})
    assert res.status_code == 200
    assert res.json() == {"IsDeleted": True}
    assert not CustomObjectRecord.objects.exists()
    event = AuditEvent.objects.get(action="customobject.deleted")
    assert event.diff["CustomObject"] == {"a": [1, None]}
    again = lr.delete(manage_path(account.uid, created["Id"]), params={"objectname": "orders"})
    assert again.json()["ErrorCode"] == 1057


@pytest.mark.django_db
def test_errors_for_names_accounts_and_ids(lr, account, make_type):
    # No type configured at all.
    assert create(lr, account, {"a": 1}).json()["ErrorCode"] == 999
    make_type("orders")
    assert create(lr, account, {"a": 1}, name="nope").json()["ErrorCode"] == 1064
    assert lr.post(manage_path(account.uid), {"a": 1}).json()["ErrorCode"] == 908
    assert (
        lr.post(manage_path("missing-uid"), {"a": 1}, params={"objectname": "orders"}).json()[
            "ErrorCode"
        ]
        == 938
    )
    path = manage_path(account.uid, "f" * 32)
    assert lr.get(path, params={"objectname": "orders"}).json()["ErrorCode"] == 1057
    assert lr.put(path, {"a": 1}, params={"objectname": "orders"}).json()["ErrorCode"] == 1057
    assert lr.delete(path, params={"objectname": "orders"}).json()["ErrorCode"] == 1057
    bad = manage_path(account.uid, "x" * 65)
    assert lr.get(bad, params={"objectname": "orders"}).json()["ErrorCode"] == 995
    assert (
        lr.get(manage_path(account.uid, "f" * 32), params={"objectname": "nope"}).json()[
            "ErrorCode"
        ]
        == 1064
    )
    assert (
        lr.get(manage_path("missing-uid", "f" * 32), params={"objectname": "orders"}).json()[
            "ErrorCode"
        ]
        == 938
    )
    assert not CustomObjectRecord.objects.exists()


@pytest.mark.django_db
def test_a_record_of_another_account_is_not_found(lr, account, object_type):
    created = create(lr, account, {"a": 1}).json()
    other = AccountFactory(tenant=account.tenant)
    path = manage_path(other.uid, created["Id"])
    assert lr.get(path, params={"objectname": "orders"}).json()["ErrorCode"] == 1057
    assert lr.put(path, {"b": 1}, params={"objectname": "orders"}).json()["ErrorCode"] == 1057
    assert lr.delete(path, params={"objectname": "orders"}).json()["ErrorCode"] == 1057
    assert CustomObjectRecord.objects.get().data == {"a": 1}


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [b'{"a": ', b"[1, 2]", b'"text"', b"42", b"\xff\xfe"])
def test_body_that_is_not_a_json_object_is_1035(lr, account, object_type, send_raw, raw):
    res = send_raw(
        lr.client, "POST", manage_path(account.uid), raw, params={"objectname": "orders"}
    )
    assert res.status_code == 400
    assert res.json()["ErrorCode"] == 1035
    assert not CustomObjectRecord.objects.exists()


@pytest.mark.django_db
def test_put_with_invalid_json_is_1035_and_changes_nothing(lr, account, object_type, send_raw):
    created = create(lr, account, {"a": 1}).json()
    res = send_raw(
        lr.client,
        "PUT",
        manage_path(account.uid, created["Id"]),
        b"{nope",
        params={"objectname": "orders"},
    )
    assert res.json()["ErrorCode"] == 1035
    assert CustomObjectRecord.objects.get().data == {"a": 1}


@pytest.mark.django_db
def test_tenant_isolation(lr, lr_other, account, object_type, other_tenant, make_type):
    make_type("orders", of_tenant=other_tenant)
    created = create(lr, account, {"a": 1}).json()
    # The other tenant sees neither the account nor the record.
    path = manage_path(account.uid, created["Id"])
    assert lr_other.get(path, params={"objectname": "orders"}).json()["ErrorCode"] == 938
    assert lr_other.put(path, {"b": 1}, params={"objectname": "orders"}).json()["ErrorCode"] == 938
    assert lr_other.delete(path, params={"objectname": "orders"}).json()["ErrorCode"] == 938
    assert (
        lr_other.get(manage_path(account.uid), params={"objectname": "orders"}).json()["ErrorCode"]
        == 938
    )
    assert (
        lr_other.post(manage_path(account.uid), {"x": 1}, params={"objectname": "orders"}).json()[
            "ErrorCode"
        ]
        == 938
    )
    assert CustomObjectRecord.objects.get().data == {"a": 1}


@pytest.mark.django_db
def test_foreign_type_is_not_usable(lr, account, other_tenant, make_type):
    make_type("orders", of_tenant=other_tenant)
    assert create(lr, account, {"a": 1}).json()["ErrorCode"] == 999


@pytest.mark.django_db
def test_schema_violations_are_1134_with_json_pointers(lr, account, make_type):
    make_type(
        "orders",
        schema={
            "type": "object",
            "required": ["plan", "seats"],
            "properties": {
                "plan": {"enum": ["free", "gold"]},
                "seats": {"type": "integer", "minimum": 1},
                "address": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
                "tags": {"type": "array", "items": {"type": "string"}},
            },
        },
    )
    res = create(lr, account, {"plan": "platinum", "address": {"zip": 1}, "tags": ["a", 2]})
    body = res.json()
    assert body["ErrorCode"] == 1134
    fields = {e["FieldName"] for e in body["Errors"]}
    assert fields == {"/seats", "/plan", "/address/city", "/address/zip", "/tags/1"}
    assert all(e["ErrorMessage"] for e in body["Errors"])
    assert not CustomObjectRecord.objects.exists()
    assert create(lr, account, {"plan": "gold", "seats": 2}).status_code == 200


@pytest.mark.django_db
def test_update_is_validated_after_the_merge(lr, account, make_type):
    make_type("orders", schema={"type": "object", "required": ["plan"]})
    created = create(lr, account, {"plan": "gold"}).json()
    path = manage_path(account.uid, created["Id"])
    # A partial update without "plan" keeps the stored one: valid.
    assert lr.put(path, {"x": 1}, params={"objectname": "orders"}).status_code == 200
    # A replace without "plan" is not.
    res = lr.put(path, {"x": 2}, params={"objectname": "orders", "updatetype": "replace"})
    assert res.json()["ErrorCode"] == 1134
    assert res.json()["Errors"] == [
        {"FieldName": "/plan", "ErrorMessage": "The plan field is required."}
    ]
    assert CustomObjectRecord.objects.get().data == {"plan": "gold", "x": 1}


@pytest.mark.django_db
def test_records_per_account_limit_is_998(lr, account, make_type):
    make_type("orders", max_records_per_account=2)
    assert create(lr, account, {"n": 1}).status_code == 200
    assert create(lr, account, {"n": 2}).status_code == 200
    res = create(lr, account, {"n": 3})
    assert res.json()["ErrorCode"] == 998
    assert CustomObjectRecord.objects.count() == 2
    # Another account has its own quota.
    assert create(lr, AccountFactory(tenant=account.tenant), {"n": 1}).status_code == 200


@pytest.mark.django_db
def test_size_and_depth_limits_are_1002(lr, account, make_type):
    make_type("orders", max_bytes=100, max_depth=3)
    assert create(lr, account, {"a": "x" * 200}).json()["ErrorCode"] == 1002
    assert create(lr, account, {"a": {"b": {"c": {}}}}).json()["ErrorCode"] == 1002
    ok = create(lr, account, {"a": {"b": {}}})
    assert ok.status_code == 200
    # A merge that would grow the record past the limit is refused too.
    res = lr.put(
        manage_path(account.uid, ok.json()["Id"]),
        {"big": "y" * 90},
        params={"objectname": "orders"},
    )
    assert res.json()["ErrorCode"] == 1002
    assert CustomObjectRecord.objects.get().data == {"a": {"b": {}}}


@pytest.mark.django_db
def test_deleting_the_account_deletes_its_records(lr, account, object_type):
    create(lr, account, {"a": 1})
    other = AccountFactory(tenant=account.tenant)
    create(lr, other, {"a": 2})
    from accounts.commands import AccountDelete
    from accounts.services import account_delete

    account_delete(AccountDelete(), tenant=account.tenant, actor=Actor.system("t"), account=account)
    assert list(CustomObjectRecord.objects.values_list("data", flat=True)) == [{"a": 2}]


@pytest.mark.django_db
def test_management_needs_the_customobjects_scope(lr, account, object_type, credential):
    credential.scopes = ["accounts"]
    credential.save()
    res = create(lr, account, {"a": 1})
    assert res.json()["ErrorCode"] == 1143
    assert not CustomObjectRecord.objects.exists()


@pytest.mark.django_db
def test_services_write_one_audit_event_each(account, object_type):
    actor = Actor.system("t")
    record = services.record_create(
        RecordCreate(data={"a": 1}),
        tenant=account.tenant,
        actor=actor,
        object_type=object_type,
        account=account,
    )
    services.record_update(
        RecordUpdate(data={"a": 2}, update_type="partialreplace"),
        tenant=account.tenant,
        actor=actor,
        record=record,
    )
    services.record_delete(RecordDelete(), tenant=account.tenant, actor=actor, record=record)
    actions = list(
        AuditEvent.objects.filter(action__startswith="customobject.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["customobject.created", "customobject.updated", "customobject.deleted"]

"""The real LoginRadius Python SDK's custom object methods against a live server."""

import pytest

from customobjects.models import CustomObjectRecord


@pytest.mark.django_db(transaction=True)
def test_sdk_custom_object_management_methods(lr_sdk, account, make_type):
    make_type("orders")
    sdk = lr_sdk()
    api = sdk.custom_object

    created = api.create_custom_object_by_uid("orders", {"field1": "v", "keep": 1}, account.uid)
    assert "ErrorCode" not in created, created
    record_id = created["Id"]
    assert created["CustomObject"] == {"field1": "v", "keep": 1}

    merged = api.update_custom_object_by_uid(
        "orders", record_id, {"field1": "w"}, account.uid, "partialreplace"
    )
    assert merged["CustomObject"] == {"field1": "w", "keep": 1}
    replaced = api.update_custom_object_by_uid(
        "orders", record_id, {"only": True}, account.uid, "replace"
    )
    assert replaced["CustomObject"] == {"only": True}
    # Without an update type: partialreplace.
    default = api.update_custom_object_by_uid("orders", record_id, {"more": 2}, account.uid)
    assert default["CustomObject"] == {"only": True, "more": 2}

    listing = api.get_custom_object_by_uid("orders", account.uid)
    assert listing["Count"] == 1 and listing["data"][0]["Id"] == record_id
    one = api.get_custom_object_by_record_id("orders", record_id, account.uid)
    assert one["Id"] == record_id and one["Uid"] == account.uid

    assert api.delete_custom_object_by_record_id("orders", record_id, account.uid) == {
        "IsDeleted": True
    }
    assert not CustomObjectRecord.objects.exists()
    missing = api.get_custom_object_by_record_id("orders", record_id, account.uid)
    assert missing["ErrorCode"] == 1057
    assert api.get_custom_object_by_uid("unknown", account.uid)["ErrorCode"] == 1064


@pytest.mark.django_db(transaction=True)
def test_sdk_signed_requests(lr_sdk, account, make_type):
    make_type("orders")
    api = lr_sdk(signing=True).custom_object
    created = api.create_custom_object_by_uid("orders", {"a": 1}, account.uid)
    assert "ErrorCode" not in created, created
    assert api.get_custom_object_by_uid("orders", account.uid)["Count"] == 1


@pytest.mark.django_db(transaction=True)
def test_sdk_token_methods(lr_sdk, tenant, account, make_type):
    from portal.audit import Actor
    from tokens.commands import SessionIssue
    from tokens.services.sessions import session_issue

    make_type("orders")
    token = session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
    ).access_token
    api = lr_sdk().custom_object
    created = api.create_custom_object_by_token(token, "orders", {"a": 1})
    assert "ErrorCode" not in created, created
    record_id = created["Id"]
    assert api.update_custom_object_by_token(
        token, "orders", record_id, {"b": 2}, "partialreplace"
    )["CustomObject"] == {"a": 1, "b": 2}
    assert api.get_custom_object_by_token(token, "orders")["Count"] == 1
    assert (
        api.get_custom_object_by_record_id_and_token(token, "orders", record_id)["Id"] == record_id
    )
    assert api.delete_custom_object_by_token(token, "orders", record_id) == {"IsDeleted": True}

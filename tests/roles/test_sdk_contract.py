"""The LoginRadius Python SDK's role methods (`sdk.role.*`) against a live server."""

import pytest

from portal.models import AuditEvent
from roles.models import Role, RoleContext
from roles.selectors import account_role_names
from tests.waiting import wait_for_next_second


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signing", [False, True])
def test_role_crud_through_the_sdk(lr_sdk, tenant, signing):
    sdk = lr_sdk(signing=signing)
    created = sdk.role.create_roles(
        {
            "roles": [
                {"name": "admin", "permissions": {"users.read": True, "users.write": True}},
                {"name": "guest"},
            ]
        }
    )
    assert created == {
        "data": [
            {"Name": "admin", "Permissions": {"users.read": True, "users.write": True}},
            {"Name": "guest", "Permissions": {}},
        ],
        "Count": 2,
    }
    assert sdk.role.create_roles({"roles": [{"name": "admin"}]})["ErrorCode"] == 1175
    assert sdk.role.create_roles({"roles": []})["ErrorCode"] == 908

    assert sdk.role.get_roles_list()["Count"] == 2
    assert sdk.role.add_role_permissions({"permissions": ["users.delete"]}, "guest") == {
        "Name": "guest",
        "Permissions": {"users.delete": True},
    }
    assert sdk.role.remove_role_permissions({"permissions": ["users.write"]}, "admin") == {
        "Name": "admin",
        "Permissions": {"users.read": True},
    }
    assert sdk.role.add_role_permissions({"permissions": ["x"]}, "ghost")["ErrorCode"] == 1047
    assert sdk.role.delete_role("guest") == {"IsDeleted": True}
    if signing:
        # The same signed DELETE in the same second carries the same digest: a replay (1208).
        assert sdk.role.delete_role("guest")["ErrorCode"] in (1208, 1047)
        wait_for_next_second()  # the SDK's expiry has one-second resolution
    assert sdk.role.delete_role("guest")["ErrorCode"] == 1047
    assert list(Role.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["admin"]


@pytest.mark.django_db(transaction=True)
def test_account_roles_and_contexts_through_the_sdk(lr_sdk, tenant, account, editor, viewer):
    sdk = lr_sdk()
    uid = account.uid
    assert sdk.role.get_roles_by_uid(uid) == {"Roles": []}
    assert sdk.role.assign_roles_by_uid({"roles": ["editor", "viewer"]}, uid) == {
        "Roles": ["editor", "viewer"]
    }
    assert sdk.role.assign_roles_by_uid({"roles": ["ghost"]}, uid)["ErrorCode"] == 1047
    assert sdk.role.assign_roles_by_uid({"roles": ["editor"]}, "0" * 32)["ErrorCode"] == 938
    assert sdk.role.unassign_roles_by_uid({"roles": ["viewer"]}, uid) == {"IsDeleted": True}
    assert sdk.role.get_roles_by_uid(uid) == {"Roles": ["editor"]}
    assert account_role_names(account=account) == ["editor"]

    model = {
        "roleContext": [
            {
                "context": "Home",
                "roles": ["viewer"],
                "additionalPermissions": ["X", "Y"],
                "expiration": "07/15/2030 8:30:08 AM",
            },
            {"context": "Work", "roles": ["editor"]},
        ]
    }
    expected = {
        "Data": [
            {
                "Context": "Home",
                "Roles": ["viewer"],
                "AdditionalPermissions": ["X", "Y"],
                "Expiration": "2030-07-15T08:30:08Z",
            },
            {
                "Context": "Work",
                "Roles": ["editor"],
                "AdditionalPermissions": [],
                "Expiration": None,
            },
        ]
    }
    assert sdk.role.update_role_context_by_uid(model, uid) == expected
    assert sdk.role.get_role_context_by_uid(uid) == expected
    bad = {"roleContext": [{"context": "Home", "expiration": "someday"}]}
    assert sdk.role.update_role_context_by_uid(bad, uid)["ErrorCode"] == 1172

    listed = sdk.role.get_role_context_by_context_name("Home")
    assert [item["Uid"] for item in listed["Data"]] == [uid]
    assert listed["Data"][0]["RoleContext"] == {
        "Roles": ["viewer"],
        "AdditionalPermissions": ["X", "Y"],
        "Expiration": "2030-07-15T08:30:08Z",
    }

    assert sdk.role.delete_roles_from_role_context_by_uid("Home", {"roles": ["viewer"]}, uid) == {
        "IsDeleted": True
    }
    assert sdk.role.delete_additional_permission_from_role_context_by_uid(
        "Home", {"additionalPermissions": ["X"]}, uid
    ) == {"IsDeleted": True}
    assert (
        sdk.role.delete_additional_permission_from_role_context_by_uid(
            "Home", {"additionalPermissions": ["X"]}, uid
        )["ErrorCode"]
        == 1142
    )
    home = RoleContext.objects.get(account=account, name="Home")
    assert (list(home.roles.all()), home.additional_permissions) == ([], ["Y"])

    assert sdk.role.delete_role_context_by_uid("Work", uid) == {"IsDeleted": True}
    assert sdk.role.delete_role_context_by_uid("Work", uid)["ErrorCode"] == 1133
    assert list(RoleContext.objects.filter(account=account).values_list("name", flat=True)) == [
        "Home"
    ]
    assert (
        AuditEvent.objects.filter(subject_uid=uid, action__startswith="role_context.").count() == 5
    )

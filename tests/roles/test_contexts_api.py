"""Role contexts of an account: upsert, get, delete, remove roles or additional permissions,
and list accounts by context name."""

from datetime import UTC, datetime

import pytest

from accounts.models import AccountEmail
from portal.models import AuditEvent
from roles.models import RoleContext
from tests.factories import AccountFactory
from tests.roles.conftest import make_role, upsert_context

BASE = "/identity/v2/manage/account"


def url(uid, *rest):
    return "/".join([f"{BASE}/{uid}/rolecontext", *rest])


def contexts(account):
    return {
        c.name: {
            "roles": sorted(r.name for r in c.roles.all()),
            "additional": c.additional_permissions,
            "expiration": c.expiration,
        }
        for c in RoleContext.objects.filter(account=account)
    }


@pytest.mark.django_db
class TestUpsert:
    def test_creates_a_context_and_answers_every_context(self, lr, tenant, account, editor, viewer):
        upsert_context(tenant, account, "Work", roles=["viewer"])
        response = lr.put(
            url(account.uid),
            {
                "rolecontext": [
                    {
                        "context": "Home",
                        "roles": ["editor"],
                        "additionalpermissions": ["X"],
                        "expiration": "07/15/2030 8:30:08 AM",
                    }
                ]
            },
        )
        assert response.status_code == 200
        assert response.json() == {
            "Data": [
                {
                    "Context": "Home",
                    "Roles": ["editor"],
                    "AdditionalPermissions": ["X"],
                    "Expiration": "2030-07-15T08:30:08Z",
                },
                {
                    "Context": "Work",
                    "Roles": ["viewer"],
                    "AdditionalPermissions": [],
                    "Expiration": None,
                },
            ]
        }
        event = AuditEvent.objects.filter(action="role_context.created").latest("id")
        assert event.subject_uid == account.uid
        assert event.diff == {
            "context": "Home",
            "roles": [None, ["editor"]],
            "additional_permissions": [None, ["X"]],
            "expiration": [None, "2030-07-15T08:30:08+00:00"],
        }

    @pytest.mark.parametrize(
        "body",
        [
            {
                "roleContext": [
                    {"Context": "Home", "Roles": ["editor"], "AdditionalPermissions": ["X"]}
                ]
            },
            {
                "RoleContext": [
                    {"context": "Home", "roles": ["editor"], "additional_permissions": ["X"]}
                ]
            },
            {
                "ROLECONTEXT": [
                    {"CONTEXT": "Home", "ROLES": ["editor"], "ADDITIONALPERMISSIONS": ["X"]}
                ]
            },
        ],
    )
    def test_body_key_spellings(self, lr, account, editor, body):
        assert lr.put(url(account.uid), body).status_code == 200
        assert contexts(account) == {
            "Home": {"roles": ["editor"], "additional": ["X"], "expiration": None}
        }

    def test_v12_path_spelling(self, lr, account, editor):
        path = f"{BASE}/{account.uid}/roleContext"
        assert (
            lr.put(path, {"rolecontext": [{"context": "Home", "roles": ["editor"]}]}).status_code
            == 200
        )
        assert lr.get(path).json()["Data"][0]["Context"] == "Home"

    def test_upsert_adds_roles_and_permissions_and_replaces_a_given_expiration(
        self, lr, tenant, account, editor, viewer
    ):
        upsert_context(
            tenant,
            account,
            "Home",
            roles=["viewer"],
            additional=["A"],
            expiration=datetime(2030, 1, 1, tzinfo=UTC),
        )
        lr.put(
            url(account.uid),
            {
                "rolecontext": [
                    {"context": "Home", "roles": ["editor"], "additionalpermissions": ["B"]}
                ]
            },
        )
        assert contexts(account) == {
            "Home": {
                "roles": ["editor", "viewer"],
                "additional": ["A", "B"],
                "expiration": datetime(2030, 1, 1, tzinfo=UTC),
            }
        }
        lr.put(url(account.uid), {"rolecontext": [{"context": "Home", "expiration": None}]})
        assert contexts(account)["Home"]["expiration"] is None
        event = AuditEvent.objects.filter(action="role_context.updated").latest("id")
        assert event.diff == {"context": "Home", "expiration": ["2030-01-01T00:00:00+00:00", None]}

    def test_several_contexts_at_once(self, lr, account, editor, viewer):
        body = {
            "rolecontext": [
                {"context": "A", "roles": ["editor"]},
                {"context": "B", "roles": ["viewer"]},
            ]
        }
        assert [c["Context"] for c in lr.put(url(account.uid), body).json()["Data"]] == ["A", "B"]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("07/15/2018 8:30:08 AM", datetime(2018, 7, 15, 8, 30, 8, tzinfo=UTC)),
            ("7/15/2018 8:30:08 PM", datetime(2018, 7, 15, 20, 30, 8, tzinfo=UTC)),
            ("07/15/2018 20:30:08", datetime(2018, 7, 15, 20, 30, 8, tzinfo=UTC)),
            ("07/15/2018", datetime(2018, 7, 15, tzinfo=UTC)),
            ("2018-07-15T08:30:08Z", datetime(2018, 7, 15, 8, 30, 8, tzinfo=UTC)),
            ("2018-07-15T08:30:08.1234567Z", datetime(2018, 7, 15, 8, 30, 8, 123456, tzinfo=UTC)),
            ("2018-07-15T10:30:08+02:00", datetime(2018, 7, 15, 8, 30, 8, tzinfo=UTC)),
            ("2018-07-15 08:30:08", datetime(2018, 7, 15, 8, 30, 8, tzinfo=UTC)),
            ("", None),
        ],
    )
    def test_expiration_formats(self, lr, account, editor, text, expected):
        response = lr.put(
            url(account.uid),
            {"rolecontext": [{"context": "Home", "roles": ["editor"], "expiration": text}]},
        )
        assert response.status_code == 200, response.json()
        assert contexts(account)["Home"]["expiration"] == expected

    @pytest.mark.parametrize(
        "text",
        [
            "tomorrow",
            "13/45/2018",
            "2018-02-30T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            12345,
            ["x"],
        ],
    )
    def test_invalid_expiration_is_1172_and_changes_nothing(
        self, lr, tenant, account, editor, text
    ):
        upsert_context(tenant, account, "Work", roles=["editor"])
        body = {
            "rolecontext": [
                {"context": "Home", "roles": ["editor"]},
                {"context": "Work", "expiration": text},
            ]
        }
        response = lr.put(url(account.uid), body)
        assert response.status_code == 400
        assert response.json()["ErrorCode"] == 1172
        assert contexts(account) == {
            "Work": {"roles": ["editor"], "additional": [], "expiration": None}
        }

    @pytest.mark.parametrize("name", ["", "has space", "a/b", "x" * 101, None, 7])
    def test_bad_context_name_is_1133(self, lr, account, editor, name):
        response = lr.put(
            url(account.uid), {"rolecontext": [{"context": name, "roles": ["editor"]}]}
        )
        assert response.json()["ErrorCode"] == 1133
        assert contexts(account) == {}

    def test_unknown_role_is_1047_and_nothing_is_created(self, lr, account, editor):
        body = {
            "rolecontext": [
                {"context": "A", "roles": ["editor"]},
                {"context": "B", "roles": ["ghost"]},
            ]
        }
        assert lr.put(url(account.uid), body).json()["ErrorCode"] == 1047
        assert contexts(account) == {}

    @pytest.mark.parametrize(
        "body", [{}, {"rolecontext": []}, {"rolecontext": None}, {"rolecontext": "Home"}]
    )
    def test_missing_rolecontext_is_908(self, lr, account, body):
        assert lr.put(url(account.uid), body).json()["ErrorCode"] == 908
        assert contexts(account) == {}

    def test_unknown_account_is_938(self, lr, editor):
        body = {"rolecontext": [{"context": "Home", "roles": ["editor"]}]}
        assert lr.put(url("f" * 32), body).json()["ErrorCode"] == 938
        assert lr.get(url("f" * 32)).json()["ErrorCode"] == 938
        assert not RoleContext.objects.exists()


@pytest.mark.django_db
class TestGet:
    def test_expired_contexts_are_still_shown(self, lr, tenant, account, editor):
        upsert_context(
            tenant, account, "Old", roles=["editor"], expiration=datetime(2001, 1, 1, tzinfo=UTC)
        )
        assert lr.get(url(account.uid)).json() == {
            "Data": [
                {
                    "Context": "Old",
                    "Roles": ["editor"],
                    "AdditionalPermissions": [],
                    "Expiration": "2001-01-01T00:00:00Z",
                }
            ]
        }

    def test_no_contexts(self, lr, account):
        assert lr.get(url(account.uid)).json() == {"Data": []}


@pytest.mark.django_db
class TestDelete:
    def test_delete_a_context(self, lr, tenant, account, editor):
        upsert_context(tenant, account, "Home", roles=["editor"])
        upsert_context(tenant, account, "Work", roles=["editor"])
        response = lr.delete(url(account.uid, "Home"))
        assert response.json() == {"IsDeleted": True}
        assert list(contexts(account)) == ["Work"]
        event = AuditEvent.objects.get(action="role_context.deleted")
        assert event.diff == {
            "context": "Home",
            "roles": [["editor"], None],
            "additional_permissions": [[], None],
        }

    def test_delete_v12_spelling(self, lr, tenant, account, editor):
        upsert_context(tenant, account, "Home", roles=["editor"])
        assert lr.delete(f"{BASE}/{account.uid}/roleContext/Home").json() == {"IsDeleted": True}
        assert contexts(account) == {}

    def test_delete_unknown_context_is_1133(self, lr, tenant, account, editor):
        upsert_context(tenant, account, "Home", roles=["editor"])
        assert lr.delete(url(account.uid, "Nope")).json()["ErrorCode"] == 1133
        assert list(contexts(account)) == ["Home"]

    def test_remove_roles_from_a_context(self, lr, tenant, account, editor, viewer):
        upsert_context(tenant, account, "Home", roles=["editor", "viewer"], additional=["X"])
        response = lr.delete(url(account.uid, "Home", "role"), {"roles": ["editor"]})
        assert response.json() == {"IsDeleted": True}
        assert contexts(account)["Home"] == {
            "roles": ["viewer"],
            "additional": ["X"],
            "expiration": None,
        }
        event = AuditEvent.objects.get(action="role_context.updated")
        assert event.diff == {"context": "Home", "roles": [["editor", "viewer"], ["viewer"]]}

    def test_remove_a_role_the_context_does_not_hold_is_1047(
        self, lr, tenant, account, editor, viewer
    ):
        upsert_context(tenant, account, "Home", roles=["editor"])
        assert (
            lr.delete(url(account.uid, "Home", "role"), {"roles": ["editor", "viewer"]}).json()[
                "ErrorCode"
            ]
            == 1047
        )
        assert contexts(account)["Home"]["roles"] == ["editor"]

    @pytest.mark.parametrize("body", [{}, {"roles": []}])
    def test_remove_roles_without_roles_is_908(self, lr, tenant, account, editor, body):
        upsert_context(tenant, account, "Home", roles=["editor"])
        assert lr.delete(url(account.uid, "Home", "role"), body).json()["ErrorCode"] == 908
        assert contexts(account)["Home"]["roles"] == ["editor"]

    def test_remove_roles_from_unknown_context_is_1133(self, lr, account, editor):
        assert (
            lr.delete(url(account.uid, "Nope", "role"), {"roles": ["editor"]}).json()["ErrorCode"]
            == 1133
        )

    def test_remove_additional_permissions(self, lr, tenant, account, editor):
        upsert_context(tenant, account, "Home", roles=["editor"], additional=["X", "Y"])
        response = lr.delete(
            url(account.uid, "Home", "additionalpermission"), {"additionalpermissions": ["X"]}
        )
        assert response.json() == {"IsDeleted": True}
        assert contexts(account)["Home"]["additional"] == ["Y"]
        event = AuditEvent.objects.get(action="role_context.updated")
        assert event.diff == {"context": "Home", "additional_permissions": [["X", "Y"], ["Y"]]}

    def test_remove_additional_permission_not_present_is_1142(self, lr, tenant, account, editor):
        upsert_context(tenant, account, "Home", roles=["editor"], additional=["X"])
        response = lr.delete(
            url(account.uid, "Home", "additionalpermission"), {"AdditionalPermissions": ["X", "Z"]}
        )
        assert response.status_code == 400
        assert response.json()["ErrorCode"] == 1142
        assert contexts(account)["Home"]["additional"] == ["X"]

    def test_remove_additional_permissions_without_list_is_908(self, lr, tenant, account, editor):
        upsert_context(tenant, account, "Home", roles=["editor"], additional=["X"])
        assert (
            lr.delete(url(account.uid, "Home", "additionalpermission"), {}).json()["ErrorCode"]
            == 908
        )
        assert contexts(account)["Home"]["additional"] == ["X"]

    def test_remove_additional_permissions_unknown_context_is_1133(self, lr, account):
        response = lr.delete(
            url(account.uid, "Nope", "additionalpermission"), {"additionalpermissions": ["X"]}
        )
        assert response.json()["ErrorCode"] == 1133

    @pytest.mark.parametrize("suffix", [(), ("role",), ("additionalpermission",)])
    def test_unknown_account_is_938(self, lr, suffix):
        response = lr.delete(
            url("a" * 32, "Home", *suffix), {"roles": ["x"], "additionalpermissions": ["x"]}
        )
        assert response.json()["ErrorCode"] == 938


@pytest.mark.django_db
class TestAccountsByContext:
    def test_lists_accounts_holding_the_context_with_profile_fields(self, lr, tenant, editor):
        first = AccountFactory(
            tenant=tenant, first_name="Ada", last_name="Lovelace", email="ada@example.com"
        )
        first.profile = {"ImageUrl": "https://img.example/ada.png"}
        first.last_login_date = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        first.save()
        AccountEmail.objects.create(
            tenant=tenant, account=first, type="Secondary", value="ada2@example.com"
        )
        second = AccountFactory(tenant=tenant, email=False)
        AccountFactory(tenant=tenant)  # no context
        upsert_context(
            tenant,
            first,
            "Home",
            roles=["editor"],
            additional=["X"],
            expiration=datetime(2030, 7, 15, 8, 30, 8, tzinfo=UTC),
        )
        upsert_context(tenant, second, "Home", additional=["Y"])
        upsert_context(tenant, second, "Work", roles=["editor"])
        response = lr.get(f"{BASE}/rolecontext/Home")
        assert response.status_code == 200
        data = {item["Uid"]: item for item in response.json()["Data"]}
        assert set(data) == {first.uid, second.uid}
        assert data[first.uid] == {
            "RoleContext": {
                "Roles": ["editor"],
                "AdditionalPermissions": ["X"],
                "Expiration": "2030-07-15T08:30:08Z",
            },
            "Uid": first.uid,
            "LastLoginDate": "2026-01-02T03:04:05Z",
            "FullName": "Ada Lovelace",
            "Email": [
                {"Type": "Primary", "Value": "ada@example.com"},
                {"Type": "Secondary", "Value": "ada2@example.com"},
            ],
            "ImageUrl": "https://img.example/ada.png",
        }
        assert data[second.uid]["RoleContext"] == {
            "Roles": [],
            "AdditionalPermissions": ["Y"],
            "Expiration": None,
        }
        assert data[second.uid]["LastLoginDate"] is None
        assert data[second.uid]["ImageUrl"] is None

    def test_v12_spelling_and_unknown_name(self, lr, tenant, account, editor):
        upsert_context(tenant, account, "Home", roles=["editor"])
        assert len(lr.get(f"{BASE}/roleContext/Home").json()["Data"]) == 1
        assert lr.get(f"{BASE}/rolecontext/Nobody").json() == {"Data": []}

    def test_invalid_name_is_1133(self, lr):
        assert lr.get(f"{BASE}/rolecontext/bad name").json()["ErrorCode"] == 1133

    def test_other_tenants_accounts_are_not_listed(self, lr_other, tenant, account, editor):
        upsert_context(tenant, account, "Home", roles=["editor"])
        assert lr_other.get(f"{BASE}/rolecontext/Home").json() == {"Data": []}

    def test_another_tenants_account_contexts_are_938(self, lr_other, tenant, account, editor):
        upsert_context(tenant, account, "Home", roles=["editor"])
        assert lr_other.get(url(account.uid)).json()["ErrorCode"] == 938
        assert lr_other.delete(url(account.uid, "Home")).json()["ErrorCode"] == 938
        assert list(contexts(account)) == ["Home"]

    def test_a_context_cannot_use_another_tenants_role(self, lr, account, other_tenant):
        make_role(other_tenant, "foreign", ["x"])
        body = {"rolecontext": [{"context": "Home", "roles": ["foreign"]}]}
        assert lr.put(url(account.uid), body).json()["ErrorCode"] == 1047

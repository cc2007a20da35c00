"""v11 role CRUD: list, create (several at once), delete, add and remove permissions."""

import pytest

from portal.models import AuditEvent
from roles.models import AccountRole, Role, RoleContext
from tests.factories import AccountFactory
from tests.roles.conftest import assign, make_role, upsert_context

ROLE = "/identity/v2/manage/role"


def role_rows(tenant):
    return {r.name: r.permissions for r in Role.objects.filter(tenant=tenant)}


@pytest.mark.django_db
class TestRoleList:
    def test_lists_roles_of_the_tenant_with_permissions_and_count(self, lr, tenant, editor, viewer):
        response = lr.get(ROLE)
        assert response.status_code == 200
        assert response.json() == {
            "data": [
                {"Name": "editor", "Permissions": {"article.edit": True, "article.read": True}},
                {"Name": "viewer", "Permissions": {"article.read": True}},
            ],
            "Count": 2,
        }

    def test_empty_list(self, lr):
        assert lr.get(ROLE).json() == {"data": [], "Count": 0}

    def test_other_tenants_roles_are_not_listed(self, lr, lr_other, editor):
        assert lr_other.get(ROLE).json() == {"data": [], "Count": 0}


@pytest.mark.django_db
class TestRoleCreate:
    def test_creates_several_roles_at_once(self, lr, tenant):
        response = lr.post(
            ROLE,
            {
                "roles": [
                    {"name": "admin", "permissions": {"a": True, "b": True}},
                    {"name": "guest"},
                ]
            },
        )
        assert response.status_code == 200
        assert response.json() == {
            "data": [
                {"Name": "admin", "Permissions": {"a": True, "b": True}},
                {"Name": "guest", "Permissions": {}},
            ],
            "Count": 2,
        }
        assert role_rows(tenant) == {"admin": ["a", "b"], "guest": []}

    def test_body_keys_are_case_insensitive_and_false_permissions_are_left_out(self, lr, tenant):
        response = lr.post(
            ROLE, {"Roles": [{"Name": "admin", "Permissions": {"a": True, "b": False}}]}
        )
        assert response.status_code == 200
        assert role_rows(tenant) == {"admin": ["a"]}

    def test_permissions_as_a_list(self, lr, tenant):
        assert (
            lr.post(
                ROLE, {"roles": [{"name": "admin", "permissions": ["x", "y", "x"]}]}
            ).status_code
            == 200
        )
        assert role_rows(tenant) == {"admin": ["x", "y"]}

    def test_records_one_audit_event_per_role_with_a_diff(self, lr, tenant, credential):
        lr.post(ROLE, {"roles": [{"name": "admin", "permissions": {"a": True}}]})
        event = AuditEvent.objects.get(action="role.created")
        assert event.tenant == tenant
        assert event.actor_type == "credential" and event.actor_id == str(credential.pk)
        assert event.diff == {"name": [None, "admin"], "permissions": [None, ["a"]]}

    @pytest.mark.parametrize("body", [{}, {"roles": []}, {"roles": None}])
    def test_missing_roles_is_908(self, lr, tenant, body):
        response = lr.post(ROLE, body)
        assert response.status_code == 400
        assert response.json()["ErrorCode"] == 908
        assert response.json()["Description"] == "The value of Roles can not be null or empty."
        assert role_rows(tenant) == {}

    @pytest.mark.parametrize("name", ["", "has space", "slash/name", "x" * 101, None, 5])
    def test_invalid_name_is_1175_and_creates_nothing(self, lr, tenant, name):
        response = lr.post(ROLE, {"roles": [{"name": "fine"}, {"name": name}]})
        assert response.json()["ErrorCode"] == 1175
        assert role_rows(tenant) == {}

    def test_existing_name_is_1175_and_creates_nothing(self, lr, tenant, editor):
        response = lr.post(
            ROLE, {"roles": [{"name": "new"}, {"name": "editor", "permissions": {"z": True}}]}
        )
        assert response.status_code == 400
        assert response.json()["ErrorCode"] == 1175
        assert role_rows(tenant) == {"editor": ["article.edit", "article.read"]}
        assert not AuditEvent.objects.filter(
            action="role.created", diff__name=[None, "new"]
        ).exists()

    def test_same_name_twice_in_one_request_is_1175(self, lr, tenant):
        assert lr.post(ROLE, {"roles": [{"name": "a"}, {"name": "a"}]}).json()["ErrorCode"] == 1175
        assert role_rows(tenant) == {}

    def test_a_name_taken_in_another_tenant_is_free(self, lr, lr_other, tenant, other_tenant):
        make_role(other_tenant, "editor", ["x"])
        assert lr.post(ROLE, {"roles": [{"name": "editor"}]}).status_code == 200
        assert role_rows(tenant) == {"editor": []}
        assert role_rows(other_tenant) == {"editor": ["x"]}

    def test_malformed_json_is_965(self, lr, tenant):
        response = lr.client.post(
            f"{ROLE}?apikey={tenant.api_key}",
            data="{nope",
            content_type="application/json",
            HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
        )
        assert response.json()["ErrorCode"] == 965
        assert role_rows(tenant) == {}

    def test_bad_permission_names_are_908(self, lr, tenant):
        response = lr.post(ROLE, {"roles": [{"name": "admin", "permissions": ["ok", 7]}]})
        assert response.json()["ErrorCode"] == 908
        assert role_rows(tenant) == {}


@pytest.mark.django_db
class TestRoleDelete:
    def test_deletes_role_and_removes_it_from_every_account_and_context(
        self, lr, tenant, editor, viewer
    ):
        first, second = AccountFactory(tenant=tenant), AccountFactory(tenant=tenant)
        assign(tenant, first, "editor", "viewer")
        assign(tenant, second, "editor")
        upsert_context(tenant, first, "Home", roles=["editor", "viewer"])
        response = lr.delete(f"{ROLE}/editor")
        assert response.status_code == 200
        assert response.json() == {"IsDeleted": True}
        assert role_rows(tenant) == {"viewer": ["article.read"]}
        assert [a.role.name for a in AccountRole.objects.filter(account=first)] == ["viewer"]
        assert not AccountRole.objects.filter(account=second).exists()
        context = RoleContext.objects.get(account=first, name="Home")
        assert [r.name for r in context.roles.all()] == ["viewer"]
        event = AuditEvent.objects.get(action="role.deleted")
        assert event.diff["name"] == ["editor", None]
        assert event.diff["permissions"] == [["article.edit", "article.read"], None]
        assert event.diff["accounts"] == [sorted([first.uid, second.uid]), []]
        assert event.diff["contexts"] == [[f"{first.uid}/Home"], []]

    def test_unknown_role_is_1047(self, lr, tenant, editor):
        response = lr.delete(f"{ROLE}/nobody")
        assert response.json()["ErrorCode"] == 1047
        assert role_rows(tenant) == {"editor": ["article.edit", "article.read"]}

    def test_another_tenants_role_cannot_be_deleted(self, lr_other, tenant, editor):
        assert lr_other.delete(f"{ROLE}/editor").json()["ErrorCode"] == 1047
        assert Role.objects.filter(pk=editor.pk).exists()


@pytest.mark.django_db
class TestRolePermissions:
    def test_add_permissions(self, lr, tenant, editor):
        response = lr.put(
            f"{ROLE}/editor/permission", {"permissions": ["article.delete", "article.read"]}
        )
        assert response.status_code == 200
        assert response.json() == {
            "Name": "editor",
            "Permissions": {"article.delete": True, "article.edit": True, "article.read": True},
        }
        event = AuditEvent.objects.get(action="role.permissions_changed")
        assert event.diff == {
            "name": "editor",
            "permissions": [
                ["article.edit", "article.read"],
                ["article.delete", "article.edit", "article.read"],
            ],
        }

    def test_remove_permissions_answers_the_remaining_ones(self, lr, tenant, editor):
        response = lr.delete(
            f"{ROLE}/editor/permission", {"Permissions": ["article.edit", "not.held"]}
        )
        assert response.status_code == 200
        assert response.json() == {"Name": "editor", "Permissions": {"article.read": True}}
        assert role_rows(tenant) == {"editor": ["article.read"]}

    def test_path_is_case_insensitive(self, lr, tenant, editor):
        assert (
            lr.put("/Identity/V2/Manage/Role/editor/Permission", {"permissions": ["p"]}).status_code
            == 200
        )
        assert "p" in role_rows(tenant)["editor"]

    @pytest.mark.parametrize("method", ["put", "delete"])
    def test_unknown_role_is_1047(self, lr, tenant, method):
        response = getattr(lr, method)(f"{ROLE}/ghost/permission", {"permissions": ["p"]})
        assert response.json()["ErrorCode"] == 1047
        assert role_rows(tenant) == {}

    @pytest.mark.parametrize("method", ["put", "delete"])
    @pytest.mark.parametrize(
        "body", [{}, {"permissions": []}, {"permissions": "p"}, {"permissions": [""]}]
    )
    def test_missing_or_bad_permissions_is_908(self, lr, tenant, editor, method, body):
        response = getattr(lr, method)(f"{ROLE}/editor/permission", body)
        assert response.json()["ErrorCode"] == 908
        assert role_rows(tenant) == {"editor": ["article.edit", "article.read"]}
        assert not AuditEvent.objects.filter(action="role.permissions_changed").exists()

    def test_no_change_records_no_event(self, lr, tenant, editor):
        assert (
            lr.put(f"{ROLE}/editor/permission", {"permissions": ["article.read"]}).status_code
            == 200
        )
        assert not AuditEvent.objects.filter(action="role.permissions_changed").exists()


@pytest.mark.django_db
def test_credential_without_roles_scope_is_1143(lr, credential, tenant):
    credential.scopes = ["accounts"]
    credential.save()
    response = lr.post(ROLE, {"roles": [{"name": "admin"}]})
    assert response.json()["ErrorCode"] == 1143
    assert role_rows(tenant) == {}

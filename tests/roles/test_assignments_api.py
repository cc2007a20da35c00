"""Roles assigned to an account: get, assign (adds), unassign."""

import pytest

from accounts.models import Account
from portal.models import AuditEvent
from roles import commands as c
from roles.models import AccountRole
from roles.selectors import account_role_names
from tests.factories import AccountFactory
from tests.roles.conftest import SYSTEM, assign, make_role


def url(uid):
    return f"/identity/v2/manage/account/{uid}/role"


@pytest.mark.django_db
class TestAccountRoles:
    def test_get_roles_of_an_account(self, lr, tenant, account, editor, viewer):
        assign(tenant, account, "viewer", "editor")
        response = lr.get(url(account.uid))
        assert response.status_code == 200
        assert response.json() == {"Roles": ["editor", "viewer"]}

    def test_get_without_roles(self, lr, account):
        assert lr.get(url(account.uid)).json() == {"Roles": []}

    def test_assign_adds_to_held_roles_and_answers_all(self, lr, tenant, account, editor, viewer):
        assign(tenant, account, "viewer")
        response = lr.put(url(account.uid), {"roles": ["editor"]})
        assert response.status_code == 200
        assert response.json() == {"Roles": ["editor", "viewer"]}
        assert account_role_names(account=account) == ["editor", "viewer"]
        event = AuditEvent.objects.filter(action="account_roles.assigned").latest("id")
        assert event.subject_uid == account.uid
        assert event.diff == {"roles": [["viewer"], ["editor", "viewer"]]}

    def test_assign_is_idempotent(self, lr, tenant, account, editor):
        lr.put(url(account.uid), {"Roles": ["editor"]})
        assert lr.put(url(account.uid), {"roles": ["editor", "editor"]}).json() == {
            "Roles": ["editor"]
        }
        assert AccountRole.objects.filter(account=account).count() == 1
        assert AuditEvent.objects.filter(action="account_roles.assigned").count() == 1

    def test_assign_unknown_role_is_1047_and_assigns_nothing(self, lr, account, editor):
        response = lr.put(url(account.uid), {"roles": ["editor", "ghost"]})
        assert response.status_code == 400
        assert response.json()["ErrorCode"] == 1047
        assert account_role_names(account=account) == []

    @pytest.mark.parametrize("method", ["put", "delete"])
    @pytest.mark.parametrize("body", [{}, {"roles": []}, {"roles": None}, {"roles": "editor"}])
    def test_missing_roles_is_908(self, lr, tenant, account, editor, method, body):
        assign(tenant, account, "editor")
        response = getattr(lr, method)(url(account.uid), body)
        assert response.json()["ErrorCode"] == 908
        assert account_role_names(account=account) == ["editor"]

    @pytest.mark.parametrize("method", ["get", "put", "delete"])
    def test_unknown_account_is_938(self, lr, editor, method):
        kwargs = {} if method == "get" else {"body": {"roles": ["editor"]}}
        response = getattr(lr, method)(url("0" * 32), **kwargs)
        assert response.json()["ErrorCode"] == 938
        assert not AccountRole.objects.exists()

    def test_unassign(self, lr, tenant, account, editor, viewer):
        assign(tenant, account, "editor", "viewer")
        response = lr.delete(url(account.uid), {"roles": ["editor"]})
        assert response.status_code == 200
        assert response.json() == {"IsDeleted": True}
        assert account_role_names(account=account) == ["viewer"]
        event = AuditEvent.objects.get(action="account_roles.unassigned")
        assert event.diff == {"roles": [["editor", "viewer"], ["viewer"]]}

    def test_unassign_unknown_role_is_1047(self, lr, tenant, account, editor):
        assign(tenant, account, "editor")
        assert (
            lr.delete(url(account.uid), {"roles": ["editor", "ghost"]}).json()["ErrorCode"] == 1047
        )
        assert account_role_names(account=account) == ["editor"]

    def test_unassign_a_role_not_held_changes_nothing(self, lr, tenant, account, editor, viewer):
        assign(tenant, account, "editor")
        assert lr.delete(url(account.uid), {"roles": ["viewer"]}).json() == {"IsDeleted": True}
        assert account_role_names(account=account) == ["editor"]
        assert not AuditEvent.objects.filter(action="account_roles.unassigned").exists()

    def test_other_account_untouched(self, lr, tenant, account, editor):
        other = AccountFactory(tenant=tenant)
        lr.put(url(account.uid), {"roles": ["editor"]})
        assert account_role_names(account=other) == []

    def test_deleting_the_account_removes_its_assignments(self, tenant, account, editor):
        assign(tenant, account, "editor")
        Account.objects.filter(pk=account.pk).delete()
        assert not AccountRole.objects.exists()


@pytest.mark.django_db
class TestTenantIsolation:
    def test_another_tenants_account_is_938(self, lr_other, tenant, account, editor):
        assign(tenant, account, "editor")
        for method, kwargs in (
            ("get", {}),
            ("put", {"body": {"roles": ["editor"]}}),
            ("delete", {"body": {"roles": ["editor"]}}),
        ):
            assert getattr(lr_other, method)(url(account.uid), **kwargs).json()["ErrorCode"] == 938
        assert account_role_names(account=account) == ["editor"]

    def test_another_tenants_role_cannot_be_assigned(self, lr, account, other_tenant):
        make_role(other_tenant, "foreign", ["x"])
        assert lr.put(url(account.uid), {"roles": ["foreign"]}).json()["ErrorCode"] == 1047
        assert account_role_names(account=account) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "call",
    [
        lambda s, t, a: s.account_roles_assign(
            c.AccountRolesAssign(roles=("editor",)), tenant=t, actor=SYSTEM, account=a
        ),
        lambda s, t, a: s.account_roles_unassign(
            c.AccountRolesUnassign(roles=("editor",)), tenant=t, actor=SYSTEM, account=a
        ),
        lambda s, t, a: s.role_contexts_upsert(
            c.RoleContextGrant(contexts=(c.ContextGrant(name="Home"),)),
            tenant=t,
            actor=SYSTEM,
            account=a,
        ),
        lambda s, t, a: s.role_context_delete(
            c.RoleContextDelete(name="Home"), tenant=t, actor=SYSTEM, account=a
        ),
        lambda s, t, a: s.role_context_roles_remove(
            c.RoleContextRolesRemove(name="Home", roles=("editor",)),
            tenant=t,
            actor=SYSTEM,
            account=a,
        ),
        lambda s, t, a: s.role_context_permissions_remove(
            c.RoleContextPermissionsRemove(name="Home", permissions=("x",)),
            tenant=t,
            actor=SYSTEM,
            account=a,
        ),
    ],
)
def test_services_refuse_another_tenants_account(call, tenant, other_tenant, editor):
    from portal.errors import AccountNotFound
    from roles import services

    foreign = AccountFactory(tenant=other_tenant)
    with pytest.raises(AccountNotFound):
        call(services, tenant, foreign)
    assert not AccountRole.objects.exists()

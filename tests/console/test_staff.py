import pytest
from django.contrib.auth.models import Group

from portal import staff
from portal.audit import Actor
from portal.models import AuditEvent
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def test_staff_groups_exist():
    assert set(Group.objects.filter(name__in=staff.ROLES).values_list("name", flat=True)) == set(
        staff.ROLES
    )


def test_grant_is_audited_and_implies_view(make_staff, tenant):
    admin = make_staff("Admin", tenant)
    agent = make_staff("Agent")
    added = staff.staff_access_grant(
        tenant=tenant, actor=Actor.staff(admin), user=agent, permissions=["manage_accounts"]
    )
    assert added == ["view_accounts", "manage_accounts"]
    assert staff.staff_can(user=agent, tenant=tenant, permission="manage_accounts")
    assert list(staff.tenants_for_staff(user=agent)) == [tenant]
    event = AuditEvent.objects.get(action="staff_access.granted")
    assert event.tenant == tenant and event.actor_label == admin.username
    assert event.diff["user"] == [None, agent.username]


def test_grant_twice_records_nothing_new(make_staff, tenant):
    admin = make_staff("Admin", tenant)
    agent = make_staff("Agent", tenant, perms=["view_accounts"])
    assert (
        staff.staff_access_grant(
            tenant=tenant, actor=Actor.staff(admin), user=agent, permissions=["view_accounts"]
        )
        == []
    )
    assert not AuditEvent.objects.filter(action="staff_access.granted").exists()


def test_unknown_permission_is_refused(make_staff, tenant):
    agent = make_staff("Agent")
    with pytest.raises(ValueError):
        staff.staff_access_grant(
            tenant=tenant, actor=Actor.system(), user=agent, permissions=["delete_everything"]
        )
    assert not staff.staff_can(user=agent, tenant=tenant, permission="view_accounts")


def test_revoke_view_revokes_everything_and_is_audited(make_staff, tenant):
    agent = make_staff("Agent", tenant)
    removed = staff.staff_access_revoke(
        tenant=tenant, actor=Actor.system(), user=agent, permissions=["view_accounts"]
    )
    assert set(removed) == set(staff.TENANT_PERMISSIONS)
    assert list(staff.tenants_for_staff(user=agent)) == []
    assert AuditEvent.objects.filter(action="staff_access.revoked", tenant=tenant).count() == 1


def test_revoke_one_permission_keeps_the_rest(make_staff, tenant):
    agent = make_staff("Agent", tenant, perms=["view_accounts", "manage_accounts"])
    staff.staff_access_revoke(
        tenant=tenant, actor=Actor.system(), user=agent, permissions=["manage_accounts"]
    )
    assert staff.staff_can(user=agent, tenant=tenant, permission="view_accounts")
    assert not staff.staff_can(user=agent, tenant=tenant, permission="manage_accounts")


def test_access_is_per_tenant(make_staff, tenant, other_tenant):
    agent = make_staff("Agent", tenant)
    assert staff.staff_can(user=agent, tenant=tenant, permission="manage_accounts")
    assert not staff.staff_can(user=agent, tenant=other_tenant, permission="view_accounts")
    assert list(staff.tenants_for_staff(user=agent)) == [tenant]


def test_role_and_permission_must_both_allow(make_staff, tenant):
    viewer = make_staff("Viewer", tenant)  # holds every permission, but is a Viewer
    assert staff.staff_may(user=viewer, tenant=tenant, action="account.view")
    assert not staff.staff_may(user=viewer, tenant=tenant, action="account.block")
    agent = make_staff(
        "Agent", tenant, perms=["view_accounts"]
    )  # the role allows, the grant does not
    assert not staff.staff_may(user=agent, tenant=tenant, action="account.block")
    lead = make_staff("Lead", tenant)
    assert staff.staff_may(user=lead, tenant=tenant, action="account.impersonate")
    assert not staff.staff_may(user=lead, tenant=tenant, action="tenant.administer")


def test_role_actions_grow_with_rank():
    assert (
        staff.ROLE_ACTIONS["Viewer"]
        < staff.ROLE_ACTIONS["Agent"]
        < staff.ROLE_ACTIONS["Lead"]
        < staff.ROLE_ACTIONS["Admin"]
    )
    assert (
        "account.delete" in staff.ROLE_ACTIONS["Admin"]
        and "account.delete" not in staff.ROLE_ACTIONS["Lead"]
    )


def test_highest_group_is_the_role(make_staff):
    user = make_staff("Viewer")
    user.groups.add(Group.objects.get(name="Lead"))
    assert staff.staff_role(user=user) == "Lead"
    assert staff.staff_role(user=make_staff(None)) is None


def test_allowed_actions_follow_the_grant(make_staff, tenant):
    agent = make_staff("Agent", tenant, perms=["view_accounts", "manage_accounts"])
    allowed = staff.staff_allowed_actions(user=agent, tenant=tenant)
    assert {"account.view", "account.block", "account.unlock"} <= allowed
    assert "security.reset" not in allowed and "tenant.administer" not in allowed
    assert staff.staff_allowed_actions(user=agent, tenant=TenantFactory()) == frozenset()


def test_inactive_user_can_nothing(make_staff, tenant):
    agent = make_staff("Agent", tenant)
    agent.is_active = False
    agent.save()
    assert not staff.staff_can(user=agent, tenant=tenant, permission="view_accounts")
    assert list(staff.tenants_for_staff(user=agent)) == []

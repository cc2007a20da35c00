"""staff.staff_access reads in two queries what guardian's get_perms and
get_objects_for_user answer one by one: the same tenants and permissions for every user, and
the groups that give the console role."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from portal import staff
from portal.models import Tenant

pytestmark = pytest.mark.django_db


def _as_guardian_reads(user, tenants):
    return (
        [t.pk for t in staff.tenants_for_staff(user=user)],
        [t.pk for t in staff.tenants_for_staff(user=user, permission="administer_tenant")],
        {t.pk: staff.staff_permissions(user=user, tenant=t) for t in tenants},
    )


def _as_one_read(user, tenants):
    access = staff.staff_access(user=user)
    return (
        [t.pk for t in access.tenants],
        [t.pk for t in access.admin_tenants],
        {t.pk: access.held_on(t) for t in tenants},
    )


def test_staff_access_agrees_with_guardian_for_own_group_super_and_no_permissions(
    tenant, other_tenant, django_assert_num_queries
):
    third = Tenant.objects.create(name="Aardvark", slug="aardvark")
    tenants = [tenant, other_tenant, third]
    User = get_user_model()
    leads = Group.objects.create(name="tenant-leads")
    assign_perm("portal.view_accounts", leads, other_tenant)
    assign_perm("portal.manage_accounts", leads, other_tenant)

    own = User.objects.create_user(username="own")
    assign_perm("portal.view_accounts", own, tenant)
    assign_perm("portal.view_accounts", own, third)
    grouped = User.objects.create_user(username="grouped")
    grouped.groups.add(leads)
    assign_perm("portal.view_accounts", grouped, tenant)
    # Administers a tenant it does not see: listed as administered only.
    admin_only = User.objects.create_user(username="admin-only")
    assign_perm("portal.administer_tenant", admin_only, third)
    nobody = User.objects.create_user(username="nobody")
    inactive = User.objects.create_user(username="inactive", is_active=False)
    assign_perm("portal.view_accounts", inactive, tenant)
    root = User.objects.create_superuser(username="root")

    for user in (own, grouped, admin_only, nobody, inactive, root):
        assert _as_one_read(user, tenants) == _as_guardian_reads(user, tenants), user.username
    # Sorted by name, as tenants_for_staff sorts them.
    assert [t.name for t in staff.staff_access(user=own).tenants] == sorted(
        [tenant.name, third.name]
    )
    assert staff.staff_access(user=grouped).held_on(other_tenant) == {
        "view_accounts",
        "manage_accounts",
    }
    with django_assert_num_queries(2):
        staff.staff_access(user=grouped)


def test_the_role_read_with_the_access_is_the_role_read_alone(tenant):
    """ConsoleContext takes the role from staff_access's groups: the same role as
    staff_role's own query, for every user, and none from a group that only shares a name's
    start or holds permissions but no role."""
    User = get_user_model()
    roles = {name: Group.objects.get_or_create(name=name)[0] for name in staff.ROLES}
    other = Group.objects.create(name="Agents of change")
    assign_perm("portal.view_accounts", other, tenant)
    users = [User.objects.create_user(username="none")]
    for name in staff.ROLES:
        user = User.objects.create_user(username=f"u-{name}")
        user.groups.add(roles[name], other)
        assign_perm("portal.view_accounts", user, tenant)
        users.append(user)
    two = User.objects.create_user(username="two")
    two.groups.add(roles[staff.ROLES[0]], roles[staff.ROLES[-1]])
    only_other = User.objects.create_user(username="only-other")
    only_other.groups.add(other)
    inactive = User.objects.create_user(username="gone", is_active=False)
    inactive.groups.add(roles[staff.ROLES[-1]])
    root = User.objects.create_superuser(username="root")
    for user in [*users, two, only_other, inactive, root]:
        access = staff.staff_access(user=user)
        assert staff.staff_role(user=user, groups=access.groups) == staff.staff_role(user=user), (
            user.username
        )
    assert staff.staff_access(user=two).groups == {staff.ROLES[0], staff.ROLES[-1]}
    assert staff.staff_role(user=only_other) is None
    # The group rows are not read as permissions on a tenant.
    assert staff.staff_access(user=only_other).held == {tenant.pk: {"view_accounts"}}

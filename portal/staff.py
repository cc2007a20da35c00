"""Staff access to tenants: roles (Django groups) combined with per-tenant object permissions.

A staff user may do something on a tenant only when both agree:
- their role (the highest of the groups Viewer < Agent < Lead < Admin they belong to)
  allows the console action, and
- they hold the tenant permission the action needs (django-guardian object permission
  on `Tenant`, granted per tenant with `staff_access_grant`).

Superusers hold every role and every permission.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Value
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import (
    assign_perm,
    get_objects_for_user,
    get_perms,
    get_users_with_perms,
    remove_perm,
)

from portal import audit, events
from portal.audit import Actor
from portal.models import Tenant

VIEWER, AGENT, LEAD, ADMIN = "Viewer", "Agent", "Lead", "Admin"
ROLES: tuple[str, ...] = (VIEWER, AGENT, LEAD, ADMIN)
ROLE_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES, start=1)}

# The per-tenant permissions declared on Tenant.Meta.
TENANT_PERMISSIONS: dict[str, str] = {
    "view_accounts": "View accounts",
    "manage_accounts": "Act on accounts",
    "manage_security": "Reset factors and sessions",
    "manage_roles": "Manage roles",
    "administer_tenant": "Administer tenant",
    "approve_requests": "Approve or deny requests",
}


@dataclass(frozen=True)
class ConsoleAction:
    """What a console action needs: the lowest role, and the tenant permission."""

    label: str
    role: str
    permission: str


# Every console action and what it needs. Views check these; templates hide what fails.
ACTIONS: dict[str, ConsoleAction] = {
    "account.view": ConsoleAction("See accounts", VIEWER, "view_accounts"),
    "audit.view": ConsoleAction("Read the audit log", VIEWER, "view_accounts"),
    "account.block": ConsoleAction("Block an account", AGENT, "manage_accounts"),
    "account.unblock": ConsoleAction("Unblock an account", AGENT, "manage_accounts"),
    "account.unlock": ConsoleAction("Unlock an account", AGENT, "manage_accounts"),
    "account.edit": ConsoleAction("Edit profile, emails and phone", AGENT, "manage_accounts"),
    "account.message": ConsoleAction(
        "Send verification and reset messages", AGENT, "manage_accounts"
    ),
    "security.reset": ConsoleAction("Reset factors and revoke sessions", AGENT, "manage_security"),
    "records.edit": ConsoleAction("Edit or delete custom-object records", AGENT, "manage_accounts"),
    "roles.manage": ConsoleAction(
        "Manage roles, assign them and edit role contexts", LEAD, "manage_roles"
    ),
    "account.impersonate": ConsoleAction("Issue an impersonation token", LEAD, "manage_security"),
    "account.secure": ConsoleAction("Secure a compromised account", LEAD, "manage_security"),
    "account.delete": ConsoleAction("Delete an account", ADMIN, "manage_accounts"),
    "access.grant": ConsoleAction(
        "Give someone time-boxed access to accounts", LEAD, "manage_accounts"
    ),
    "approvals.decide": ConsoleAction(
        "Approve or deny another person's request", LEAD, "approve_requests"
    ),
    "tenant.administer": ConsoleAction(
        "Manage credentials, settings and staff access", ADMIN, "administer_tenant"
    ),
}

# Which actions each role may perform (on tenants where the permission is granted too).
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    role: frozenset(name for name, a in ACTIONS.items() if ROLE_RANK[a.role] <= ROLE_RANK[role])
    for role in ROLES
}


def _perm(permission: str) -> str:
    if permission not in TENANT_PERMISSIONS:
        raise ValueError(f"unknown tenant permission {permission!r}")
    return f"portal.{permission}"


def staff_role(*, user, groups: frozenset[str] | None = None) -> str | None:
    """The highest role of `user`, or None when they hold none. Pass `groups` (the names of
    the user's groups, as StaffAccess reads them) when already known, to spare the query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    names = set(user.groups.values_list("name", flat=True)) if groups is None else groups
    held = [role for role in ROLES if role in names]
    return held[-1] if held else None


def role_at_least(*, user, role: str) -> bool:
    held = staff_role(user=user)
    return held is not None and ROLE_RANK[held] >= ROLE_RANK[role]


def staff_can(*, user, tenant: Tenant, permission: str) -> bool:
    """Whether `user` holds `permission` on `tenant` (guardian object permission)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or tenant is None:
        return False
    return user.has_perm(_perm(permission), tenant)


def staff_may(*, user, tenant: Tenant, action: str) -> bool:
    """Whether `user` may perform console `action` on `tenant`: role and permission agree."""
    spec = ACTIONS[action]
    return role_at_least(user=user, role=spec.role) and staff_can(
        user=user, tenant=tenant, permission=spec.permission
    )


def staff_permissions(*, user, tenant: Tenant | None) -> frozenset[str]:
    """The tenant permissions `user` holds on `tenant` (codenames), read at once; a superuser
    holds them all, as `staff_can` says."""
    if tenant is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(TENANT_PERMISSIONS)
    return frozenset(get_perms(user, tenant))


def held_allows(*, user, held: frozenset[str], permission: str) -> bool:
    """`staff_can` answered from `held` (staff_permissions of the same user and tenant)."""
    _perm(permission)
    return bool(getattr(user, "is_authenticated", False) and user.is_active) and (
        permission in held
    )


def staff_allowed_actions(
    *, user, tenant: Tenant | None, role: str | None = "", held: frozenset[str] | None = None
) -> frozenset[str]:
    """Every console action `user` may perform on `tenant` (for templates to hide the rest).
    Pass `role` and `held` (staff_permissions) when already known, to spare their queries."""
    if tenant is None:
        return frozenset()
    if role == "":
        role = staff_role(user=user)
    if role is None:
        return frozenset()
    if user.is_superuser:
        return ROLE_ACTIONS[ADMIN]
    if held is None:
        held = staff_permissions(user=user, tenant=tenant)
    return frozenset(a for a in ROLE_ACTIONS[role] if ACTIONS[a].permission in held)


@dataclass(frozen=True)
class StaffAccess:
    """What a staff member holds, read at once for a console page: the tenants they see
    (view_accounts), those they administer, and their permissions on each, by tenant id."""

    tenants: list[Tenant]
    admin_tenants: list[Tenant]
    held: dict[int, frozenset[str]]
    # The names of the user's groups (their console role: staff_role).
    groups: frozenset[str] = frozenset()

    def held_on(self, tenant: Tenant | None) -> frozenset[str]:
        return self.held.get(tenant.pk, frozenset()) if tenant is not None else frozenset()


# Marks the rows of staff_access's one query that name a group of the user, not a permission
# (a tenant's object_pk is its id: digits only).
_GROUP_ROW = "group"


def staff_access(*, user) -> StaffAccess:
    """The groups, tenants and tenant permissions of `user` in two queries: their groups'
    names with the permissions their user and their groups hold on tenants (guardian's
    object permissions, as `get_perms` and `tenants_for_staff` read them), then those
    tenants by name. A superuser holds every permission on every tenant."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return StaffAccess(tenants=[], admin_tenants=[], held={})
    if user.is_superuser:
        every = list(Tenant.objects.order_by("name"))
        full = frozenset(TENANT_PERMISSIONS)
        return StaffAccess(tenants=every, admin_tenants=every, held={t.pk: full for t in every})
    kind = ContentType.objects.get_for_model(Tenant)
    own = UserObjectPermission.objects.filter(user_id=user.pk, content_type=kind)
    through_groups = GroupObjectPermission.objects.filter(group__user=user.pk, content_type=kind)
    groups = Group.objects.filter(user=user.pk).annotate(
        marker=Value(_GROUP_ROW, output_field=CharField())
    )
    pairs = own.values_list("object_pk", "permission__codename").union(
        through_groups.values_list("object_pk", "permission__codename"),
        groups.values_list("marker", "name"),
        all=True,
    )
    held: dict[int, set[str]] = {}
    names: set[str] = set()
    for object_pk, codename in pairs:
        if object_pk == _GROUP_ROW:
            names.add(codename)
        elif str(object_pk).isdigit():
            held.setdefault(int(object_pk), set()).add(codename)
    seen = {pk for pk, perms in held.items() if "view_accounts" in perms}
    administered = {pk for pk, perms in held.items() if "administer_tenant" in perms}
    tenants = list(Tenant.objects.filter(pk__in=seen | administered).order_by("name"))
    return StaffAccess(
        tenants=[t for t in tenants if t.pk in seen],
        admin_tenants=[t for t in tenants if t.pk in administered],
        held={pk: frozenset(perms) for pk, perms in held.items()},
        groups=frozenset(names),
    )


def tenants_for_staff(*, user, permission: str = "view_accounts"):
    """The tenants on which `user` holds `permission` (a queryset, by name)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Tenant.objects.none()
    return get_objects_for_user(
        user, _perm(permission), klass=Tenant, accept_global_perms=False
    ).order_by("name")


def tenant_staff_list(*, tenant: Tenant) -> list[tuple[object, list[str]]]:
    """Staff holding any permission on `tenant`, with the permissions they hold."""
    users = get_users_with_perms(
        tenant, attach_perms=True, with_superusers=False, with_group_users=False
    )
    rows = []
    for user, perms in sorted(users.items(), key=lambda item: item[0].get_username()):
        rows.append((user, [p for p in TENANT_PERMISSIONS if p in perms]))
    return rows


def staff_users():
    """Active users holding a console role (candidates for a grant)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=ROLES)
        .distinct()
        .order_by("username")
    )


@transaction.atomic
@events.emits("staff_access.granted")
def staff_access_grant(*, tenant: Tenant, actor: Actor, user, permissions: list[str]) -> list[str]:
    """Grant `user` these permissions on `tenant`; returns those newly granted.

    Granting a permission implies `view_accounts`: no action works on an unseen tenant.
    """
    wanted = [p for p in TENANT_PERMISSIONS if p in set(permissions) | {"view_accounts"}]
    for p in permissions:
        _perm(p)
    before = set(get_perms(user, tenant))
    added = [p for p in wanted if p not in before]
    for p in added:
        assign_perm(_perm(p), user, tenant)
    if added:
        audit.record(
            tenant=tenant,
            actor=actor,
            action="staff_access.granted",
            changes={
                "user": [None, user.get_username()],
                "permissions": [
                    sorted(before & set(TENANT_PERMISSIONS)),
                    sorted(before | set(added)),
                ],
            },
        )
    return added


@transaction.atomic
@events.emits("staff_access.revoked")
def staff_access_revoke(
    *, tenant: Tenant, actor: Actor, user, permissions: list[str] | None = None, reason: str = ""
) -> list[str]:
    """Take permissions on `tenant` away from `user` (all of them when `permissions` is None);
    revoking `view_accounts` revokes everything, since nothing works without it."""
    before = set(get_perms(user, tenant)) & set(TENANT_PERMISSIONS)
    if permissions is None or "view_accounts" in permissions:
        removing = sorted(before)
    else:
        for p in permissions:
            _perm(p)
        removing = sorted(before & set(permissions))
    for p in removing:
        remove_perm(_perm(p), user, tenant)
    if removing:
        audit.record(
            tenant=tenant,
            actor=actor,
            action="staff_access.revoked",
            reason=reason,
            changes={
                "user": [user.get_username(), user.get_username()],
                "permissions": [sorted(before), sorted(before - set(removing))],
            },
        )
    return removing

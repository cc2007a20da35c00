"""Roles assigned to an account directly."""

from collections.abc import Iterable

from django.db import transaction

from portal import audit, events
from portal.audit import Actor
from portal.errors import (
    FieldRequired,
)
from portal.models import Tenant
from roles import permission_cache
from roles.commands import (
    AccountRolesAssign,
    AccountRolesSet,
    AccountRolesUnassign,
)
from roles.models import AccountRole
from roles.services.checks import (
    account_check,
    roles_by_name,
)


def _assigned_names(account) -> list[str]:
    return sorted(AccountRole.objects.filter(account=account).values_list("role__name", flat=True))


@events.emits("account_roles.assigned")
def account_roles_assign(
    command: AccountRolesAssign, *, tenant: Tenant, actor: Actor, account
) -> list[str]:
    """Add roles to an account (kept ones stay); returns every role it now holds."""

    def add(roles):
        AccountRole.objects.bulk_create(
            [AccountRole(tenant=tenant, account=account, role=role) for role in roles],
            ignore_conflicts=True,
        )

    return _account_roles_change(
        tenant=tenant,
        actor=actor,
        account=account,
        role_names=command.roles,
        reason=command.reason,
        ticket=command.ticket,
        action="account_roles.assigned",
        change=add,
    )


@events.emits("account_roles.unassigned")
def account_roles_unassign(
    command: AccountRolesUnassign, *, tenant: Tenant, actor: Actor, account
) -> list[str]:
    """Take roles from an account; a role it does not hold is ignored, an unknown one is RoleNotFound."""

    def remove(roles):
        AccountRole.objects.filter(account=account, role__in=roles).delete()

    return _account_roles_change(
        tenant=tenant,
        actor=actor,
        account=account,
        role_names=command.roles,
        reason=command.reason,
        ticket=command.ticket,
        action="account_roles.unassigned",
        change=remove,
    )


def _account_roles_change(
    *,
    tenant: Tenant,
    actor: Actor,
    account,
    role_names: Iterable[str],
    reason: str,
    ticket: str,
    action: str,
    change,
) -> list[str]:
    """The shared rules of assign and unassign: checks, one audit event when the set of
    roles changed, and the permission cache dropped after commit."""
    account_check(tenant=tenant, account=account)
    if not role_names:
        raise FieldRequired("Roles", "The value of Roles can not be null or empty.")
    with transaction.atomic():
        roles = roles_by_name(tenant=tenant, names=role_names)
        before = _assigned_names(account)
        change(roles)
        after = _assigned_names(account)
        if after != before:
            audit.record(
                tenant=tenant,
                actor=actor,
                action=action,
                subject_uid=account.uid,
                reason=reason,
                ticket=ticket,
                changes=audit.diff({"roles": before}, {"roles": after}),
            )
            permission_cache.invalidate_accounts_on_commit([account.pk])
    return after


@events.emits("account_roles.replaced")
def account_roles_set(
    command: AccountRolesSet, *, tenant: Tenant, actor: Actor, account
) -> list[str]:
    """Give an account exactly the roles named (none: take every one): assigned and taken
    away in one change with one event. An unknown role is RoleNotFound and nothing changes;
    an unchanged set records nothing."""
    account_check(tenant=tenant, account=account)
    with transaction.atomic():
        roles = roles_by_name(tenant=tenant, names=command.roles) if command.roles else []
        before = _assigned_names(account)
        AccountRole.objects.filter(account=account).exclude(role__in=roles).delete()
        AccountRole.objects.bulk_create(
            [AccountRole(tenant=tenant, account=account, role=role) for role in roles],
            ignore_conflicts=True,
        )
        after = _assigned_names(account)
        if after != before:
            audit.record(
                tenant=tenant,
                actor=actor,
                action="account_roles.replaced",
                subject_uid=account.uid,
                reason=command.reason,
                ticket=command.ticket,
                changes=audit.diff({"roles": before}, {"roles": after}),
            )
            permission_cache.invalidate_accounts_on_commit([account.pk])
    return after

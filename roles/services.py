"""Every write to roles, assignments and role contexts.

Each service takes one typed command (roles/commands.py), runs in one transaction, records
one audit event with a diff in it, and invalidates the effective-permissions cache after
the commit (see permission_cache). A command naming a role context may carry
`expected_version` (selectors.role_context_version): a context that changed since is
RoleContextVersionStale and nothing changes.
"""

import re
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal import audit, events
from portal.audit import Actor
from portal.errors import (
    AccountNotFound,
    FieldRequired,
    InvalidValue,
    PermissionNotFound,
    RoleContextNameInvalid,
    RoleContextNotFound,
    RoleContextVersionStale,
    RoleNameInvalid,
    RoleNameTaken,
    RoleNotFound,
    RoleNotInContext,
)
from portal.models import Tenant
from roles import permission_cache
from roles.commands import (
    AccountRolesAssign,
    AccountRolesUnassign,
    RoleContextDelete,
    RoleContextGrant,
    RoleContextPermissionsRemove,
    RoleContextRolesRemove,
    RoleDelete,
    RolePermissionsAdd,
    RolePermissionsRemove,
    RolesCreate,
)
from roles.models import AccountRole, Role, RoleContext
from roles.selectors import role_context_version

NAME_RE = re.compile(r"^[A-Za-z0-9_.:@\-]{1,100}$")
PERMISSION_MAX_LENGTH = 100


def _distinct(names: Iterable[str]) -> list[str]:
    return sorted(set(names))


def _check_permissions(permissions: Iterable[str]) -> list[str]:
    cleaned = []
    for permission in permissions:
        if (
            not isinstance(permission, str)
            or not permission.strip()
            or len(permission) > PERMISSION_MAX_LENGTH
        ):
            raise InvalidValue(
                "Permissions",
                "The value of Permissions must be a list of names of at most 100 characters.",
            )
        cleaned.append(permission.strip())
    return _distinct(cleaned)


def _roles_by_name(*, tenant: Tenant, names: Iterable[str]) -> list[Role]:
    """The roles with these names, or RoleNotFound naming the first that does not exist."""
    wanted = _distinct(names)
    found = {role.name: role for role in Role.objects.filter(tenant=tenant, name__in=wanted)}
    for name in wanted:
        if name not in found:
            raise RoleNotFound(name)
    return [found[name] for name in wanted]


def _check_account(tenant: Tenant, account) -> None:
    """Another tenant's account is "not found", whoever passed it in."""
    if account.tenant_id != tenant.pk:
        raise AccountNotFound()


def _check_context_name(name) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise RoleContextNameInvalid()
    return name


def _moment(version: str) -> datetime:
    try:
        moment = datetime.fromisoformat(version)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidValue(
            "expected_version", "The expected_version must be an RFC 3339 date-time with offset."
        )
    return moment


def _check_version(context: RoleContext | None, expected: str | None) -> None:
    """Refuse a command that expected another version of the context (or one now gone)."""
    if expected is None:
        return
    wanted = _moment(expected)
    if context is None:
        raise RoleContextVersionStale(None)
    if wanted != context.modified:
        raise RoleContextVersionStale(role_context_version(context))


# Roles ---------------------------------------------------------------------------------


@events.emits("role.created")
def roles_create(command: RolesCreate, *, tenant: Tenant, actor: Actor) -> list[Role]:
    """Create several roles at once: all of them, or none if one name is invalid or taken."""
    roles, reason, ticket = command.roles, command.reason, command.ticket
    if not roles:
        raise FieldRequired("Roles", "The value of Roles can not be null or empty.")
    names = [item.name for item in roles]
    for name in names:
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise RoleNameInvalid()
    if len(set(names)) != len(names):
        raise RoleNameInvalid("The same role name appears more than once.")
    cleaned = [(item.name, _check_permissions(item.permissions)) for item in roles]
    with transaction.atomic():
        if Role.objects.filter(tenant=tenant, name__in=names).exists():
            raise RoleNameTaken()
        try:
            with transaction.atomic():
                created = Role.objects.bulk_create(
                    [Role(tenant=tenant, name=name, permissions=perms) for name, perms in cleaned]
                )
        except IntegrityError as exc:  # created concurrently under the same name
            raise RoleNameTaken() from exc
        for role in created:
            audit.record(
                tenant=tenant,
                actor=actor,
                action="role.created",
                reason=reason,
                ticket=ticket,
                changes=audit.diff({}, {"name": role.name, "permissions": role.permissions}),
            )
    return sorted(created, key=lambda role: role.name)


@events.emits("role.deleted")
def role_delete(command: RoleDelete, *, tenant: Tenant, actor: Actor) -> None:
    """Delete a role and, in the same transaction, take it from every account and context."""
    name, reason, ticket = command.name, command.reason, command.ticket
    with transaction.atomic():
        role = Role.objects.select_for_update().filter(tenant=tenant, name=name or "").first()
        if role is None:
            raise RoleNotFound()
        assigned = sorted(
            AccountRole.objects.filter(role=role).values_list("account__uid", flat=True)
        )
        contexts = sorted(
            f"{uid}/{context}"
            for uid, context in RoleContext.objects.filter(roles=role).values_list(
                "account__uid", "name"
            )
        )
        before = {
            "name": role.name,
            "permissions": role.permissions,
            "accounts": assigned,
            "contexts": contexts,
        }
        # The contexts holding it change: their version moves on.
        RoleContext.objects.filter(roles=role).update(modified=timezone.now())
        # AccountRole rows and context memberships go with it (ON DELETE CASCADE).
        role.delete()
        audit.record(
            tenant=tenant,
            actor=actor,
            action="role.deleted",
            reason=reason,
            ticket=ticket,
            changes=audit.diff(before, {"accounts": [], "contexts": []}),
        )
        permission_cache.invalidate_tenant_on_commit(tenant.pk)


def _role_permissions_change(
    *, tenant, actor, name, permissions, add: bool, reason="", ticket=""
) -> Role:
    requested = _check_permissions(permissions)
    if not requested:
        raise FieldRequired("Permissions", "The value of Permissions can not be null or empty.")
    with transaction.atomic():
        role = Role.objects.select_for_update().filter(tenant=tenant, name=name or "").first()
        if role is None:
            raise RoleNotFound()
        before = list(role.permissions or [])
        after = (
            _distinct(set(before) | set(requested))
            if add
            else _distinct(set(before) - set(requested))
        )
        if after != before:
            role.permissions = after
            role.save(update_fields=["permissions", "modified"])
            audit.record(
                tenant=tenant,
                actor=actor,
                action="role.permissions_changed",
                reason=reason,
                ticket=ticket,
                changes={
                    "name": role.name,
                    **audit.diff({"permissions": before}, {"permissions": after}),
                },
            )
            permission_cache.invalidate_tenant_on_commit(tenant.pk)
    return role


@events.emits("role.permissions_changed")
def role_permissions_add(command: RolePermissionsAdd, *, tenant: Tenant, actor: Actor) -> Role:
    """Grant more permissions through a role, to everyone holding it."""
    return _role_permissions_change(
        tenant=tenant,
        actor=actor,
        name=command.name,
        permissions=command.permissions,
        add=True,
        reason=command.reason,
        ticket=command.ticket,
    )


@events.emits("role.permissions_changed")
def role_permissions_remove(
    command: RolePermissionsRemove, *, tenant: Tenant, actor: Actor
) -> Role:
    """Withdraw permissions from a role; names it does not hold are ignored."""
    return _role_permissions_change(
        tenant=tenant,
        actor=actor,
        name=command.name,
        permissions=command.permissions,
        add=False,
        reason=command.reason,
        ticket=command.ticket,
    )


# Account assignments -------------------------------------------------------------------


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
    _check_account(tenant, account)
    if not role_names:
        raise FieldRequired("Roles", "The value of Roles can not be null or empty.")
    with transaction.atomic():
        roles = _roles_by_name(tenant=tenant, names=role_names)
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


# Role contexts -------------------------------------------------------------------------


@events.reads
def context_state(context: RoleContext | None) -> dict:
    if context is None:
        return {}
    return {
        "roles": sorted(role.name for role in context.roles.all()),
        "additional_permissions": list(context.additional_permissions or []),
        "expiration": context.expiration.isoformat() if context.expiration else None,
    }


@events.emits("role_context.created", "role_context.updated")
def role_contexts_upsert(
    command: RoleContextGrant, *, tenant: Tenant, actor: Actor, account
) -> list[RoleContext]:
    """Create contexts or add to them: roles and additional permissions are added to what a
    context holds (the removals take them away); the expiration replaces the stored one
    (`None` = never expires) unless `keep_expiration`. A context whose expected version is
    stale refuses the whole command. Returns the contexts that changed."""
    contexts, reason, ticket = command.contexts, command.reason, command.ticket
    _check_account(tenant, account)
    if not contexts:
        raise FieldRequired("RoleContext", "The value of RoleContext can not be null or empty.")
    names = [_check_context_name(item.name) for item in contexts]
    if len(set(names)) != len(names):
        raise RoleContextNameInvalid("The same role context appears more than once.")
    cleaned = []
    for item in contexts:
        cleaned.append((item, _check_permissions(item.additional_permissions)))
    with transaction.atomic():
        changed: list[RoleContext] = []
        for item, additional in cleaned:
            roles = _roles_by_name(tenant=tenant, names=item.roles)
            if item.expected_version is not None:
                _check_version(
                    RoleContext.objects.select_for_update()
                    .filter(account=account, name=item.name)
                    .first(),
                    item.expected_version,
                )
            context, created = RoleContext.objects.get_or_create(
                tenant=tenant, account=account, name=item.name
            )
            context = RoleContext.objects.select_for_update().get(pk=context.pk)
            before = {} if created else context_state(context)
            context.additional_permissions = _distinct(
                set(context.additional_permissions or []) | set(additional)
            )
            if not item.keep_expiration:
                context.expiration = item.expiration
            context.roles.add(*roles)
            after = context_state(context)
            if after != before:
                # Saved only when something changed, so its version moves only then.
                context.save(update_fields=["additional_permissions", "expiration", "modified"])
                changed.append(context)
                audit.record(
                    tenant=tenant,
                    actor=actor,
                    action="role_context.created" if created else "role_context.updated",
                    subject_uid=account.uid,
                    reason=reason,
                    ticket=ticket,
                    changes={"context": item.name, **audit.diff(before, after)},
                )
        if changed:
            permission_cache.invalidate_accounts_on_commit([account.pk])
    return changed


@events.emits("role_context.deleted")
def role_context_delete(
    command: RoleContextDelete, *, tenant: Tenant, actor: Actor, account
) -> None:
    """Remove a context of the account with everything it grants."""
    name, reason, ticket = command.name, command.reason, command.ticket
    _check_account(tenant, account)
    with transaction.atomic():
        context = RoleContext.objects.select_for_update().filter(account=account, name=name).first()
        if context is None:
            raise RoleContextNotFound()
        _check_version(context, command.expected_version)
        before = context_state(context)
        context.delete()
        audit.record(
            tenant=tenant,
            actor=actor,
            action="role_context.deleted",
            subject_uid=account.uid,
            reason=reason,
            ticket=ticket,
            changes={"context": name, **audit.diff(before, {})},
        )
        permission_cache.invalidate_accounts_on_commit([account.pk])


@events.emits("role_context.updated")
def role_context_roles_remove(
    command: RoleContextRolesRemove, *, tenant: Tenant, actor: Actor, account
) -> None:
    """Take roles out of a context; each must be in it (RoleNotInContext otherwise)."""
    name, role_names = command.name, command.roles
    reason, ticket = command.reason, command.ticket
    _check_account(tenant, account)
    if not role_names:
        raise FieldRequired("Roles", "The value of Roles can not be null or empty.")
    with transaction.atomic():
        context = RoleContext.objects.select_for_update().filter(account=account, name=name).first()
        if context is None:
            raise RoleContextNotFound()
        _check_version(context, command.expected_version)
        held = {role.name: role for role in context.roles.all()}
        for role_name in _distinct(role_names):
            if role_name not in held:
                raise RoleNotInContext(role_name)
        before = context_state(context)
        context.roles.remove(*[held[n] for n in set(role_names)])
        context.save(update_fields=["modified"])
        after = context_state(context)
        audit.record(
            tenant=tenant,
            actor=actor,
            action="role_context.updated",
            subject_uid=account.uid,
            reason=reason,
            ticket=ticket,
            changes={"context": name, **audit.diff(before, after)},
        )
        permission_cache.invalidate_accounts_on_commit([account.pk])


@events.emits("role_context.updated")
def role_context_permissions_remove(
    command: RoleContextPermissionsRemove, *, tenant: Tenant, actor: Actor, account
) -> None:
    """Take additional permissions out of a context; each must be in it (PermissionNotFound otherwise)."""
    name, permissions = command.name, command.permissions
    reason, ticket = command.reason, command.ticket
    _check_account(tenant, account)
    if not permissions:
        raise FieldRequired(
            "AdditionalPermissions", "The value of AdditionalPermissions can not be null or empty."
        )
    requested = _check_permissions(permissions)
    with transaction.atomic():
        context = RoleContext.objects.select_for_update().filter(account=account, name=name).first()
        if context is None:
            raise RoleContextNotFound()
        _check_version(context, command.expected_version)
        before = context_state(context)
        held = set(context.additional_permissions or [])
        for permission in requested:
            if permission not in held:
                raise PermissionNotFound()
        context.additional_permissions = _distinct(held - set(requested))
        context.save(update_fields=["additional_permissions", "modified"])
        audit.record(
            tenant=tenant,
            actor=actor,
            action="role_context.updated",
            subject_uid=account.uid,
            reason=reason,
            ticket=ticket,
            changes={"context": name, **audit.diff(before, context_state(context))},
        )
        permission_cache.invalidate_accounts_on_commit([account.pk])

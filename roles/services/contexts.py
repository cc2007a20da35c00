"""Role contexts: roles and permissions an account holds in a named context, until an expiry.

A command naming a context may carry `expected_version` (selectors.role_context_version): a
context that changed since is RoleContextVersionStale and nothing changes."""

from datetime import datetime

from django.db import transaction

from portal import audit, events
from portal.audit import Actor
from portal.errors import (
    FieldRequired,
    InvalidValue,
    PermissionNotFound,
    RoleContextNameInvalid,
    RoleContextNotFound,
    RoleContextVersionStale,
    RoleNotInContext,
)
from portal.models import Tenant
from roles import permission_cache
from roles.commands import (
    RoleContextDelete,
    RoleContextGrant,
    RoleContextPermissionsRemove,
    RoleContextRolesRemove,
)
from roles.models import RoleContext
from roles.selectors import role_context_version
from roles.services.checks import (
    account_check,
    context_name_check,
    distinct_names,
    permissions_checked,
    roles_by_name,
)


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
    account_check(tenant=tenant, account=account)
    if not contexts:
        raise FieldRequired("RoleContext", "The value of RoleContext can not be null or empty.")
    names = [context_name_check(item.name) for item in contexts]
    if len(set(names)) != len(names):
        raise RoleContextNameInvalid("The same role context appears more than once.")
    cleaned = []
    for item in contexts:
        cleaned.append((item, permissions_checked(item.additional_permissions)))
    with transaction.atomic():
        changed: list[RoleContext] = []
        for item, additional in cleaned:
            roles = roles_by_name(tenant=tenant, names=item.roles)
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
            context.additional_permissions = distinct_names(
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
    account_check(tenant=tenant, account=account)
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
    account_check(tenant=tenant, account=account)
    if not role_names:
        raise FieldRequired("Roles", "The value of Roles can not be null or empty.")
    with transaction.atomic():
        context = RoleContext.objects.select_for_update().filter(account=account, name=name).first()
        if context is None:
            raise RoleContextNotFound()
        _check_version(context, command.expected_version)
        held = {role.name: role for role in context.roles.all()}
        for role_name in distinct_names(role_names):
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
    account_check(tenant=tenant, account=account)
    if not permissions:
        raise FieldRequired(
            "AdditionalPermissions", "The value of AdditionalPermissions can not be null or empty."
        )
    requested = permissions_checked(permissions)
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
        context.additional_permissions = distinct_names(held - set(requested))
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

"""Roles and their permissions."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal import audit, events
from portal.audit import Actor
from portal.errors import (
    FieldError,
    FieldRequired,
    InvalidInput,
    RoleNameInvalid,
    RoleNameTaken,
    RoleNotFound,
)
from portal.models import Tenant
from roles import permission_cache
from roles.commands import (
    RoleDelete,
    RolePermissionsAdd,
    RolePermissionsRemove,
    RolePermissionsSet,
    RolesCreate,
)
from roles.models import AccountRole, Role, RoleContext
from roles.services.checks import (
    NAME_RE,
    distinct_names,
    permissions_checked,
)

DESCRIPTION_MAX_LENGTH = 500


def _description_checked(value: object) -> str:
    """A role's description: text of at most DESCRIPTION_MAX_LENGTH characters."""
    if not isinstance(value, str) or len(value.strip()) > DESCRIPTION_MAX_LENGTH:
        raise InvalidInput(
            field_errors=[
                FieldError("description", f"Text of at most {DESCRIPTION_MAX_LENGTH} characters.")
            ]
        )
    return value.strip()


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
    cleaned = [
        (item.name, permissions_checked(item.permissions), _description_checked(item.description))
        for item in roles
    ]
    with transaction.atomic():
        if Role.objects.filter(tenant=tenant, name__in=names).exists():
            raise RoleNameTaken()
        try:
            with transaction.atomic():
                created = Role.objects.bulk_create(
                    [
                        Role(tenant=tenant, name=name, permissions=perms, description=described)
                        for name, perms, described in cleaned
                    ]
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
                changes=audit.diff(
                    {},
                    {
                        "name": role.name,
                        "permissions": role.permissions,
                        **({"description": role.description} if role.description else {}),
                    },
                ),
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
    requested = permissions_checked(permissions)
    if not requested:
        raise FieldRequired("Permissions", "The value of Permissions can not be null or empty.")
    with transaction.atomic():
        role = Role.objects.select_for_update().filter(tenant=tenant, name=name or "").first()
        if role is None:
            raise RoleNotFound()
        before = list(role.permissions or [])
        after = (
            distinct_names(set(before) | set(requested))
            if add
            else distinct_names(set(before) - set(requested))
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


@events.emits("role.permissions_changed")
def role_permissions_set(command: RolePermissionsSet, *, tenant: Tenant, actor: Actor) -> Role:
    """Give a role exactly the permissions named (none: an empty list), adding and taking
    away in one change with one event, and its privilege and description when given; an
    unchanged role records nothing."""
    wanted = (
        None
        if command.permissions is None
        else distinct_names(permissions_checked(command.permissions))
    )
    described = None if command.description is None else _description_checked(command.description)
    with transaction.atomic():
        role = Role.objects.select_for_update().filter(tenant=tenant, name=command.name).first()
        if role is None:
            raise RoleNotFound()
        permissions: list[str] = list(role.permissions or [])
        new_permissions = permissions if wanted is None else wanted
        privileged = role.privileged if command.privileged is None else command.privileged
        description = role.description if described is None else described
        changed = audit.diff(
            {
                "permissions": distinct_names(permissions),
                "privileged": role.privileged,
                "description": role.description,
            },
            {"permissions": new_permissions, "privileged": privileged, "description": description},
        )
        if changed:
            role.permissions, role.privileged = new_permissions, privileged
            role.description = description
            role.save(update_fields=["permissions", "privileged", "description", "modified"])
            audit.record(
                tenant=tenant,
                actor=actor,
                action="role.permissions_changed",
                reason=command.reason,
                ticket=command.ticket,
                changes={"name": role.name, **changed},
            )
            permission_cache.invalidate_tenant_on_commit(tenant.pk)
    return role

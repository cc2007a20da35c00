"""Checks every roles service runs on its input: names, permissions, roles and the account."""

import re
from collections.abc import Iterable

from portal import events
from portal.errors import (
    AccountNotFound,
    InvalidValue,
    RoleContextNameInvalid,
    RoleNotFound,
)
from portal.models import Tenant
from roles.models import Role

NAME_RE = re.compile(r"^[A-Za-z0-9_.:@\-]{1,100}$")
PERMISSION_MAX_LENGTH = 100


@events.reads
def distinct_names(names: Iterable[str]) -> list[str]:
    """The names once each, in order."""
    return sorted(set(names))


@events.reads
def permissions_checked(permissions: Iterable[str]) -> list[str]:
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
    return distinct_names(cleaned)


@events.reads
def roles_by_name(*, tenant: Tenant, names: Iterable[str]) -> list[Role]:
    """The roles with these names, or RoleNotFound naming the first that does not exist."""
    wanted = distinct_names(names)
    found = {role.name: role for role in Role.objects.filter(tenant=tenant, name__in=wanted)}
    for name in wanted:
        if name not in found:
            raise RoleNotFound(name)
    return [found[name] for name in wanted]


@events.reads
def account_check(*, tenant: Tenant, account) -> None:
    """Another tenant's account is "not found", whoever passed it in."""
    if account.tenant_id != tenant.pk:
        raise AccountNotFound()


@events.reads
def context_name_check(name) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise RoleContextNameInvalid()
    return name

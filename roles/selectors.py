"""Reads of roles, assignments and role contexts, and the effective-permissions answer."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from portal.errors import AccountNotFound, RoleContextNotFound, RoleNotFound
from portal.models import Tenant
from roles import permission_cache
from roles.models import AccountRole, Role, RoleContext


def account_role_names(*, account) -> list[str]:
    """Names of the roles assigned to `account` (the profile's `Roles`)."""
    return list(
        Role.objects.filter(assignments__account=account)
        .order_by("name")
        .values_list("name", flat=True)
    )


def accounts_role_names(*, accounts) -> dict[int, list[str]]:
    """`account_role_names` of several accounts in one query, by account id."""
    names: dict[int, list[str]] = {account.pk: [] for account in accounts}
    rows = (
        AccountRole.objects.filter(account_id__in=list(names))
        .order_by("role__name")
        .values_list("account_id", "role__name")
    )
    for account_id, name in rows:
        names[account_id].append(name)
    return names


def account_role_names_sql(*, outer_account_id: str) -> str:
    """`account_role_names` as a jsonb array, for a query whose account id column is
    `outer_account_id` (SQL), so the names load with the account (PostgreSQL)."""
    from django.db import connection

    qn = connection.ops.quote_name
    role, assignment = qn(Role._meta.db_table), qn(AccountRole._meta.db_table)
    account_id = qn(AccountRole._meta.get_field("account").column)
    role_id = qn(AccountRole._meta.get_field("role").column)
    # Only model metadata goes into this text, never input.
    return (
        f"(SELECT COALESCE(jsonb_agg(r.{qn('name')} ORDER BY r.{qn('name')}), '[]'::jsonb) "  # noqa: S608
        f"FROM {role} r INNER JOIN {assignment} a ON a.{role_id} = r.{qn('id')} "
        f"WHERE a.{account_id} = {outer_account_id})"
    )


def role_list(*, tenant: Tenant) -> list[Role]:
    return list(Role.objects.filter(tenant=tenant).order_by("name"))


def role_get(*, tenant: Tenant, name: str | None) -> Role:
    """The role with this name in this tenant, or RoleNotFound."""
    role = Role.objects.filter(tenant=tenant, name=name or "").first()
    if role is None:
        raise RoleNotFound()
    return role


def role_context_list(*, account) -> list[RoleContext]:
    """Every context of the account, expired ones included (they are still stored)."""
    return list(
        RoleContext.objects.filter(account=account)
        .prefetch_related(Prefetch("roles", queryset=Role.objects.order_by("name")))
        .order_by("name")
    )


def role_context_get(*, account, name: str) -> RoleContext:
    """The account's context with this name, or RoleContextNotFound."""
    context = RoleContext.objects.filter(account=account, name=name).first()
    if context is None:
        raise RoleContextNotFound()
    return context


def role_context_version(context: RoleContext) -> str:
    """The version of a role context a command's `expected_version` names: the time of its
    last change, RFC 3339 with microseconds."""
    return context.modified.astimezone(UTC).isoformat(timespec="microseconds")


def role_context_list_by_name(*, tenant: Tenant, name: str) -> list[RoleContext]:
    """Every account of the tenant holding a context of this name, with the account loaded."""
    return list(
        RoleContext.objects.filter(tenant=tenant, name=name)
        .select_related("account")
        .prefetch_related(
            Prefetch("roles", queryset=Role.objects.order_by("name")),
            "account__emails",
        )
        .order_by("account__uid")
    )


def role_assignment_exists(*, account, role: Role) -> bool:
    return AccountRole.objects.filter(account=account, role=role).exists()


def role_holder_ids(*, tenant: Tenant | None, value: str) -> QuerySet:
    """Ids of the accounts holding the role named `value` directly, for use as a subquery
    (the account search's `role` filter). Without `tenant` the caller's own queryset must
    scope it."""
    rows = AccountRole.objects.filter(role__name=value)
    if tenant is not None:
        rows = rows.filter(tenant=tenant)
    return rows.values("account_id")


@dataclass(frozen=True)
class EffectivePermissions:
    """What an account may do, optionally within a context, at `computed_at`.

    `roles` are the roles that grant (the account's own plus, while the context is
    active, the context's); `valid_until` is when this answer changes by itself (the
    context's expiration), `None` if only a change can alter it.
    """

    account_id: int
    context: str | None
    roles: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    context_found: bool = False
    context_active: bool = False
    context_expiration: datetime | None = None
    valid_until: datetime | None = None
    computed_at: datetime = field(default_factory=timezone.now)

    def allows(self, permission: str) -> bool:
        return permission in self.permissions

    def to_cache(self) -> dict:
        return {
            "roles": list(self.roles),
            "permissions": list(self.permissions),
            "context_found": self.context_found,
            "context_active": self.context_active,
            "context_expiration": self.context_expiration,
            "valid_until": self.valid_until,
            "computed_at": self.computed_at,
        }

    @classmethod
    def from_cache(
        cls, *, account_id: int, context: str | None, value: dict
    ) -> "EffectivePermissions":
        return cls(
            account_id=account_id,
            context=context,
            roles=tuple(value["roles"]),
            permissions=tuple(value["permissions"]),
            context_found=value["context_found"],
            context_active=value["context_active"],
            context_expiration=value["context_expiration"],
            valid_until=value["valid_until"],
            computed_at=value["computed_at"],
        )


def _compute(*, account, context: str | None, now: datetime) -> EffectivePermissions:
    roles: set[str] = set()
    permissions: set[str] = set()
    for name, granted in Role.objects.filter(assignments__account=account).values_list(
        "name", "permissions"
    ):
        roles.add(name)
        permissions.update(granted or [])
    found = active = False
    expiration = valid_until = None
    if context is not None:
        row = (
            RoleContext.objects.filter(account=account, name=context)
            .prefetch_related(Prefetch("roles", queryset=Role.objects.only("name", "permissions")))
            .first()
        )
        if row is not None:
            found = True
            expiration = row.expiration
            active = row.is_active(now)
            if active:
                valid_until = row.expiration
                permissions.update(row.additional_permissions or [])
                for role in row.roles.all():
                    roles.add(role.name)
                    permissions.update(role.permissions or [])
    return EffectivePermissions(
        account_id=account.pk,
        context=context,
        roles=tuple(sorted(roles)),
        permissions=tuple(sorted(permissions)),
        context_found=found,
        context_active=active,
        context_expiration=expiration,
        valid_until=valid_until,
        computed_at=now,
    )


def account_permissions(
    *, tenant: Tenant, account, context: str | None = None, now: datetime | None = None
) -> EffectivePermissions:
    """What may `account` do, optionally within `context`, now.

    Served from the cache when possible: no database query on a hit. An answer is never
    served past `valid_until` (the context's expiration), whatever the cache's own expiry,
    so an expired context grants nothing from its expiration second on without any
    cleanup having run.
    """
    if account.tenant_id != tenant.pk:
        raise AccountNotFound()
    if context == "":
        context = None
    now = now or timezone.now()
    key = permission_cache.answer_key(tenant_id=tenant.pk, account_id=account.pk, context=context)
    value = permission_cache.get(key)
    if value is not None and (value["valid_until"] is None or now < value["valid_until"]):
        return EffectivePermissions.from_cache(account_id=account.pk, context=context, value=value)
    answer = _compute(account=account, context=context, now=now)
    timeout = float(permission_cache.ttl_seconds())
    if answer.valid_until is not None:
        timeout = min(timeout, (answer.valid_until - now).total_seconds())
    permission_cache.put(key, answer.to_cache(), timeout)
    return answer


def role_page(*, tenant: Tenant, after: int = 0, limit: int = 50) -> tuple[list[Role], bool, int]:
    """The tenant's roles in id order after the id `after`: (rows, more, count of all)."""
    roles = Role.objects.filter(tenant=tenant)
    rows = list(roles.filter(id__gt=after).order_by("id")[: limit + 1])
    return rows[:limit], len(rows) > limit, roles.count()

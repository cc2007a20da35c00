"""Reads of roles, assignments and role contexts, and the effective-permissions answer."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Count, IntegerField, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
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


def role_names(*, tenant: Tenant) -> list[str]:
    """The names of the tenant's roles, by name (for a choice list: no permissions loaded)."""
    return list(Role.objects.filter(tenant=tenant).order_by("name").values_list("name", flat=True))


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


# Console lists: counts and pages computed per list, never per row. --------------------------


@dataclass(frozen=True)
class RoleHolderCount:
    """How many accounts hold a role: directly, through an active context, and in all
    (an account holding it both ways counts once)."""

    direct: int = 0
    through_contexts: int = 0
    total: int = 0


def role_holder_counts(
    *, tenant: Tenant, now: datetime | None = None
) -> dict[str, RoleHolderCount]:
    """Every role of the tenant with its holder counts, in one query (three correlated
    counts per role, so the database does the work and no row is loaded per holder)."""
    now = now or timezone.now()
    through = RoleContext.roles.through
    active = Q(rolecontext__expiration__isnull=True) | Q(rolecontext__expiration__gt=now)

    def _count(rows: QuerySet, column: str) -> Subquery:
        return Subquery(
            rows.order_by()
            .values("role_id")
            .annotate(n=Count(column, distinct=True))
            .values("n")[:1],
            output_field=IntegerField(),
        )

    direct = AccountRole.objects.filter(role_id=OuterRef("pk"))
    in_contexts = through.objects.filter(active, role_id=OuterRef("pk"))
    both = in_contexts.filter(
        rolecontext__account_id__in=AccountRole.objects.filter(
            role_id=OuterRef(OuterRef("pk"))
        ).values("account_id")
    )
    rows = (
        Role.objects.filter(tenant=tenant)
        .annotate(
            n_direct=Coalesce(_count(direct, "account_id"), 0),
            n_contexts=Coalesce(_count(in_contexts, "rolecontext__account_id"), 0),
            n_both=Coalesce(_count(both, "rolecontext__account_id"), 0),
        )
        .values_list("name", "n_direct", "n_contexts", "n_both")
    )
    return {
        name: RoleHolderCount(direct=d, through_contexts=c, total=d + c - b)
        for name, d, c, b in rows
    }


@dataclass(frozen=True)
class RoleHolding:
    """One account holding a role: whether directly, and the contexts it holds it in
    (name, expiration), expired ones included and marked by their date."""

    account_id: int
    direct: bool
    contexts: tuple[tuple[str, datetime | None], ...]


def role_holdings_page(
    *, role: Role, offset: int = 0, limit: int = 50
) -> tuple[list[RoleHolding], int]:
    """The accounts holding `role` directly or in a context, by account id, one page of
    them: (holdings, count of all). Three queries whatever the page size."""
    ids = (
        AccountRole.objects.filter(role=role)
        .order_by()
        .values_list("account_id", flat=True)
        .union(
            RoleContext.objects.filter(roles=role).order_by().values_list("account_id", flat=True)
        )
    )
    total = ids.count()
    page = list(ids.order_by("account_id")[offset : offset + limit])
    direct = set(
        AccountRole.objects.filter(role=role, account_id__in=page).values_list(
            "account_id", flat=True
        )
    )
    contexts: dict[int, list[tuple[str, datetime | None]]] = {}
    for account_id, name, expiration in (
        RoleContext.objects.filter(roles=role, account_id__in=page)
        .order_by("name")
        .values_list("account_id", "name", "expiration")
    ):
        contexts.setdefault(account_id, []).append((name, expiration))
    return [
        RoleHolding(
            account_id=account_id,
            direct=account_id in direct,
            contexts=tuple(contexts.get(account_id, ())),
        )
        for account_id in page
    ], total


@dataclass(frozen=True)
class ContextSummary:
    """A role-context name as the tenant uses it: how many accounts hold it (and how many
    of those have expired), the roles given in it, and the nearest expiry to come."""

    name: str
    holders: int
    expired: int
    nearest_expiry: datetime | None
    roles: tuple[str, ...] = ()


def role_context_summaries(
    *, tenant: Tenant, offset: int = 0, limit: int = 50, now: datetime | None = None
) -> tuple[list[ContextSummary], int]:
    """The tenant's role-context names by name, one page: (summaries, count of names).
    Three queries whatever the page size."""
    now = now or timezone.now()
    names = RoleContext.objects.filter(tenant=tenant).values("name")
    total = names.distinct().count()
    rows = list(
        names.annotate(
            holders=Count("pk"),
            expired=Count("pk", filter=Q(expiration__lte=now)),
            nearest=Min("expiration", filter=Q(expiration__gt=now)),
        ).order_by("name")[offset : offset + limit]
    )
    roles: dict[str, set[str]] = {}
    for context_name, role_name in RoleContext.roles.through.objects.filter(
        rolecontext__tenant=tenant, rolecontext__name__in=[r["name"] for r in rows]
    ).values_list("rolecontext__name", "role__name"):
        roles.setdefault(context_name, set()).add(role_name)
    return [
        ContextSummary(
            name=row["name"],
            holders=row["holders"],
            expired=row["expired"],
            nearest_expiry=row["nearest"],
            roles=tuple(sorted(roles.get(row["name"], ()))),
        )
        for row in rows
    ], total


def role_context_holders_page(
    *, tenant: Tenant, name: str, offset: int = 0, limit: int = 50
) -> tuple[list[RoleContext], int]:
    """The contexts named `name` in the tenant (one per holder), by account id, with their
    roles loaded: (rows, count of all)."""
    rows = RoleContext.objects.filter(tenant=tenant, name=name)
    total = rows.count()
    page = list(
        rows.prefetch_related(Prefetch("roles", queryset=Role.objects.order_by("name"))).order_by(
            "account_id"
        )[offset : offset + limit]
    )
    return page, total


def role_contexts_expiring(
    *,
    tenant: Tenant,
    within: timedelta,
    offset: int = 0,
    limit: int = 50,
    now: datetime | None = None,
) -> tuple[list[RoleContext], int]:
    """Contexts that still grant now and stop within `within`, soonest first: (rows, count)."""
    now = now or timezone.now()
    rows = RoleContext.objects.filter(
        tenant=tenant, expiration__gt=now, expiration__lte=now + within
    )
    total = rows.count()
    page = list(
        rows.prefetch_related(Prefetch("roles", queryset=Role.objects.order_by("name"))).order_by(
            "expiration", "name", "account_id"
        )[offset : offset + limit]
    )
    return page, total


def role_context_names_matching(*, tenant: Tenant, text: str, limit: int = 20) -> list[str]:
    """Context names in use in the tenant that start with `text` (any case), then those that
    contain it, for choosing an existing name."""
    text = (text or "").strip()
    names = RoleContext.objects.filter(tenant=tenant)
    if text:
        names = names.filter(name__icontains=text)
    found = sorted(set(names.values_list("name", flat=True).distinct()[: limit * 5]))
    lowered = text.lower()
    found.sort(key=lambda n: (not n.lower().startswith(lowered), n.lower()))
    return found[:limit]


def role_context_name_exists(*, tenant: Tenant, name: str) -> bool:
    return RoleContext.objects.filter(tenant=tenant, name=name).exists()


def role_context_common_roles(*, tenant: Tenant, name: str) -> list[str]:
    """The roles every holder of the context `name` holds in it (what a new holder most
    likely needs too)."""
    rows = RoleContext.objects.filter(tenant=tenant, name=name)
    holders = rows.count()
    if not holders:
        return []
    counted = (
        RoleContext.roles.through.objects.filter(rolecontext__in=rows)
        .values("role__name")
        .annotate(n=Count("rolecontext_id"))
    )
    return sorted(row["role__name"] for row in counted if row["n"] == holders)

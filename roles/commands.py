"""The typed commands of the roles services (portal/commands.py): what a front door builds
from its own input and hands to the service. The account a command acts on is the
service's context argument, like the tenant and the actor."""

from dataclasses import dataclass
from datetime import UTC, datetime

from portal.commands import Command, command


def _utc(value: datetime | None) -> datetime | None:
    """A time without an offset is UTC (commands carry aware datetimes only)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class RoleInput:
    """One role of a `RolesCreate`."""

    name: str
    permissions: tuple[str, ...] = ()
    description: str = ""


@command("roles.create")
@dataclass(frozen=True)
class RolesCreate(Command):
    """Create several roles at once, all or none (roles.services.roles_create)."""

    roles: tuple[RoleInput, ...]
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RolesCreate":
        return cls(
            roles=(RoleInput("editor", ("article.edit", "article.read")), RoleInput("viewer")),
            reason="new editorial team",
            ticket="OPS-3",
        )


@command("role.delete")
@dataclass(frozen=True)
class RoleDelete(Command):
    """Delete a role, taking it from every account and context (roles.services.role_delete)."""

    name: str
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RoleDelete":
        return cls(name="editor", reason="team disbanded")


@command("role_permissions.add")
@dataclass(frozen=True)
class RolePermissionsAdd(Command):
    """Grant more permissions through a role (roles.services.role_permissions_add)."""

    name: str
    permissions: tuple[str, ...]
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RolePermissionsAdd":
        return cls(name="editor", permissions=("article.publish",), ticket="OPS-4")


@command("role_permissions.remove")
@dataclass(frozen=True)
class RolePermissionsRemove(Command):
    """Withdraw permissions from a role (roles.services.role_permissions_remove)."""

    name: str
    permissions: tuple[str, ...]
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RolePermissionsRemove":
        return cls(name="editor", permissions=("article.publish",), reason="policy change")


@command("role_permissions.set")
@dataclass(frozen=True)
class RolePermissionsSet(Command):
    """Give a role exactly these permissions (roles.services.role_permissions_set): those it
    lacks are added and the others taken away, as one change (empty: none; None: kept).
    `privileged`, when given, marks whether granting the role needs a second person where
    the tenant asks for it (approvals.policy)."""

    name: str
    permissions: tuple[str, ...] | None
    privileged: bool | None = None
    description: str | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RolePermissionsSet":
        return cls(name="editor", permissions=("article.edit", "article.read"), ticket="OPS-5")


@command("account_roles.assign")
@dataclass(frozen=True)
class AccountRolesAssign(Command):
    """Add roles to the account (roles.services.account_roles_assign)."""

    roles: tuple[str, ...]
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "AccountRolesAssign":
        return cls(roles=("editor", "viewer"), reason="joined the team", ticket="HR-9")


@command("account_roles.unassign")
@dataclass(frozen=True)
class AccountRolesUnassign(Command):
    """Take roles from the account (roles.services.account_roles_unassign)."""

    roles: tuple[str, ...]
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "AccountRolesUnassign":
        return cls(roles=("editor",), reason="left the team")


@command("account_roles.set")
@dataclass(frozen=True)
class AccountRolesSet(Command):
    """Give the account exactly these roles (roles.services.account_roles_set): those it
    lacks are assigned and the others taken away, as one change (empty: none)."""

    roles: tuple[str, ...]
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "AccountRolesSet":
        return cls(roles=("editor", "viewer"), reason="moved team", ticket="HR-10")


@dataclass(frozen=True)
class ContextGrant:
    """One context of a `RoleContextGrant`: roles and additional permissions added to what
    it holds, and its expiration (`None` = never expires). `keep_expiration` leaves the
    stored expiration as it is (a new context then never expires). `expected_version` (see
    roles.selectors.role_context_version) refuses the grant if the context has changed
    since, or has been deleted."""

    name: str
    roles: tuple[str, ...] = ()
    additional_permissions: tuple[str, ...] = ()
    expiration: datetime | None = None
    keep_expiration: bool = False
    expected_version: str | None = None

    def __post_init__(self) -> None:
        if self.keep_expiration and self.expiration is not None:
            raise ValueError("an expiration and keep_expiration exclude each other")
        object.__setattr__(self, "expiration", _utc(self.expiration))


@command("role_context.grant")
@dataclass(frozen=True)
class RoleContextGrant(Command):
    """Create role contexts of the account or add to them, all or none
    (roles.services.role_contexts_upsert)."""

    contexts: tuple[ContextGrant, ...]
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RoleContextGrant":
        return cls(
            contexts=(
                ContextGrant(
                    name="store-7",
                    roles=("support",),
                    additional_permissions=("refund.issue",),
                    expiration=datetime(2026, 9, 1, 8, 30, tzinfo=UTC),
                    expected_version="2026-05-01T12:00:00.123456+00:00",
                ),
                ContextGrant(name="home", keep_expiration=True),
            ),
            reason="covering a colleague",
            ticket="SUP-11",
        )


@command("role_context.delete")
@dataclass(frozen=True)
class RoleContextDelete(Command):
    """Remove a context of the account with everything it grants
    (roles.services.role_context_delete)."""

    name: str
    expected_version: str | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RoleContextDelete":
        return cls(name="store-7", expected_version="2026-05-01T12:00:00.123456+00:00")


@command("role_context_roles.remove")
@dataclass(frozen=True)
class RoleContextRolesRemove(Command):
    """Take roles out of a context of the account (roles.services.role_context_roles_remove)."""

    name: str
    roles: tuple[str, ...]
    expected_version: str | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RoleContextRolesRemove":
        return cls(name="store-7", roles=("support",), reason="cover ended")


@command("role_context_permissions.remove")
@dataclass(frozen=True)
class RoleContextPermissionsRemove(Command):
    """Take additional permissions out of a context of the account
    (roles.services.role_context_permissions_remove)."""

    name: str
    permissions: tuple[str, ...]
    expected_version: str | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RoleContextPermissionsRemove":
        return cls(
            name="store-7",
            permissions=("refund.issue",),
            expected_version="2026-05-01T12:00:00.123456+00:00",
            ticket="SUP-12",
        )

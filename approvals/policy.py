"""Which actions need a second person: the gates, and which gate a command passes through.

A tenant picks its gates in its settings (`approval_gates`, with `approval_bulk_threshold`
and `approval_expiry_hours`; portal/tenant_settings.py spells the same gate names, since the
core imports no app, and a test holds the two lists equal). The LoginRadius paths are never
gated: SDKs cannot wait for a person (docs/security-model.md).
"""

from typing import Any

from accounts.commands import (
    AccountBlock,
    AccountChanges,
    AccountDelete,
    AccountUnblock,
    EmailMakePrimary,
    EmailUpsert,
    PasswordSet,
    PhoneSet,
)
from jobs.commands import JobCreate
from portal import events, tenant_settings
from portal.commands import Command
from portal.models import Tenant
from roles.commands import AccountRolesAssign, AccountRolesSet, RoleContextGrant
from roles.models import Role
from security.commands import AccountLockSet, AccountUnlock, FactorReset
from tokens.commands import AccountSessionsRevoke, SessionIssue

# The gates a tenant may choose (value: label), spelled once in the core's settings.
GATES: dict[str, str] = dict(tenant_settings.APPROVAL_GATES)
DEFAULT_GATES: tuple[str, ...] = tenant_settings.DEFAULT_APPROVAL_GATES


def _changes_gate(command: AccountChanges) -> str | None:
    """A profile update changes contacts when it sets or clears the phone or touches the
    primary email; it blocks or unblocks when it sets IsActive."""
    touched = set(command.values) | set(command.cleared)
    if "PhoneId" in touched or any(
        (edit.type or "").lower() == "primary" for edit in command.emails
    ):
        return "contact.change"
    if "IsActive" in touched:
        return "account.block"
    return None


def _privileged(tenant: Tenant, names: set[str]) -> bool:
    return Role.objects.filter(tenant=tenant, name__in=names, privileged=True).exists()


@events.reads
def gate_of(command: Command, *, tenant: Tenant) -> str | None:
    """The gate `command` passes through (None: no gate applies to it)."""
    if isinstance(command, AccountDelete):
        return "account.delete"
    if isinstance(command, AccountChanges):
        return _changes_gate(command)
    if isinstance(command, FactorReset):
        return "factor.reset"
    if isinstance(command, EmailMakePrimary | PhoneSet):
        return "contact.change"
    if isinstance(command, EmailUpsert) and any(
        (email.type or "").lower() == "primary" for email in command.emails
    ):
        return "contact.change"
    if isinstance(command, AccountRolesAssign | AccountRolesSet):
        return "role.privileged" if _privileged(tenant, set(command.roles)) else None
    if isinstance(command, RoleContextGrant):
        names = {role for grant in command.contexts for role in grant.roles}
        return "role.privileged" if _privileged(tenant, names) else None
    if isinstance(command, JobCreate):
        return None if command.dry_run else "job.bulk"
    if isinstance(command, SessionIssue):
        return "account.impersonate"
    if isinstance(command, AccountBlock | AccountUnblock):
        return "account.block"
    if isinstance(command, AccountUnlock) or (
        isinstance(command, AccountLockSet) and not command.locked
    ):
        return "account.unlock"
    if isinstance(command, AccountSessionsRevoke):
        return "sessions.revoke"
    if isinstance(command, PasswordSet):
        return "password.set"
    return None


@events.reads
def approval_needed(command: Command, *, tenant: Tenant, selected: int | None = None) -> str | None:
    """The gate that holds `command` for approval on `tenant`, or None when it may run now.
    `selected`: how many accounts a bulk job selects (below the threshold it runs)."""
    gate = gate_of(command, tenant=tenant)
    if gate is None or gate not in tenant_gates(tenant=tenant):
        return None
    if gate == "job.bulk":
        threshold = int(tenant.setting("approval_bulk_threshold"))
        if selected is not None and selected < threshold:
            return None
    return gate


@events.reads
def tenant_gates(*, tenant: Tenant) -> frozenset[str]:
    chosen: Any = tenant.setting("approval_gates")
    return frozenset(chosen if isinstance(chosen, list) else DEFAULT_GATES)

"""What runs an approved command: each gated command type, the service it goes to, and what
its requester must still be allowed to do when it runs (staff: the console action;
credentials: the section)."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts import services as account_services
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
from accounts.models import Account
from jobs.commands import JobCreate
from jobs.services import job_create
from jobs.services.actions import action_section
from portal import crypto
from portal.audit import Actor
from portal.commands import Command
from portal.models import Tenant
from roles import services as role_services
from roles.commands import AccountRolesAssign, AccountRolesSet, RoleContextGrant
from security import services as security_services
from security.commands import AccountLockSet, AccountUnlock, FactorReset
from tokens.commands import AccountSessionsRevoke, SessionIssue
from tokens.services.sessions import account_sessions_revoke, session_issue

# The console action a staff requester needs, per job action (portal.staff.ACTIONS).
JOB_CONSOLE_ACTIONS: dict[str, str] = {
    "block": "account.block",
    "unblock": "account.unblock",
    "delete": "account.delete",
    "unlock": "account.unlock",
    "lock": "account.unlock",
    "reset_factor": "security.reset",
    "revoke_sessions": "security.reset",
    "assign_roles": "roles.manage",
    "unassign_roles": "roles.manage",
    "send_verification": "account.message",
}


@dataclass(frozen=True)
class Executor:
    # The service, called as service(command, tenant=, actor=, account=) (account: None for
    # tenant-wide commands); what it returns is kept only when `keeps_result` says how.
    run: Callable[..., Any]
    console_action: str
    section: str
    on_account: bool = True
    # A result the requester collects once (an impersonation token), sealed while stored;
    # its "expires_at" (ISO 8601), when given, is when it can no longer be collected.
    keeps_result: Callable[[Any], dict[str, Any]] | None = None


def _session_result(issued: Any) -> dict[str, Any]:
    return {
        "access_token": issued.access_token,
        "expires_at": issued.access_expires_at.isoformat(),
    }


EXECUTORS: dict[type[Command], Executor] = {
    AccountDelete: Executor(account_services.account_delete, "account.delete", "accounts"),
    AccountChanges: Executor(account_services.account_update, "account.edit", "accounts"),
    FactorReset: Executor(security_services.mfa_factor_reset, "security.reset", "security"),
    EmailMakePrimary: Executor(
        account_services.account_email_make_primary, "account.edit", "accounts"
    ),
    EmailUpsert: Executor(account_services.account_email_upsert, "account.edit", "accounts"),
    PhoneSet: Executor(account_services.account_phone_update, "account.edit", "accounts"),
    AccountRolesAssign: Executor(role_services.account_roles_assign, "roles.manage", "roles"),
    AccountRolesSet: Executor(role_services.account_roles_set, "roles.manage", "roles"),
    RoleContextGrant: Executor(role_services.role_contexts_upsert, "roles.manage", "roles"),
    AccountBlock: Executor(account_services.account_block, "account.block", "accounts"),
    AccountUnblock: Executor(account_services.account_unblock, "account.unblock", "accounts"),
    AccountUnlock: Executor(security_services.account_unlock, "account.unlock", "security"),
    AccountLockSet: Executor(security_services.account_lock_set, "account.unlock", "security"),
    AccountSessionsRevoke: Executor(account_sessions_revoke, "security.reset", "sessions"),
    PasswordSet: Executor(account_services.account_password_set, "account.edit", "accounts"),
    SessionIssue: Executor(
        session_issue, "account.impersonate", "sessions", keeps_result=_session_result
    ),
    JobCreate: Executor(job_create, "", "accounts", on_account=False),
}


def executor_of(command: Command) -> Executor | None:
    return EXECUTORS.get(type(command))


def console_action_of(command: Command) -> str:
    """The console action a staff requester needs for `command` when it runs."""
    if isinstance(command, JobCreate):
        return JOB_CONSOLE_ACTIONS.get(command.action, "tenant.administer")
    executor = EXECUTORS[type(command)]
    return executor.console_action


def section_of(command: Command) -> str:
    """The credential section a credential requester needs for `command` when it runs."""
    if isinstance(command, JobCreate):
        return action_section(command.action)
    return EXECUTORS[type(command)].section


def execute(command: Command, *, tenant: Tenant, actor: Actor, account: Account | None) -> str:
    """Run `command` through its service; returns the sealed result to keep ("" for none)."""
    executor = EXECUTORS[type(command)]
    if executor.on_account:
        result = executor.run(command, tenant=tenant, actor=actor, account=account)
    else:
        result = executor.run(command, tenant=tenant, actor=actor)
    if executor.keeps_result is None:
        return ""
    return crypto.encrypt(json.dumps(executor.keeps_result(result)))


def result_opened(sealed: str) -> dict[str, Any]:
    """A kept result as stored by `execute`, unsealed."""
    opened = json.loads(crypto.decrypt(sealed))
    return opened if isinstance(opened, dict) else {}


def result_expired(result: dict[str, Any], *, now: datetime) -> bool:
    expires = result.get("expires_at")
    if not isinstance(expires, str):
        return False
    try:
        return datetime.fromisoformat(expires) <= now
    except ValueError:
        return True

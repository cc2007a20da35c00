"""The job actions: what each runs per account, the section it needs, what undoes it, and
the checks of a job's reason, ticket and params."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.commands import AccountBlock, AccountDelete, AccountUnblock
from accounts.filters import AccountFilter
from jobs.models import Job
from portal import events
from portal.audit import Actor
from portal.commands import Command
from portal.errors import FieldError, FieldRequired, InvalidInput
from roles.commands import AccountRolesAssign, AccountRolesUnassign
from security import services as security_services
from security.commands import AccountLock, AccountUnlock, FactorReset
from tokens.commands import AccountSessionsRevoke, VerificationEmailSend

# Rows one task runs before it hands the rest to the next task of the chain.
BATCH_SIZE = 500
# Actions whose batches run through the set form of their service (jobs.services.running).
SET_ACTIONS: frozenset[str] = frozenset({"block", "unblock"})
# Task chains a job of those starts: idle workers take a chain each and share the job batch
# by batch (a chain that finds every pending row claimed by another stops).
SET_CHAINS = 2
# The most accounts one job may select.
JOB_ROWS_MAX = 100_000
REASON_MAX_LENGTH = 500
TICKET_MAX_LENGTH = 200
# The search parameters of GET /api/v1/accounts a filter may name (paging is not one).
FILTER_KEYS: frozenset[str] = frozenset(AccountFilter.get_filters())


@dataclass(frozen=True)
class Action:
    """A job action: the credential section it needs, whether it destroys something (the
    caller then confirms the count a dry run reported), the action that undoes it, and the
    params it takes."""

    section: str
    destructive: bool = False
    reverse: str | None = None
    params: frozenset[str] = frozenset()


ACTIONS: dict[str, Action] = {
    "block": Action("accounts", destructive=True, reverse="unblock"),
    "unblock": Action("accounts", reverse="block"),
    "delete": Action("accounts", destructive=True),
    "unlock": Action("security", reverse="lock", params=frozenset({"relock"})),
    "lock": Action("security", reverse="unlock"),
    "reset_factor": Action("security", destructive=True, params=frozenset({"kind"})),
    "revoke_sessions": Action("sessions", destructive=True),
    "assign_roles": Action("roles", reverse="unassign_roles", params=frozenset({"roles"})),
    "unassign_roles": Action("roles", reverse="assign_roles", params=frozenset({"roles"})),
    "send_verification": Action("tokens", params=frozenset({"template"})),
}


@events.reads
def action_section(action: str) -> str:
    """The credential section an action's rows need (accounts for an unknown one)."""
    known = ACTIONS.get(action)
    return known.section if known else "accounts"


@events.reads
def job_actor(job: Job) -> Actor:
    """Who asked for the job: its rows' events name this actor."""
    return Actor(job.actor_type, job.actor_id, job.actor_label)


# --- Input -------------------------------------------------------------------------------


@events.reads
def action_named(name: Any) -> Action:
    if not isinstance(name, str) or not name:
        raise FieldRequired("action")
    if name not in ACTIONS:
        raise InvalidInput(
            field_errors=[
                FieldError("action", f"One of: {', '.join(sorted(ACTIONS))}.", "invalid_choice")
            ]
        )
    return ACTIONS[name]


@events.reads
def why_checked(reason: Any, ticket: Any) -> tuple[str, str]:
    if not isinstance(reason, str) or not reason.strip():
        raise FieldRequired("reason")
    if not isinstance(ticket, str):
        raise InvalidInput(field_errors=[FieldError("ticket", "A string.")])
    if len(reason) > REASON_MAX_LENGTH or len(ticket) > TICKET_MAX_LENGTH:
        raise InvalidInput(
            field_errors=[
                FieldError(
                    "reason",
                    f"At most {REASON_MAX_LENGTH} characters (ticket: {TICKET_MAX_LENGTH}).",
                )
            ]
        )
    return reason.strip(), ticket.strip()


@events.reads
def params_checked(name: str, action: Action, params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise InvalidInput(field_errors=[FieldError("params", "A JSON object.")])
    unknown = sorted(set(params) - action.params)
    if unknown:
        raise InvalidInput(
            field_errors=[
                FieldError(f"params.{key}", f"{name} takes no such parameter.", "unknown")
                for key in unknown
            ]
        )
    if name == "reset_factor":
        kind = params.get("kind")
        if kind not in security_services.FACTORS:
            raise InvalidInput(
                field_errors=[
                    FieldError("params.kind", f"One of: {', '.join(security_services.FACTORS)}.")
                ]
            )
    if name in ("assign_roles", "unassign_roles"):
        roles = params.get("roles")
        if (
            not isinstance(roles, list)
            or not roles
            or not all(isinstance(r, str) and r.strip() for r in roles)
        ):
            raise InvalidInput(
                field_errors=[FieldError("params.roles", "A non-empty list of role names.")]
            )
        params = {**params, "roles": [r.strip() for r in roles]}
    if "relock" in params and not isinstance(params["relock"], bool):
        raise InvalidInput(field_errors=[FieldError("params.relock", "true or false.")])
    if "template" in params and not isinstance(params["template"], str):
        raise InvalidInput(field_errors=[FieldError("params.template", "A template name.")])
    return params


@events.reads
def row_command(name: str, params: dict[str, Any], *, reason: str, ticket: str) -> Command:
    """The command every row of a `name` job runs: the one the single call builds."""
    why = {"reason": reason, "ticket": ticket}
    builders: dict[str, Callable[[], Command]] = {
        "block": lambda: AccountBlock(**why),
        "unblock": lambda: AccountUnblock(**why),
        "delete": lambda: AccountDelete(**why),
        "unlock": lambda: AccountUnlock(**why),
        "lock": lambda: AccountLock(
            locked_type=security_services.MANUAL_LOCK, reason=reason, ticket=ticket
        ),
        "reset_factor": lambda: FactorReset(factor=params["kind"], **why),
        "revoke_sessions": lambda: AccountSessionsRevoke(**why),
        "assign_roles": lambda: AccountRolesAssign(roles=tuple(params["roles"]), **why),
        "unassign_roles": lambda: AccountRolesUnassign(roles=tuple(params["roles"]), **why),
        "send_verification": lambda: VerificationEmailSend(
            email="", template=params.get("template", ""), **why
        ),
    }
    return builders[name]()

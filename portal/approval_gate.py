"""Holding a command for a second person's approval, for the front doors below the approvals
app: a slot the approvals app fills from its `AppConfig.ready()` (as `portal.slots` is filled
by tokens), so a native view in a section's package asks without importing approvals.

`hold(...)` answers the approval request as the native API shows it when the tenant's policy
holds the command, or None when it may run now. An empty slot is an error: every
configuration installs approvals, and a gated command that silently ran would be worse.
"""

from collections.abc import Callable
from typing import Any

from portal.audit import Actor
from portal.commands import Command
from portal.models import Tenant

Hold = Callable[..., dict[str, Any] | None]
_HOLD: list[Hold] = []


def register(hold: Hold) -> None:
    if _HOLD and _HOLD[0] is not hold:
        raise ValueError(f"the approval gate is already filled by {_HOLD[0]!r}")
    _HOLD[:] = [hold]


def hold(
    *,
    command: Command,
    tenant: Tenant,
    actor: Actor,
    account_uid: str = "",
    summary: str = "",
    selected: int | None = None,
) -> dict[str, Any] | None:
    """The approval request that now holds `command` (its native representation), or None
    when no gate of the tenant applies and the caller runs it itself. `selected`: how many
    accounts a bulk job selects."""
    if not _HOLD:
        raise RuntimeError("nothing fills the approval gate: the approvals app is not installed")
    return _HOLD[0](
        command=command,
        tenant=tenant,
        actor=actor,
        account_uid=account_uid,
        summary=summary,
        selected=selected,
    )

"""What the sections ask of the tokens app's outbox and sessions: two slots tokens fills from its
`AppConfig.ready()`, so a section (security sends sign-in codes and "a factor was added"
notices, and counts the sessions a factor reset ends) reaches them without importing
tokens (DESIGN.md, "Layers"), as `portal.events` does for state changes.

- `message_queue`: write an email or SMS to an account's outbox in the caller's
  transaction; it is delivered after the commit (tokens: `message_enqueue`);
- `live_sessions_count`: how many sessions of an account are live now.

Registering the same function again is a no-op (a ready() that runs twice in tests); another
function in a slot already filled is an error. An empty slot is an error too: every
configuration installs tokens, and a code that silently went nowhere would be worse.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from portal.models import Tenant


class MessageQueue(Protocol):
    def __call__(
        self,
        *,
        tenant: Tenant,
        account: Any,
        channel: str,
        template: str,
        recipient: str,
        context: dict,
        expires_at: datetime | None = None,
        check_limits: bool = True,
    ) -> object: ...


LiveSessionsCount = Callable[..., int]

_SLOTS: dict[str, Callable[..., Any]] = {}


def _fill(slot: str, function: Callable[..., Any]) -> None:
    existing = _SLOTS.get(slot)
    if existing is not None and existing is not function:
        raise ValueError(f"the {slot} slot is already filled by {existing!r}")
    _SLOTS[slot] = function


def _filled(slot: str) -> Callable[..., Any]:
    function = _SLOTS.get(slot)
    if function is None:
        raise RuntimeError(f"nothing fills the {slot} slot: the tokens app is not installed")
    return function


def filling(slot: str) -> Callable[..., Any] | None:
    """What fills `slot` ("message_queue", "live_sessions_count"), or None: for checks."""
    return _SLOTS.get(slot)


def register_message_queue(queue: MessageQueue) -> None:
    _fill("message_queue", queue)


def register_live_sessions_count(count: LiveSessionsCount) -> None:
    _fill("live_sessions_count", count)


def message_queue(
    *,
    tenant: Tenant,
    account: Any,
    channel: str,
    template: str,
    recipient: str,
    context: dict,
    expires_at: datetime | None = None,
    check_limits: bool = True,
) -> None:
    """Queue an email or SMS (`channel` "email" or "sms") to `recipient` for `account`, in
    the caller's transaction. Refused with the outbox's domain errors when the recipient's
    cooldown (with `check_limits`) or the tenant's daily cap is spent."""
    _filled("message_queue")(
        tenant=tenant,
        account=account,
        channel=channel,
        template=template,
        recipient=recipient,
        context=context,
        expires_at=expires_at,
        check_limits=check_limits,
    )


def live_sessions_count(*, tenant: Tenant, account: Any) -> int:
    """How many sessions of `account` are live (not revoked) now."""
    return int(_filled("live_sessions_count")(tenant=tenant, account=account))

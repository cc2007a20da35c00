"""Domain events and their subscribers.

Every state change records one event, in its service's transaction: the audit row that
`portal.audit.record` writes is that event. Other apps react to it through this registry,
so a lower layer tells a higher one what happened without importing it (DESIGN.md,
"Layers"):

- an **in-transaction** subscriber runs inside the transaction that recorded the event,
  before `record` returns, for effects that must be atomic with the change (sessions
  revoked because the password changed). If it raises, the whole change rolls back;
- an **on-commit** subscriber runs after the transaction commits, never when it rolls back,
  for everything else (messages handed to workers, cache invalidation, webhooks).

Apps subscribe from `AppConfig.ready()`. An event recorded while a subscriber runs points to
the event that caused it (`caused_by`), so a cascade reads as one story in the history.
"""

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

IN_TRANSACTION = "in_transaction"
ON_COMMIT = "on_commit"
PHASES = (IN_TRANSACTION, ON_COMMIT)
# The version of the event shape (`DomainEvent`) that rows are written with.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class DomainEvent:
    """One recorded state change, as subscribers see it."""

    id: int
    type: str
    tenant_id: int | None
    subject_uid: str
    actor_type: str
    actor_id: str
    actor_label: str
    reason: str = ""
    ticket: str = ""
    diff: dict[str, Any] = field(default_factory=dict)
    caused_by: int | None = None
    schema_version: int = SCHEMA_VERSION


Subscriber = Callable[[DomainEvent], None]


@dataclass(frozen=True)
class Subscription:
    event_type: str
    handler: Subscriber
    phase: str

    @property
    def name(self) -> str:
        return f"{self.handler.__module__}.{self.handler.__qualname__}"


_SUBSCRIPTIONS: dict[str, list[Subscription]] = {}
# The event whose in-transaction subscribers are running (what later events were caused by).
_CAUSE: contextvars.ContextVar[int | None] = contextvars.ContextVar("event_cause", default=None)


def subscribe(event_type: str, handler: Subscriber, *, phase: str) -> None:
    """Run `handler(event)` for every `event_type` event, in `phase`. Subscribing the same
    handler twice to one type is a no-op (a ready() that runs twice in tests)."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; use IN_TRANSACTION or ON_COMMIT")
    subscriptions = _SUBSCRIPTIONS.setdefault(event_type, [])
    if any(s.handler is handler and s.phase == phase for s in subscriptions):
        return
    subscriptions.append(Subscription(event_type=event_type, handler=handler, phase=phase))


def unsubscribe(event_type: str, handler: Subscriber) -> None:
    """Drop `handler`'s subscriptions to `event_type` (a test's own subscribers)."""
    remaining = [s for s in _SUBSCRIPTIONS.get(event_type, []) if s.handler is not handler]
    if remaining:
        _SUBSCRIPTIONS[event_type] = remaining
    else:
        _SUBSCRIPTIONS.pop(event_type, None)


def subscriptions() -> list[Subscription]:
    """Every subscription, for checks (each names a registered event type)."""
    return [s for items in _SUBSCRIPTIONS.values() for s in items]


def has_subscribers(event_type: str) -> bool:
    return event_type in _SUBSCRIPTIONS


def current_cause() -> int | None:
    """The id of the event whose in-transaction subscribers are running, if any."""
    return _CAUSE.get()


def publish(event: DomainEvent) -> None:
    """Hand a just-recorded event to its subscribers (called by `portal.audit.record`,
    inside the transaction that recorded it)."""
    items = _SUBSCRIPTIONS.get(event.type)
    if not items:
        return
    for subscription in items:
        if subscription.phase == IN_TRANSACTION:
            token = _CAUSE.set(event.id)
            try:
                subscription.handler(event)
            finally:
                _CAUSE.reset(token)
        else:
            transaction.on_commit(_deferred(subscription.handler, event))


def _deferred(handler: Subscriber, event: DomainEvent) -> Callable[[], None]:
    def run() -> None:
        token = _CAUSE.set(event.id)
        try:
            handler(event)
        finally:
            _CAUSE.reset(token)

    return run

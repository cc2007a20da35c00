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

import contextlib
import contextvars
from collections.abc import Callable, Iterator
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
    # Written by a bulk import (one event per account): webhooks and notices pass these over.
    imported: bool = False


Subscriber = Callable[[DomainEvent], None]


@dataclass(frozen=True)
class Subscription:
    event_type: str
    handler: Subscriber
    phase: str
    # The handler's set form (in-transaction only): takes every event of `event_type` that
    # one set-based command records (`publish_many`) and points what it records to each.
    many: Callable[[list[DomainEvent]], None] | None = None

    @property
    def name(self) -> str:
        return f"{self.handler.__module__}.{self.handler.__qualname__}"


_SUBSCRIPTIONS: dict[str, list[Subscription]] = {}
# Handlers of every event type (the webhook relay's kick), run on commit.
_EVERY_TYPE: list[Subscriber] = []
# The event whose in-transaction subscribers are running (what later events were caused by).
_CAUSE: contextvars.ContextVar[int | None] = contextvars.ContextVar("event_cause", default=None)


def subscribe(
    event_type: str,
    handler: Subscriber,
    *,
    phase: str,
    many: Callable[[list[DomainEvent]], None] | None = None,
) -> None:
    """Run `handler(event)` for every `event_type` event, in `phase`. Subscribing the same
    handler twice to one type is a no-op (a ready() that runs twice in tests). `many`: the
    same effect for a set of events at once (in-transaction only; see `publish_many`)."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; use IN_TRANSACTION or ON_COMMIT")
    if many is not None and phase != IN_TRANSACTION:
        raise ValueError("only an in-transaction subscriber has a set form")
    subscriptions = _SUBSCRIPTIONS.setdefault(event_type, [])
    if any(s.handler is handler and s.phase == phase for s in subscriptions):
        return
    subscriptions.append(
        Subscription(event_type=event_type, handler=handler, phase=phase, many=many)
    )


def subscribe_every_type(handler: Subscriber) -> None:
    """Run `handler(event)` after the commit of every event, whatever its type (a relay
    that reads the events itself and only needs to know that some were committed).
    Subscribing twice is a no-op."""
    if not any(existing is handler for existing in _EVERY_TYPE):
        _EVERY_TYPE.append(handler)


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
    return event_type in _SUBSCRIPTIONS or bool(_EVERY_TYPE)


def current_cause() -> int | None:
    """The id of the event whose in-transaction subscribers are running, if any."""
    return _CAUSE.get()


@contextlib.contextmanager
def caused_by(event_id: int) -> Iterator[None]:
    """Events recorded inside point to `event_id`: the effects a command carries out after
    recording its own event (the old secret retired by a rotation)."""
    token = _CAUSE.set(event_id)
    try:
        yield
    finally:
        _CAUSE.reset(token)


def publish(event: DomainEvent) -> None:
    """Hand a just-recorded event to its subscribers (called by `portal.audit.record`,
    inside the transaction that recorded it)."""
    for handler in _EVERY_TYPE:
        transaction.on_commit(_deferred(handler, event))
    for subscription in _SUBSCRIPTIONS.get(event.type, []):
        _hand_over(subscription, event)


def _hand_over(subscription: Subscription, event: DomainEvent) -> None:
    """Run an in-transaction subscriber now (what it records points to `event`), any other
    once the transaction commits."""
    if subscription.phase == IN_TRANSACTION:
        token = _CAUSE.set(event.id)
        try:
            subscription.handler(event)
        finally:
            _CAUSE.reset(token)
    else:
        transaction.on_commit(_deferred(subscription.handler, event))


def publish_many(batch: list[DomainEvent]) -> None:
    """Hand the events one set-based command just recorded (one per account, same type) to
    their subscribers, as `publish` would one by one, except that an in-transaction
    subscriber with a set form gets them in one call (it points what it records to each
    event itself), and the every-type handlers, which only need to know that some events
    were committed, run once for the set."""
    if not batch:
        return
    for handler in _EVERY_TYPE:
        transaction.on_commit(_deferred(handler, batch[0]))
    by_type: dict[str, list[DomainEvent]] = {}
    for event in batch:
        by_type.setdefault(event.type, []).append(event)
    for event_type, group in by_type.items():
        for subscription in _SUBSCRIPTIONS.get(event_type, []):
            if subscription.phase == IN_TRANSACTION and subscription.many is not None:
                subscription.many(group)
                continue
            for event in group:
                _hand_over(subscription, event)


def _deferred(handler: Subscriber, event: DomainEvent) -> Callable[[], None]:
    def run() -> None:
        token = _CAUSE.set(event.id)
        try:
            handler(event)
        finally:
            _CAUSE.reset(token)

    return run


# --- Which events a change records ------------------------------------------------------
#
# Every public function of a services module (and of the flows) says what it records, so a
# test can walk them all (tests/portal/test_one_event_per_service.py):
#
# - `@emits("account.updated")`: a command. One call that changes something records exactly
#   one event, of that type (or of one of the types named, chosen by the input). Effects
#   that subscribers carry out record their own events, pointing back with `caused_by`.
# - `@flow(...)`: spans several steps (sign-in, consuming a multipurpose token) and records
#   the events of the commands it runs; the types it names are those it records itself.
# - `proof=True` (on `emits` or `flow`): the input is a live proof checked now (a one-time
#   code, a password, a passkey assertion, a refresh token), never stored (a stored proof
#   would be a replay), so it is taken as keywords and not as a command
#   (portal/commands.py; tests/portal/test_command_inputs.py).
# - `@reads`: changes nothing a history would show (reads, checks, pure helpers).
# - `@step`: a part of a command, run only inside a command's transaction, whose event
#   describes the whole change.
# - `@upkeep`: keeps short-lived working state only (challenges, counters, throttles, the
#   outbox and purges of expired rows); nothing an account's history would show.

SERVICE = "service"
FLOW = "flow"
READS = "reads"
STEP = "step"
UPKEEP = "upkeep"
DECLARATION_KINDS = (SERVICE, FLOW, READS, STEP, UPKEEP)
DECLARATION_ATTRIBUTE = "__event_declaration__"


@dataclass(frozen=True)
class Declaration:
    """What one function records: its kind and, for commands and flows, the event types."""

    kind: str
    event_types: tuple[str, ...] = ()
    function: str = ""
    # Types the command's own effects record after its event, pointing to it (`caused_by`).
    effects: tuple[str, ...] = ()
    # Its input is a live proof checked now (never stored): keywords, not a command.
    proof: bool = False


_DECLARATIONS: dict[str, Declaration] = {}


def _declare(
    kind: str, event_types: tuple[str, ...], effects: tuple[str, ...] = (), proof: bool = False
) -> Callable[[Callable], Callable]:
    def mark(function: Callable) -> Callable:
        name = f"{function.__module__}.{function.__qualname__}"
        declaration = Declaration(
            kind=kind, event_types=event_types, function=name, effects=effects, proof=proof
        )
        setattr(function, DECLARATION_ATTRIBUTE, declaration)
        _DECLARATIONS[name] = declaration
        return function

    return mark


def emits(
    event_type: str, *alternatives: str, effects: tuple[str, ...] = (), proof: bool = False
) -> Callable[[Callable], Callable]:
    """Declare a command: each call records one event of `event_type` (or of one of the
    `alternatives`, chosen by the input, e.g. created or updated). `effects`: the types its
    own follow-up changes record inside `caused_by(event)` (the secret a rotation retires).
    `proof`: its input is a live proof checked now, taken as keywords (never stored)."""
    return _declare(SERVICE, (event_type, *alternatives), effects, proof)


def flow(*event_types: str, proof: bool = False) -> Callable[[Callable], Callable]:
    """Declare a flow: it records the events of the commands it runs, plus `event_types`
    it records itself. `proof`: as for `emits`."""
    return _declare(FLOW, event_types, proof=proof)


def reads(function: Callable) -> Callable:
    """Declare a function that changes nothing a history would show."""
    return _declare(READS, ())(function)


def step(function: Callable) -> Callable:
    """Declare a part of a command, run inside the command's transaction and event."""
    return _declare(STEP, ())(function)


def upkeep(function: Callable) -> Callable:
    """Declare a function that keeps short-lived working state only."""
    return _declare(UPKEEP, ())(function)


def declaration(function: Callable) -> Declaration | None:
    return getattr(function, DECLARATION_ATTRIBUTE, None)


def declarations() -> dict[str, Declaration]:
    """Every declared function by dotted name, for checks."""
    return dict(_DECLARATIONS)


# --- Payload shapes ----------------------------------------------------------------------
#
# Each event type declares the shape of its diff when it is registered
# (`audit.register({...}, payloads={...})` in each app's audit_actions*.py), and
# `portal.audit.record` checks every diff against it: a key the shape does not name, or a
# value that is not a `[before, after]` pair where the shape says so, is a programming error
# (it raises where settings.EVENT_PAYLOADS_STRICT is on, as in the tests, and is logged
# otherwise). Consumers (webhooks, the history view) read only the keys a shape names.


@dataclass(frozen=True)
class Payload:
    """The keys an event's diff may carry, each one optional (a diff names what changed):
    `pairs` hold `[before, after]`, `values` plain values (a count, the context's name)."""

    pairs: frozenset[str] = frozenset()
    values: frozenset[str] = frozenset()
    # Keys beyond those are allowed too: the profile fields a tenant defines itself.
    open: bool = False

    @property
    def keys(self) -> frozenset[str]:
        return self.pairs | self.values

    def problems(self, diff: dict[str, Any]) -> list[str]:
        """What in `diff` leaves this shape (empty when it fits)."""
        found = []
        if not self.open:
            unknown = sorted(str(key) for key in diff if key not in self.keys)
            if unknown:
                found.append(f"undeclared keys {unknown}")
        loose = sorted(
            str(key)
            for key, value in diff.items()
            if key in self.pairs and not (isinstance(value, list) and len(value) == 2)
        )
        if loose:
            found.append(f"values that are not [before, after] pairs {loose}")
        return found


def payload(
    *keys: str, pairs: bool = True, values: tuple[str, ...] = (), open: bool = False
) -> Payload:
    """The shape of a diff: `payload("Email", "FirstName")` for `[before, after]` pairs,
    `values=("name",)` for plain values beside them (`pairs=False`: `keys` are plain too),
    `open=True` when tenant-defined keys may appear as well."""
    if pairs:
        return Payload(pairs=frozenset(keys), values=frozenset(values), open=open)
    return Payload(values=frozenset(keys) | frozenset(values), open=open)

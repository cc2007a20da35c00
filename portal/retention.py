"""Per-tenant retention: rows past their tenant's retention are purged in bounded batches.

Each kind of row has a tenant setting holding its days and a function deleting one batch
(`register_kind`). The core registers the two kinds it owns, events and sign-in events (the
`signin.*` events); webhooks and jobs register theirs from their `AppConfig.ready()`, since
the core imports no app. `portal.tasks` runs one purge per tenant and kind, hourly. A kind
registered without a setting holds rows that carry their own expiry (an approved
impersonation's sealed token, approvals/retention.py): its horizon is now.

The event table is the webhook relay's outbox: an event the relay has not fanned out, or
whose delivery is still pending, is kept whatever its age (`register_event_hold`: webhooks
says from which event id on it still needs them).

The audit table is append-only, on PostgreSQL under a trigger too (portal/migrations 0002,
0013): a purge deletes only inside `audit_maintenance("retention")`, which marks its own
transaction (`SET LOCAL portal.audit_maintenance`), and the ORM's guards are passed by the
model's base manager. Idempotency-Key records keep their own hourly purge after 24 hours
(`portal.idempotency`), as the API promises.
"""

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from portal import event_counts, events
from portal.models import AuditEvent, Tenant

logger = logging.getLogger("portal.retention")

# Rows one DELETE removes, and batches one purge run makes before it hands over to the next.
BATCH_SIZE = 1000
MAX_BATCHES_PER_RUN = 20
MAINTENANCE_SETTING = "portal.audit_maintenance"
MAINTENANCE_MODES = ("retention", "erasure")
SIGNIN_PREFIX = "signin."

# (tenant, horizon, batch) -> rows deleted; rows older than the horizon go, `batch` at most.
BatchPurge = Callable[[Tenant, datetime, int], int]
# tenant -> the lowest event id still needed (None: none is held).
EventHold = Callable[[Tenant], int | None]


@dataclass(frozen=True)
class RetentionKind:
    name: str
    # The tenant setting holding the days rows of this kind are kept (None: the rows carry
    # their own expiry, and the horizon is now).
    setting: str | None
    purge_batch: BatchPurge


_KINDS: dict[str, RetentionKind] = {}
_EVENT_HOLDS: list[EventHold] = []


def register_kind(name: str, *, setting: str | None, purge_batch: BatchPurge) -> None:
    """Add a kind of row to purge; registering the same name again replaces it."""
    _KINDS[name] = RetentionKind(name=name, setting=setting, purge_batch=purge_batch)


def register_event_hold(hold: EventHold) -> None:
    """Add a reader of the lowest event id some consumer still needs; twice is a no-op."""
    if not any(existing is hold for existing in _EVENT_HOLDS):
        _EVENT_HOLDS.append(hold)


def kinds() -> list[str]:
    return sorted(_KINDS)


def events_held_from(tenant: Tenant) -> int | None:
    """The lowest event id a consumer still needs (events from it on are kept)."""
    held = [value for hold in _EVENT_HOLDS if (value := hold(tenant)) is not None]
    return min(held) if held else None


@contextlib.contextmanager
def audit_maintenance(mode: str) -> Iterator[None]:
    """Let the audit trigger pass this block's retention deletes or erasure updates (the
    trigger still checks the shape of each change). The mark is set in a savepoint and
    cleared at the end of the block, so it never outlives it: an error inside rolls the
    savepoint back and the mark with it. No trigger, nothing to mark: SQLite."""
    if mode not in MAINTENANCE_MODES:
        raise ValueError(f"unknown audit maintenance {mode!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit maintenance runs inside a transaction")
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [MAINTENANCE_SETTING, mode])
        yield
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, '', true)", [MAINTENANCE_SETTING])


def _events_batch(tenant: Tenant, horizon: datetime, batch: int, *, signin: bool) -> int:
    candidates = AuditEvent._base_manager.filter(tenant=tenant, occurred_at__lt=horizon)
    if signin:
        candidates = candidates.filter(action__startswith=SIGNIN_PREFIX)
    else:
        candidates = candidates.exclude(action__startswith=SIGNIN_PREFIX)
    held_from = events_held_from(tenant)
    if held_from is not None:
        candidates = candidates.filter(id__lt=held_from)
    oldest = candidates.order_by("id").values("id")[:batch]
    with transaction.atomic(), audit_maintenance("retention"):
        deleted, _ = AuditEvent._base_manager.filter(id__in=oldest).delete()
        if deleted:
            # The feed's count snapshots still hold these rows (portal/event_counts.py).
            transaction.on_commit(lambda: event_counts.event_counts_forget(tenant_id=tenant.pk))
    return deleted


def _signin_events_batch(tenant: Tenant, horizon: datetime, batch: int) -> int:
    return _events_batch(tenant, horizon, batch, signin=True)


def _other_events_batch(tenant: Tenant, horizon: datetime, batch: int) -> int:
    return _events_batch(tenant, horizon, batch, signin=False)


register_kind("events", setting="retention_events_days", purge_batch=_other_events_batch)
register_kind(
    "signin_events", setting="retention_signin_events_days", purge_batch=_signin_events_batch
)


@dataclass(frozen=True)
class PurgeResult:
    tenant_id: int
    kind: str
    deleted: int
    batches: int
    more: bool  # the last batch was full: run again to go on


@events.upkeep
def retention_purge(
    *,
    tenant: Tenant,
    kind: str,
    batch_size: int | None = None,
    max_batches: int | None = None,
    now: datetime | None = None,
) -> PurgeResult:
    """Delete the tenant's rows of `kind` older than its retention setting, batch by batch,
    each batch its own short transaction (a run stopped midway has lost nothing and the
    next one goes on), at most `max_batches` of `batch_size` rows (BATCH_SIZE,
    MAX_BATCHES_PER_RUN). Running it twice deletes nothing more."""
    batch_size = batch_size or BATCH_SIZE
    max_batches = max_batches or MAX_BATCHES_PER_RUN
    spec = _KINDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown retention kind {kind!r}; known: {kinds()}")
    days = int(tenant.setting(spec.setting)) if spec.setting else 0
    horizon = (now or timezone.now()) - timedelta(days=days)
    deleted = batches = 0
    more = True
    while more and batches < max_batches:
        count = spec.purge_batch(tenant, horizon, batch_size)
        deleted += count
        batches += 1
        more = count >= batch_size
    logger.info(
        "retention purge tenant=%s kind=%s days=%s deleted=%s batches=%s more=%s",
        tenant.pk,
        kind,
        days,
        deleted,
        batches,
        more,
    )
    return PurgeResult(tenant.pk, kind, deleted, batches, more)

"""Exact counts of a tenant's events at a steady cost (`GET /api/v1/events`, docs/api.md).

Counting a million events costs hundreds of milliseconds; reading a page costs a few. The
count of one set of filters is therefore taken once as a snapshot, bounded by the tenant's
highest event id at that moment, and kept in the cache for SNAPSHOT_SECONDS: every request
with the same filters answers the snapshot's count plus the matching events recorded since
(ids above the bound, a short index range). Events are append-only, so that sum stays
exact; the only change that removes events, a retention purge, renews the tenant's
generation on commit (`event_counts_forget`), which retires every snapshot taken before.
Erasure rewrites payloads only, never a column a filter reads, so counts do not move.
"""

import hashlib
import uuid

from django.core.cache import cache
from django.db.models import Max, QuerySet

from portal.models import AuditEvent, Tenant

# How long a snapshot serves. An event whose transaction was still open while the snapshot
# was counted, and whose id lies below its bound, is counted from the next snapshot on.
SNAPSHOT_SECONDS = 60


def _generation_key(tenant_id: int) -> str:
    return f"events:count-generation:{tenant_id}"


def event_counts_forget(*, tenant_id: int) -> None:
    """Retire the tenant's count snapshots: call once events were deleted (after commit)."""
    cache.set(_generation_key(tenant_id), uuid.uuid4().hex, timeout=None)


def event_count(*, tenant: Tenant, matching: QuerySet[AuditEvent], filters: tuple) -> int:
    """How many events `matching` holds, exactly. `matching` is the tenant's events under
    the request's filters, `filters` the values that built it (types, actor, uid, times):
    the snapshot is shared by every request with the same ones."""
    digest = hashlib.sha256(repr((tenant.api_key, filters)).encode()).hexdigest()[:40]
    key, generation_key = f"events:count:{tenant.pk}:{digest}", _generation_key(tenant.pk)
    held = cache.get_many([key, generation_key])  # one round trip
    generation = held.get(generation_key)
    if generation is None:
        # A fresh random generation, so an evicted one never revives what it retired.
        cache.add(generation_key, uuid.uuid4().hex, timeout=None)
        generation = cache.get(generation_key)
    snapshot = held.get(key)
    if snapshot is not None and snapshot[0] == generation:
        _, bound, counted = snapshot
        return int(counted) + matching.filter(id__gt=bound).count()
    bound = AuditEvent.objects.filter(tenant=tenant).aggregate(top=Max("id"))["top"] or 0
    counted = matching.filter(id__lte=bound).count()
    cache.set(key, (generation, bound, counted), SNAPSHOT_SECONDS)
    # Events recorded between the bound and the count are answered too.
    return counted + matching.filter(id__gt=bound).count()

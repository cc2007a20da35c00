"""What webhooks tells the core's retention (portal/retention.py): the deliveries it may
purge, and the events it still needs.

- Finished deliveries (succeeded, or failed for good) older than the tenant's
  `retention_webhook_deliveries_days` are deleted; a pending one stays (its endpoint may be
  switched off and on again).
- Events from the relay's cursor on (not fanned out yet), and those a pending delivery of
  the tenant will still send, are kept whatever their age.
"""

from datetime import datetime

from django.db.models import Min

from portal import retention
from portal.models import Tenant
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookRelayCursor
from webhooks.services.relay import CURSOR


def deliveries_purge_batch(tenant: Tenant, horizon: datetime, batch: int) -> int:
    oldest = (
        WebhookDelivery.objects.filter(endpoint__tenant=tenant, created_at__lt=horizon)
        .exclude(state=WebhookDelivery.PENDING)
        .order_by("id")
        .values("id")[:batch]
    )
    deleted, _ = WebhookDelivery.objects.filter(id__in=oldest).delete()
    return deleted


def events_needed_from(tenant: Tenant) -> int | None:
    """The lowest event id the relay may still read or send for `tenant`."""
    needed = []
    cursor = WebhookRelayCursor.objects.filter(name=CURSOR).values_list("last_event_id", flat=True)
    last_read = cursor.first()
    if last_read is not None:
        needed.append(last_read + 1)
    else:  # no relay has run yet: it will start after the oldest endpoint's first event
        first = WebhookEndpoint.objects.aggregate(first=Min("since_event_id"))["first"]
        if first is not None:
            needed.append(first + 1)
    pending = WebhookDelivery.objects.filter(
        endpoint__tenant=tenant, state=WebhookDelivery.PENDING
    ).aggregate(first=Min("event_id"))["first"]
    if pending is not None:
        needed.append(pending)
    return min(needed) if needed else None


def register() -> None:
    retention.register_kind(
        "webhook_deliveries",
        setting="retention_webhook_deliveries_days",
        purge_batch=deliveries_purge_batch,
    )
    retention.register_event_hold(events_needed_from)

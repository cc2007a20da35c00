"""The outbox's figures for Prometheus, read from the database when a scrape comes: how many
messages wait (queued, or claimed by a worker and being sent) and how long the oldest queued
one has waited. A growing age means delivery has stalled (no worker, the provider down)."""

import logging

from django.db import DatabaseError, connection
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from portal import metrics
from tokens.models import OutboxMessage

logger = logging.getLogger("tokens.metrics")

WAITING_STATUSES = (OutboxMessage.QUEUED, OutboxMessage.SENDING)


class OutboxBacklogCollector(Collector):
    def collect(self):
        try:
            rows = list(
                OutboxMessage.objects.filter(status__in=WAITING_STATUSES)
                .values("status")
                .annotate(count=Count("pk"), oldest=Min("created"))
                .order_by()
            )
        except DatabaseError as exc:
            # The scrape still answers the worker's other figures; readiness reports the database.
            logger.warning("outbox backlog not read: %s", type(exc).__name__)
            return
        finally:
            # Each scrape runs on a thread of its own: its connection must not outlive it.
            if not connection.in_atomic_block:
                connection.close()
        by_status = {row["status"]: row for row in rows}
        backlog = GaugeMetricFamily(
            "portal_outbox_messages",
            "Outbox messages waiting for delivery: queued, or being sent by a worker.",
            labels=["status"],
        )
        for status in WAITING_STATUSES:
            backlog.add_metric([status], by_status.get(status, {}).get("count", 0))
        yield backlog
        oldest = by_status.get(OutboxMessage.QUEUED, {}).get("oldest")
        age = max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0
        yield GaugeMetricFamily(
            "portal_outbox_oldest_queued_age_seconds",
            "Seconds since the oldest queued outbox message was written (0 when none waits).",
            value=age,
        )


def register() -> None:
    metrics.register_scrape_collector(OutboxBacklogCollector())

"""Celery tasks of the core: thin, they call the upkeep function."""

from celery import shared_task

from portal import retention
from portal.console.dashboard_stats import console_account_stats_refresh_task
from portal.idempotency import idempotency_records_purge
from portal.models import Tenant

__all__ = [
    "console_account_stats_refresh_task",
    "idempotency_records_purge_task",
    "retention_purge_kind_task",
    "retention_purge_task",
]


@shared_task(name="portal.idempotency_records_purge")
def idempotency_records_purge_task() -> int:
    """Delete Idempotency-Key records past their 24 hours."""
    return idempotency_records_purge()


@shared_task(name="portal.retention_purge", ignore_result=True)
def retention_purge_task() -> None:
    """Beat, hourly: one purge task per tenant and kind of row (portal/retention.py)."""
    for tenant_id in Tenant.objects.order_by("id").values_list("id", flat=True):
        for kind in retention.kinds():
            retention_purge_kind_task.delay(tenant_id, kind)


@shared_task(name="portal.retention_purge_kind", acks_late=True, ignore_result=True)
def retention_purge_kind_task(tenant_id: int, kind: str) -> int:
    """Purge one tenant's rows of one kind, a bounded number of batches per run; a run that
    stopped with rows left queues the next (safe to retry: a purge is idempotent)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return 0
    result = retention.retention_purge(tenant=tenant, kind=kind)
    if result.more:
        retention_purge_kind_task.delay(tenant_id, kind)
    return result.deleted

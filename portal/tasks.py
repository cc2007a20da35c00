"""Celery tasks of the core: thin, they call the upkeep function."""

from celery import shared_task

from portal.idempotency import idempotency_records_purge

__all__ = ["idempotency_records_purge_task"]


@shared_task(name="portal.idempotency_records_purge")
def idempotency_records_purge_task() -> int:
    """Delete Idempotency-Key records past their 24 hours."""
    return idempotency_records_purge()

"""What bulk jobs tell the core's retention (portal/retention.py): a finished job whose end
lies further back than the tenant's `retention_job_reports_days` goes, its report rows first
(in bounded batches), then the job itself. A queued or running job is never purged. The
job's events (`job.created`, each row's change) follow the events' own retention."""

from datetime import datetime

from jobs.models import Job, JobRow
from portal import retention
from portal.models import Tenant


def _expired_jobs(tenant: Tenant, horizon: datetime):
    return Job.objects.filter(tenant=tenant, status__in=Job.FINISHED, finished_at__lt=horizon)


def job_reports_purge_batch(tenant: Tenant, horizon: datetime, batch: int) -> int:
    """One batch: report rows of expired jobs while there are any, then the jobs."""
    rows = (
        JobRow.objects.filter(job__in=_expired_jobs(tenant, horizon).values("id"))
        .order_by("id")
        .values("id")[:batch]
    )
    deleted, _ = JobRow.objects.filter(id__in=rows).delete()
    if deleted:
        return deleted
    jobs = _expired_jobs(tenant, horizon).order_by("id").values("id")[:batch]
    deleted, _ = Job.objects.filter(id__in=jobs).delete()
    return deleted


def register() -> None:
    retention.register_kind(
        "job_reports", setting="retention_job_reports_days", purge_batch=job_reports_purge_batch
    )

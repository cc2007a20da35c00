"""Reads of jobs: one tenant's jobs, their counts and their report rows."""

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, QuerySet

from jobs.errors import JobNotFound
from jobs.models import Job, JobRow
from portal.models import Tenant


def job_get(*, tenant: Tenant, job_id: Any) -> Job:
    """The tenant's job `job_id`; JobNotFound for any other (or a malformed id)."""
    if not str(job_id).isdigit() or len(str(job_id)) > 18:
        raise JobNotFound()
    job = Job.objects.filter(tenant=tenant, pk=int(job_id)).first()
    if job is None:
        raise JobNotFound()
    return job


def job_list(*, tenant: Tenant) -> QuerySet[Job]:
    """The tenant's jobs, newest first."""
    return Job.objects.filter(tenant=tenant).order_by("-id")


def job_counts(job: Job) -> dict[str, int]:
    """`total`, `processed`, `succeeded` (applied, or would apply), `failed` (unknown UIDs
    included) and `skipped` rows of the job."""
    by_state: dict[str, int] = dict(
        job.rows.order_by().values("state").annotate(n=Count("id")).values_list("state", "n")
    )
    total = sum(by_state.values())
    return {
        "total": total,
        "processed": total - by_state.get(JobRow.PENDING, 0),
        "succeeded": by_state.get(JobRow.APPLIED, 0) + by_state.get(JobRow.WOULD_APPLY, 0),
        "failed": by_state.get(JobRow.FAILED, 0) + by_state.get(JobRow.NOT_FOUND, 0),
        "skipped": by_state.get(JobRow.SKIPPED, 0),
    }


def job_report_rows(job: Job) -> Iterator[tuple[str, str, str]]:
    """`(uid, result, detail)` per row, in selection order; a row a cancelled job never ran
    reads `not_run`."""
    cancelled = job.status == Job.STATUS_CANCELLED
    for uid, state, detail in (
        job.rows.order_by("id").values_list("uid", "state", "detail").iterator(chunk_size=2000)
    ):
        if state == JobRow.PENDING and cancelled:
            state, detail = "not_run", "The job was cancelled before this row ran."
        yield uid, state, detail

"""Celery tasks of the bulk jobs: thin, they take a job id and call the service."""

from celery import shared_task

from jobs.commands import JobBatchRun
from jobs.services import BATCH_SIZE, job_batch_run

__all__ = ["job_run_task"]


@shared_task(name="jobs.job_run", acks_late=True)
def job_run_task(job_id: int) -> None:
    """Run one batch of the job's rows, then chain the next batch while rows remain."""
    if job_batch_run(JobBatchRun(job_id=job_id, batch_size=BATCH_SIZE)):
        job_run_task.delay(job_id)

"""Bulk jobs: one section command run per selected account.

A job is created with its selection snapshotted as rows (one per account, and one per
unknown UID). Each row builds the same typed command a single call builds and calls the
same service, so each account's history shows its own event. Rows run on Celery in batches;
a row is claimed (`select_for_update(skip_locked=True)`), run and marked in one
transaction, so a worker killed midway or two workers on one job never apply a row twice.
Block and unblock rows go a batch at a time: claimed, run through the set form of the
service (the same change and event per account) and marked in one transaction.

A revert is a new job whose rows undo what the first one's rows changed, each only while
its account is still at the version the first job left it at.
"""

from jobs.services.actions import (
    ACTIONS,
    BATCH_SIZE,
    Action,
    action_section,
    job_actor,
    row_command,
)
from jobs.services.creating import job_cancel, job_create, job_revert, job_schedule
from jobs.services.running import job_batch_run

__all__ = [
    "ACTIONS",
    "BATCH_SIZE",
    "Action",
    "action_section",
    "job_actor",
    "job_batch_run",
    "job_cancel",
    "job_create",
    "job_revert",
    "job_schedule",
    "row_command",
]

"""A bulk job and its rows: the accounts it selected when it was created, one row each."""

from django.db import models

from portal.models import Tenant


class Job(models.Model):
    STATUS_QUEUED = "queued"
    STATUS_RUNNING = "running"
    STATUS_SUCCEEDED = "succeeded"
    STATUS_FAILED = "failed"
    STATUS_CANCELLED = "cancelled"
    STATUSES = (STATUS_QUEUED, STATUS_RUNNING, STATUS_SUCCEEDED, STATUS_FAILED, STATUS_CANCELLED)
    FINISHED = (STATUS_SUCCEEDED, STATUS_FAILED, STATUS_CANCELLED)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="jobs")
    action = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    # The command each row runs, as stored (portal.commands, sealed): action + params + why.
    command = models.JSONField()
    status = models.CharField(
        max_length=12, choices=[(s, s) for s in STATUSES], default=STATUS_QUEUED
    )
    dry_run = models.BooleanField(default=False)
    reason = models.CharField(max_length=500)
    ticket = models.CharField(max_length=200, blank=True)
    # Who asked: every row's event names this actor.
    actor_type = models.CharField(max_length=20)
    actor_id = models.CharField(max_length=100, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    reverts = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reverted_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The job.created event: every row's event and job.finished point to it (`caused_by`), so
    # an account's history shows which job changed it.
    created_event_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-id"], name="jobs_job_tenant_id")]

    def __str__(self) -> str:
        return f"job {self.pk} {self.action} ({self.status})"


class JobRow(models.Model):
    """One selected account (or unknown UID) of a job. A row is claimed, run and marked in
    one transaction, so a worker killed midway leaves it pending, never applied twice."""

    PENDING = "pending"
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_FOUND = "not_found"
    WOULD_APPLY = "would_apply"
    STATES = (PENDING, APPLIED, FAILED, SKIPPED, NOT_FOUND, WOULD_APPLY)

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="rows")
    uid = models.CharField(max_length=255)
    state = models.CharField(max_length=12, choices=[(s, s) for s in STATES], default=PENDING)
    detail = models.CharField(max_length=500, blank=True)
    # Fields of the job's command this row overrides (a revert's roles: those it added).
    params = models.JSONField(null=True, blank=True)
    # What undoes this row (None: it changed nothing a revert should undo).
    undo = models.JSONField(null=True, blank=True)
    # A revert's row runs only while the account is still at this version.
    expected_version = models.CharField(max_length=40, blank=True)
    # The account's version right after this row applied (accounts.selectors.account_version).
    version_after = models.CharField(max_length=40, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "state", "id"], name="jobs_row_job_state")]

    def __str__(self) -> str:
        return f"{self.uid}: {self.state}"

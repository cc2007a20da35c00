"""Creating, cancelling and reverting a job: the selection is snapshotted as rows."""

from typing import Any

from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.models import Account
from jobs.commands import JobCancel, JobCreate, JobRevert
from jobs.errors import (
    JobCountMismatch,
    JobFinished,
    JobNotFound,
    JobNotRevertible,
    JobSelectionEmpty,
)
from jobs.models import Job, JobRow
from jobs.services.actions import (
    ACTIONS,
    FILTER_KEYS,
    JOB_ROWS_MAX,
    SET_ACTIONS,
    SET_CHAINS,
    action_named,
    job_actor,
    params_checked,
    row_command,
    why_checked,
)
from portal import audit, events
from portal.audit import Actor
from portal.errors import FieldError, InvalidInput
from portal.models import Tenant


def _filter_query(raw: Any) -> QueryDict:
    if not isinstance(raw, dict):
        raise InvalidInput(field_errors=[FieldError("filter", "A JSON object.")])
    unknown = sorted(set(raw) - FILTER_KEYS)
    if unknown:
        raise InvalidInput(
            field_errors=[
                FieldError(f"filter.{key}", "The account search has no such filter.", "unknown")
                for key in unknown
            ]
        )
    query = QueryDict(mutable=True)
    for key, value in raw.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if value is None or isinstance(value, (dict, list)):
            raise InvalidInput(field_errors=[FieldError(f"filter.{key}", "A single value.")])
        if "\x00" in str(value):
            raise InvalidInput(field_errors=[FieldError(f"filter.{key}", "Not a valid value.")])
        if str(value).strip():
            query[key] = str(value)
    return query


def _selection(*, tenant: Tenant, uids: Any, filter: Any) -> tuple[list[str], set[str]]:
    """The UIDs a job selects, in order, and those that name an account of the tenant."""
    if uids and filter:
        raise InvalidInput(
            field_errors=[FieldError("filter", "Name the accounts by uids or by filter, not both.")]
        )
    if uids:
        if not isinstance(uids, (list, tuple)) or not all(
            isinstance(u, str) and "\x00" not in u and len(u) <= 255 for u in uids
        ):
            raise InvalidInput(field_errors=[FieldError("uids", "A list of UIDs.")])
        wanted = list(dict.fromkeys(u.strip() for u in uids if u.strip()))
        if not wanted:
            raise JobSelectionEmpty()
        if len(wanted) > JOB_ROWS_MAX:
            raise InvalidInput(field_errors=[FieldError("uids", f"At most {JOB_ROWS_MAX}.")])
        found: set[str] = set()
        for start in range(0, len(wanted), 1000):
            found.update(
                Account.objects.filter(tenant=tenant, uid__in=wanted[start : start + 1000])
                .order_by()
                .values_list("uid", flat=True)
            )
        return wanted, found
    query = _filter_query(filter or {})
    if not query:
        raise JobSelectionEmpty()
    matching = account_selectors.account_search(tenant=tenant, params=query)
    selected = list(matching.order_by("id").values_list("uid", flat=True)[: JOB_ROWS_MAX + 1])
    if len(selected) > JOB_ROWS_MAX:
        raise InvalidInput(
            field_errors=[FieldError("filter", f"It selects more than {JOB_ROWS_MAX} accounts.")]
        )
    return selected, set(selected)


# --- Commands ----------------------------------------------------------------------------


@events.emits("job.created", effects=("job.finished",))
def job_create(command: JobCreate, *, tenant: Tenant, actor: Actor) -> Job:
    """Snapshot the selection as rows and queue the job (a dry run's rows say what would
    apply, and nothing else is written). Refused: no reason, an empty selection, or, for a
    destructive action, a count other than the one the caller confirmed."""
    action = action_named(command.action)
    reason, ticket = why_checked(command.reason, command.ticket)
    params = params_checked(command.action, action, command.params)
    stored = row_command(command.action, params, reason=reason, ticket=ticket)
    uids, found = _selection(tenant=tenant, uids=command.uids, filter=command.filter)
    if action.destructive and not command.dry_run:
        if command.expected_count is None:
            raise InvalidInput(
                f"This action needs expected_count: the selection holds {len(found)} accounts now.",
                field_errors=[
                    FieldError(
                        "expected_count",
                        f"Run a dry run and confirm its count ({len(found)} now).",
                        "required",
                    )
                ],
            )
        if command.expected_count != len(found):
            raise JobCountMismatch(len(found), command.expected_count)
    pending = JobRow.WOULD_APPLY if command.dry_run else JobRow.PENDING
    with transaction.atomic():
        job = Job.objects.create(
            tenant=tenant,
            action=command.action,
            params=params,
            command=stored.to_json(seal=True),
            dry_run=command.dry_run,
            status=Job.STATUS_SUCCEEDED if command.dry_run else Job.STATUS_QUEUED,
            finished_at=timezone.now() if command.dry_run else None,
            reason=reason,
            ticket=ticket,
            actor_type=actor.type,
            actor_id=actor.id,
            actor_label=actor.label[:200],
        )
        JobRow.objects.bulk_create(
            [
                JobRow(
                    job=job,
                    uid=uid[:255],
                    state=pending if uid in found else JobRow.NOT_FOUND,
                    detail="" if uid in found else "No account has this UID.",
                )
                for uid in uids
            ],
            batch_size=1000,
        )
        _record_created(job, total=len(uids))
    return job


def _record_created(job: Job, *, total: int) -> None:
    event = audit.record(
        tenant=job.tenant,
        actor=job_actor(job),
        action="job.created",
        reason=job.reason,
        ticket=job.ticket,
        changes={
            "job": job.pk,
            "action": job.action,
            "params": job.params,
            "total": total,
            "dry_run": job.dry_run,
            "reverts": job.reverts_id,
        },
    )
    job.created_event_id = event.pk
    job.save(update_fields=["created_event_id"])
    if job.status == Job.STATUS_QUEUED:
        chains = SET_CHAINS if job.action in SET_ACTIONS else 1
        transaction.on_commit(lambda: job_schedule(job.pk, chains=chains), robust=True)


@events.upkeep
def job_schedule(job_id: int, *, chains: int = 1) -> None:
    """Hand the job's next batch to a worker (`chains` tasks, each chaining the next)."""
    from jobs.tasks import job_run_task

    for _ in range(chains):
        job_run_task.delay(job_id)


@events.emits("job.cancelled")
def job_cancel(command: JobCancel, *, tenant: Tenant, actor: Actor) -> Job:
    """Stop a job: the rows not yet run never run. Refused (JobFinished) once it finished."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(tenant=tenant, pk=command.job_id).first()
        if job is None:
            raise JobNotFound()
        if job.status in Job.FINISHED:
            raise JobFinished()
        job.status = Job.STATUS_CANCELLED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        processed = job.rows.exclude(state=JobRow.PENDING).count()
        audit.record(
            tenant=tenant,
            actor=actor,
            action="job.cancelled",
            reason=command.reason,
            ticket=command.ticket,
            changes={"job": job.pk, "action": job.action, "processed": processed},
        )
    return job


@events.emits("job.created", effects=("job.finished",))
def job_revert(command: JobRevert, *, tenant: Tenant, actor: Actor) -> Job:
    """A new job undoing what `command.job_id`'s rows changed. Refused (JobNotRevertible):
    an action nothing undoes (an unlock without `relock`), a dry run, a job still running,
    or one that changed nothing."""
    reason, ticket = why_checked(command.reason, command.ticket)
    original = Job.objects.filter(tenant=tenant, pk=command.job_id).first()
    if original is None:
        raise JobNotFound()
    reverse = ACTIONS[original.action].reverse if original.action in ACTIONS else None
    if original.action == "unlock" and not original.params.get("relock"):
        reverse = None
    if reverse is None or original.dry_run or original.status not in Job.FINISHED:
        raise JobNotRevertible()
    if original.reverted_by.exclude(status=Job.STATUS_FAILED).exists():
        raise JobNotRevertible("The job has already been reverted.")
    applied = list(
        original.rows.filter(state=JobRow.APPLIED, undo__isnull=False)
        .order_by("id")
        .values_list("uid", "undo", "version_after")
    )
    if not applied:
        raise JobNotRevertible("The job changed no account that a revert could restore.")
    params = {"roles": original.params["roles"]} if "roles" in original.params else {}
    stored = row_command(reverse, params, reason=reason, ticket=ticket)
    with transaction.atomic():
        job = Job.objects.create(
            tenant=tenant,
            action=reverse,
            params=params,
            command=stored.to_json(seal=True),
            reason=reason,
            ticket=ticket,
            actor_type=actor.type,
            actor_id=actor.id,
            actor_label=actor.label[:200],
            reverts=original,
        )
        JobRow.objects.bulk_create(
            [
                JobRow(job=job, uid=uid, params=undo or None, expected_version=version)
                for uid, undo, version in applied
            ],
            batch_size=1000,
        )
        _record_created(job, total=len(applied))
    return job

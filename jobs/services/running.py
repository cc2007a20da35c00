"""Running a job's rows in batches: each row claimed, run and marked in one transaction, or,
for block and unblock, a batch claimed, run through the set form of the service and marked
in one transaction."""

import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any, cast

from django.db import transaction
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import Account
from jobs.commands import JobBatchRun
from jobs.models import Job, JobRow
from jobs.selectors import job_counts
from jobs.services.actions import job_actor
from portal import audit, events
from portal.audit import Actor
from portal.commands import Command
from portal.errors import AccountNotFound, DomainError, FieldRequired
from portal.models import Tenant
from roles import selectors as role_selectors
from roles import services as role_services
from security import selectors as security_selectors
from security import services as security_services
from tokens.services.multipurpose import verification_email_send
from tokens.services.sessions import account_sessions_revoke

logger = logging.getLogger(__name__)

# --- Running -----------------------------------------------------------------------------


@events.flow("job.finished")
def job_batch_run(command: JobBatchRun) -> bool:
    """Run up to `batch_size` pending rows of the job, each in its own transaction with the
    service's change (for the set actions, the whole batch in one, through the set form
    of the service); returns whether this chain should run the next batch. The run that finds none left finishes
    the job (`job.finished`, once). The events rows record point to the job's own
    (`caused_by` its job.created event)."""
    job = Job.objects.select_related("tenant").filter(pk=command.job_id).first()
    if job is None or job.status in Job.FINISHED:
        return False
    cause = (
        events.caused_by(job.created_event_id)
        if job.created_event_id is not None
        else contextlib.nullcontext()
    )
    with cause:
        return _batch_run(job, batch_size=command.batch_size)


def _batch_run(job: Job, *, batch_size: int) -> bool:
    if job.status == Job.STATUS_QUEUED:
        Job.objects.filter(pk=job.pk, status=Job.STATUS_QUEUED).update(status=Job.STATUS_RUNNING)
    try:
        stored = Command.from_json(job.command)
    except (ValueError, TypeError, KeyError):
        _finish(job.pk, Job.STATUS_FAILED)
        return False
    actor = job_actor(job)
    try:
        if job.action in SET_SERVICES:
            claimed = _set_batch_run(job, stored, actor, batch_size=batch_size)
            if claimed is None:
                return False
            if not claimed and JobRow.objects.filter(job_id=job.pk, state=JobRow.PENDING).exists():
                # Every pending row is in another chain's batch: that chain carries on (or,
                # killed, its redelivered task does).
                return False
        else:
            if not _rows_run(job, stored, actor, batch_size=batch_size):
                return False
    except Exception:
        # Not a refusal of one row (those mark the row failed) but a fault of the job
        # itself: it stops as failed rather than staying "running" for ever.
        logger.exception("bulk job %s stopped", job.pk)
        _finish(job.pk, Job.STATUS_FAILED)
        return False
    if JobRow.objects.filter(job_id=job.pk, state=JobRow.PENDING).exists():
        return not Job.objects.filter(pk=job.pk, status__in=Job.FINISHED).exists()
    _finish(job.pk, Job.STATUS_SUCCEEDED)
    return False


def _rows_run(job: Job, stored: Command, actor: Actor, *, batch_size: int) -> bool:
    """Up to `batch_size` rows, one transaction each; False once the job was cancelled."""
    for _ in range(batch_size):
        with transaction.atomic():
            row = (
                JobRow.objects.select_for_update(skip_locked=True)
                .filter(job_id=job.pk, state=JobRow.PENDING)
                .order_by("id")
                .first()
            )
            if row is None:
                break
            if Job.objects.filter(pk=job.pk, status=Job.STATUS_CANCELLED).exists():
                return False
            _row_run(job, stored, row, actor)
    return True


# The actions of jobs.services.actions.SET_ACTIONS: their rows run a batch at a time through
# the set form of the row's service (the same change and event per account as the single
# call, a few statements per batch).
SET_SERVICES: dict[str, Callable[..., list[Account]]] = {
    "block": account_services.accounts_block,
    "unblock": account_services.accounts_unblock,
}


def _set_batch_run(job: Job, stored: Command, actor: Actor, *, batch_size: int) -> int | None:
    """Claim up to `batch_size` pending rows, run them through the set form of the action's
    service and mark them, all in one transaction: a worker killed midway leaves the whole
    batch pending, never half applied. The rows are claimed `skip_locked`, so several
    workers share a job batch by batch. Returns how many rows it claimed (None: the job
    was cancelled)."""
    with transaction.atomic():
        rows = list(
            JobRow.objects.select_for_update(skip_locked=True)
            .filter(job_id=job.pk, state=JobRow.PENDING)
            .order_by("id")[:batch_size]
        )
        if not rows:
            return 0
        if Job.objects.filter(pk=job.pk, status=Job.STATUS_CANCELLED).exists():
            return None
        now = timezone.now()
        # A pre-check decides what the single call would refuse, so no row needs a savepoint.
        accounts = account_services.accounts_locked(
            tenant=job.tenant, uids=[row.uid for row in rows]
        )
        applying: list[tuple[JobRow, Account]] = []
        for row in rows:
            row.finished_at = now
            account = accounts.get(row.uid)
            if account is None:
                row.state, row.detail = JobRow.FAILED, "The account no longer exists."
            elif (
                row.expected_version
                and account_selectors.account_version(account) != row.expected_version
            ):
                row.state, row.detail = JobRow.SKIPPED, "The account changed since the job ran."
            else:
                row.undo = _undo(job.action, stored, account, job.params)
                applying.append((row, account))
        if applying:
            try:
                with transaction.atomic():
                    after = SET_SERVICES[job.action](
                        stored,
                        tenant=job.tenant,
                        actor=actor,
                        accounts=[account for _, account in applying],
                    )
            except DomainError as error:
                for row, _ in applying:
                    row.state, row.detail, row.undo = JobRow.FAILED, error.sentence()[:500], None
            else:
                versions = {
                    account.uid: account_selectors.account_version(account) for account in after
                }
                for row, _ in applying:
                    row.state, row.version_after = JobRow.APPLIED, versions[row.uid]
        _rows_mark(rows)
    return len(rows)


def _rows_mark(rows: list[JobRow]) -> None:
    """Write the rows' outcomes: one UPDATE per distinct outcome (a batch has a few)."""
    outcomes: dict[tuple[str, str, str, str | None, Any], list[int]] = {}
    for row in rows:
        undo = json.dumps(row.undo, sort_keys=True) if row.undo is not None else None
        key = (row.state, row.detail, row.version_after, undo, row.finished_at)
        outcomes.setdefault(key, []).append(row.pk)
    for (state, detail, version_after, undo, finished_at), ids in outcomes.items():
        JobRow.objects.filter(pk__in=ids).update(
            state=state,
            detail=detail,
            version_after=version_after,
            undo=json.loads(undo) if undo is not None else None,
            finished_at=finished_at,
        )


def _row_run(job: Job, command: Command, row: JobRow, actor: Actor) -> None:
    """Run one claimed row and mark it, in the caller's transaction."""
    row.finished_at = timezone.now()
    try:
        account = account_selectors.account_get(tenant=job.tenant, uid=row.uid)
    except AccountNotFound:
        row.state, row.detail = JobRow.FAILED, "The account no longer exists."
        row.save(update_fields=["state", "detail", "finished_at"])
        return
    if row.expected_version and account_selectors.account_version(account) != row.expected_version:
        row.state, row.detail = JobRow.SKIPPED, "The account changed since the job ran."
        row.save(update_fields=["state", "detail", "finished_at"])
        return
    if row.params:
        command = dataclasses.replace(
            cast(Any, command),  # every Command type is a frozen dataclass
            **{k: tuple(v) if isinstance(v, list) else v for k, v in row.params.items()},
        )
    try:
        with transaction.atomic():
            undo = _undo(job.action, command, account, job.params)
            _apply(job.action, command, tenant=job.tenant, actor=actor, account=account)
    except DomainError as error:
        row.state, row.detail = JobRow.FAILED, error.sentence()[:500]
        row.save(update_fields=["state", "detail", "finished_at"])
        return
    row.state, row.undo = JobRow.APPLIED, undo
    if job.action != "delete":
        after = account_selectors.account_get(tenant=job.tenant, uid=account.uid)
        row.version_after = account_selectors.account_version(after)
    row.save(update_fields=["state", "undo", "version_after", "finished_at"])


def _apply(name: str, command: Any, *, tenant: Tenant, actor: Actor, account: Account) -> None:
    who = {"tenant": tenant, "actor": actor, "account": account}
    if name == "block":
        account_services.account_block(command, **who)
    elif name == "unblock":
        account_services.account_unblock(command, **who)
    elif name == "delete":
        account_services.account_delete(command, **who)
    elif name == "unlock":
        security_services.account_unlock(command, **who)
    elif name == "lock":
        security_services.account_lock(command, **who)
    elif name == "reset_factor":
        security_services.mfa_factor_reset(command, **who)
    elif name == "revoke_sessions":
        account_sessions_revoke(command, **who)
    elif name == "assign_roles":
        role_services.account_roles_assign(command, **who)
    elif name == "unassign_roles":
        role_services.account_roles_unassign(command, **who)
    elif name == "send_verification":
        emails = account_selectors.account_email_rows(account)
        primary = next((e for e in emails if e["type"] == "Primary"), emails[0] if emails else None)
        if primary is None:
            raise FieldRequired("email", "The account has no email address.")
        # The stored command names no address: each row sends to its account's primary.
        verification_email_send(
            dataclasses.replace(command, email=primary["value"]),
            tenant=tenant,
            account=account,
            actor=actor,
        )
    else:  # pragma: no cover - ACTIONS names every action above
        raise ValueError(name)


def _undo(name: str, command: Any, account: Account, params: dict[str, Any]) -> dict | None:
    """What undoes this row's change, read before it applies (None: nothing to undo)."""
    if name == "block":
        return {} if account.is_active else None
    if name == "unblock":
        return {} if not account.is_active else None
    if name in ("unlock", "lock"):
        locked = security_selectors.login_lock_active(account=account)
        if name == "unlock":
            return {} if locked and params.get("relock") else None
        return {} if not locked else None
    if name in ("assign_roles", "unassign_roles"):
        held = set(role_selectors.account_role_names(account=account))
        if name == "assign_roles":
            changed = [r for r in command.roles if r not in held]
        else:
            changed = [r for r in command.roles if r in held]
        return {"roles": changed} if changed else None
    return None


def _finish(job_id: int, status: str) -> None:
    with transaction.atomic():
        job = Job.objects.select_for_update().select_related("tenant").get(pk=job_id)
        if job.status in Job.FINISHED:
            return
        job.status = status
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        counts = job_counts(job)
        audit.record(
            tenant=job.tenant,
            actor=job_actor(job),
            action="job.finished",
            reason=job.reason,
            ticket=job.ticket,
            changes={
                "job": job.pk,
                "action": job.action,
                "status": status,
                "succeeded": counts["succeeded"],
                "failed": counts["failed"],
                "skipped": counts["skipped"],
            },
        )

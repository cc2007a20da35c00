"""Four-eyes approval: a gated command is stored as a request; a second person approves it
(it runs then, once) or denies it; the requester may withdraw it; time closes it.

The rules of a decision live here, not in a front door: the approver is someone other than
the requester, holds the approval permission on the tenant, and has no pending request of
their own on the same account. Approving runs the stored command through its own service
inside the approval's transaction, with the requester as its actor and its event pointing
to the approval (`caused_by`), after checking again that the requester may still do it; a
command the service now refuses (the account was deleted, the address is taken) leaves the
request `failed` with the reason, and changes nothing else.
"""

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from approvals import executors
from approvals.commands import (
    ApprovalApprove,
    ApprovalCancel,
    ApprovalDeny,
    ApprovalExpire,
    ApprovalRequestCreate,
    ApprovalResultCollect,
)
from approvals.errors import (
    ApprovalCommandUnknown,
    ApprovalExpired,
    ApprovalNotAllowed,
    ApprovalNotFound,
    ApprovalNotPending,
    ApprovalOwnRequest,
    ApprovalPendingOwnRequest,
    ApprovalRequesterNotAllowed,
    ApprovalResultCollected,
    ApprovalResultExpired,
    ApprovalResultUnavailable,
)
from approvals.models import ApprovalRequest
from approvals.policy import GATES
from portal import access_grants, audit, events, staff
from portal.audit import Actor
from portal.commands import Command
from portal.errors import (
    AccountNotFound,
    DomainError,
    FieldError,
    FieldRequired,
    InvalidInput,
)
from portal.models import ApiCredential, AuditEvent, Tenant

APPROVER_ACTION = "approvals.decide"
SUMMARY_MAX_LENGTH = 500
NOTE_MAX_LENGTH = 500


def _actor_of(request: ApprovalRequest) -> Actor:
    return Actor(request.requested_by_type, request.requested_by_id, request.requested_by_label)


def _is_requester(request: ApprovalRequest, actor: Actor) -> bool:
    return (request.requested_by_type, request.requested_by_id) == (actor.type, actor.id)


def _locked(tenant: Tenant, request_id: int) -> ApprovalRequest:
    request = (
        ApprovalRequest.objects.select_for_update().filter(tenant=tenant, pk=request_id).first()
    )
    if request is None:
        raise ApprovalNotFound()
    return request


def _pending(request: ApprovalRequest) -> None:
    if request.status != ApprovalRequest.PENDING:
        raise ApprovalNotPending()
    if request.expires_at <= timezone.now():
        raise ApprovalExpired()


def _note(note: str) -> str:
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            field_errors=[FieldError("note", f"At most {NOTE_MAX_LENGTH} characters.")]
        )
    return note.strip()


def _approver_checked(request: ApprovalRequest, *, tenant: Tenant, approver) -> Actor:
    actor = Actor.staff(approver)
    if _is_requester(request, actor):
        raise ApprovalOwnRequest()
    if not staff.staff_may(user=approver, tenant=tenant, action=APPROVER_ACTION):
        raise ApprovalNotAllowed()
    if request.account_uid and (
        ApprovalRequest.objects.filter(
            tenant=tenant,
            account_uid=request.account_uid,
            status=ApprovalRequest.PENDING,
            requested_by_type=actor.type,
            requested_by_id=actor.id,
        )
        .exclude(pk=request.pk)
        .exists()
    ):
        raise ApprovalPendingOwnRequest()
    return actor


def _requester_may(request: ApprovalRequest, command: Command, *, tenant: Tenant) -> None:
    """Whoever asked must still be allowed to do what runs now: by their standing role, or
    by a live grant to act on that account (a grant lets them ask; it never skips the gate)."""
    if request.requested_by_type == AuditEvent.ACTOR_STAFF:
        user = get_user_model().objects.filter(pk=request.requested_by_id).first()
        action = executors.console_action_of(command)
        if user is None or not access_grants.staff_may_on_account(
            user=user, tenant=tenant, action=action, uid=request.account_uid
        ):
            raise ApprovalRequesterNotAllowed()
        return
    if request.requested_by_type == AuditEvent.ACTOR_CREDENTIAL:
        credential = ApiCredential.objects.filter(tenant=tenant, pk=request.requested_by_id).first()
        if (
            credential is None
            or not credential.is_usable
            or not credential.allows(executors.section_of(command))
        ):
            raise ApprovalRequesterNotAllowed()
        return
    raise ApprovalRequesterNotAllowed()


@transaction.atomic
@events.emits("approval.requested")
def approval_request(
    command: ApprovalRequestCreate, *, tenant: Tenant, actor: Actor
) -> ApprovalRequest:
    """Store `command.command` until a second person decides; the approvers hear of it by the
    event (and by email, approvals.tasks)."""
    if command.gate not in GATES:
        raise ApprovalCommandUnknown()
    try:
        stored = Command.from_json(command.command)
    except (TypeError, ValueError, KeyError) as error:
        raise ApprovalCommandUnknown() from error
    if executors.executor_of(stored) is None:
        raise ApprovalCommandUnknown()
    if not command.reason.strip():
        raise FieldRequired("reason")
    asker = ApprovalRequest(
        requested_by_type=actor.type,
        requested_by_id=actor.id,
        account_uid=command.account_uid,
    )
    _requester_may(asker, stored, tenant=tenant)  # only what one could do oneself is asked
    request = ApprovalRequest.objects.create(
        tenant=tenant,
        gate=command.gate,
        command=command.command,
        account_uid=command.account_uid,
        summary=(command.summary or GATES[command.gate])[:SUMMARY_MAX_LENGTH],
        reason=command.reason.strip()[:500],
        ticket=command.ticket.strip()[:200],
        requested_by_type=actor.type,
        requested_by_id=actor.id,
        requested_by_label=actor.label[:200],
        expires_at=timezone.now() + timedelta(hours=int(tenant.setting("approval_expiry_hours"))),
    )
    audit.record(
        tenant=tenant,
        actor=actor,
        action="approval.requested",
        subject_uid=request.account_uid,
        reason=request.reason,
        ticket=request.ticket,
        changes={
            "request": request.pk,
            "gate": request.gate,
            "command_type": stored.command_type,
            "summary": request.summary,
            "expires_at": request.expires_at.isoformat(),
        },
    )
    transaction.on_commit(lambda: approvers_notify(request.pk), robust=True)
    return request


@events.upkeep
def approvers_notify(request_id: int) -> None:
    """Hand the approvers' email about a new request to a worker."""
    from approvals.tasks import approvers_notify_task

    approvers_notify_task.delay(request_id)


@transaction.atomic
@events.emits("approval.approved", effects=("approval.failed",))
def approval_approve(command: ApprovalApprove, *, tenant: Tenant, approver) -> ApprovalRequest:
    """Approve and run the stored command, once: the row is locked, so of two approvers
    deciding together one runs it and the other is told it was decided."""
    note = _note(command.note)
    request = _locked(tenant, command.request_id)
    _pending(request)
    actor = _approver_checked(request, tenant=tenant, approver=approver)
    now = timezone.now()
    request.decided_by_type, request.decided_by_id = actor.type, actor.id
    request.decided_by_label, request.decided_at, request.decision_note = actor.label, now, note
    approved = audit.record(
        tenant=tenant,
        actor=actor,
        action="approval.approved",
        subject_uid=request.account_uid,
        reason=request.reason,
        ticket=request.ticket,
        changes={
            "request": request.pk,
            "gate": request.gate,
            "requested_by": request.requested_by_label,
            "note": note,
        },
    )
    with events.caused_by(approved.pk):
        try:
            with transaction.atomic():
                stored = Command.from_json(request.command)
                _requester_may(request, stored, tenant=tenant)
                account = None
                if executors.EXECUTORS[type(stored)].on_account:
                    account = Account.objects.filter(tenant=tenant, uid=request.account_uid).first()
                    if account is None:
                        raise AccountNotFound()
                request.result = executors.execute(
                    stored, tenant=tenant, actor=_actor_of(request), account=account
                )
        except DomainError as error:
            request.status = ApprovalRequest.FAILED
            request.failure_code, request.failure_detail = error.code, error.message[:1000]
            audit.record(
                tenant=tenant,
                actor=actor,
                action="approval.failed",
                subject_uid=request.account_uid,
                changes={
                    "request": request.pk,
                    "gate": request.gate,
                    "error": error.code,
                    "detail": request.failure_detail,
                },
            )
        else:
            request.status, request.executed_at = ApprovalRequest.EXECUTED, timezone.now()
    request.save()
    return request


@transaction.atomic
@events.emits("approval.denied")
def approval_deny(command: ApprovalDeny, *, tenant: Tenant, approver) -> ApprovalRequest:
    """Refuse the request: its command never runs."""
    note = _note(command.note)
    request = _locked(tenant, command.request_id)
    _pending(request)
    actor = _approver_checked(request, tenant=tenant, approver=approver)
    request.status = ApprovalRequest.DENIED
    request.decided_by_type, request.decided_by_id = actor.type, actor.id
    request.decided_by_label, request.decided_at = actor.label, timezone.now()
    request.decision_note = note
    request.save()
    audit.record(
        tenant=tenant,
        actor=actor,
        action="approval.denied",
        subject_uid=request.account_uid,
        reason=request.reason,
        ticket=request.ticket,
        changes={
            "request": request.pk,
            "gate": request.gate,
            "requested_by": request.requested_by_label,
            "note": note,
        },
    )
    return request


@transaction.atomic
@events.emits("approval.cancelled")
def approval_cancel(command: ApprovalCancel, *, tenant: Tenant, actor: Actor) -> ApprovalRequest:
    """Withdraw a pending request; only whoever asked may."""
    note = _note(command.note)
    request = _locked(tenant, command.request_id)
    if request.status != ApprovalRequest.PENDING:
        raise ApprovalNotPending()
    if not _is_requester(request, actor):
        raise ApprovalNotAllowed("Only whoever asked may withdraw a request.")
    request.status, request.decision_note = ApprovalRequest.CANCELLED, note
    request.decided_at = timezone.now()
    request.save()
    audit.record(
        tenant=tenant,
        actor=actor,
        action="approval.cancelled",
        subject_uid=request.account_uid,
        changes={"request": request.pk, "gate": request.gate, "note": note},
    )
    return request


@transaction.atomic
@events.emits("approval.expired")
def approval_expire(command: ApprovalExpire, *, tenant: Tenant) -> ApprovalRequest | None:
    """Close a pending request whose time ran out (None: it was decided or is not due)."""
    request = _locked(tenant, command.request_id)
    if request.status != ApprovalRequest.PENDING or request.expires_at > timezone.now():
        return None
    request.status, request.decided_at = ApprovalRequest.EXPIRED, timezone.now()
    request.save()
    audit.record(
        tenant=tenant,
        actor=Actor.system("approval expiry"),
        action="approval.expired",
        subject_uid=request.account_uid,
        changes={"request": request.pk, "gate": request.gate},
    )
    return request


@transaction.atomic
@events.emits("approval.result_collected")
def approval_result_collect(
    command: ApprovalResultCollect, *, tenant: Tenant, actor: Actor
) -> dict[str, Any]:
    """Hand the requester what the approved command produced (an impersonation token):
    only to whoever asked, once (the locked row is emptied as it is read), and not after it
    expired. The event says it was collected, never what."""
    request = _locked(tenant, command.request_id)
    if not _is_requester(request, actor):
        raise ApprovalNotAllowed(
            "Only whoever asked may collect what the approved action produced."
        )
    if request.result_collected_at is not None:
        raise ApprovalResultCollected()
    if request.status != ApprovalRequest.EXECUTED or not request.result:
        raise ApprovalResultUnavailable()
    result = executors.result_opened(request.result)
    now = timezone.now()
    if executors.result_expired(result, now=now):
        raise ApprovalResultExpired()
    request.result, request.result_collected_at = "", now
    request.save(update_fields=["result", "result_collected_at"])
    audit.record(
        tenant=tenant,
        actor=actor,
        action="approval.result_collected",
        subject_uid=request.account_uid,
        changes={"request": request.pk, "gate": request.gate},
    )
    return result


@events.upkeep
def approval_results_purge(*, tenant: Tenant, now: datetime, limit: int) -> int:
    """Empty at most `limit` kept results (impersonation tokens) that can no longer be
    collected: past their `expires_at`, sealed under a key no longer configured, or already
    collected. Returns how many were emptied. The token itself is what expired, so nothing
    an account's history shows changes (approvals/retention.py runs it hourly)."""
    due: list[int] = []
    kept = (
        ApprovalRequest.objects.filter(tenant=tenant)
        .exclude(result="")
        .order_by("id")
        .values_list("id", "result", "result_collected_at")
    )
    for pk, sealed, collected_at in kept.iterator(chunk_size=500):
        if collected_at is None:
            try:
                gone = executors.result_expired(executors.result_opened(sealed), now=now)
            except ValueError:  # no configured key opens it: it can never be collected
                gone = True
            if not gone:
                continue
        due.append(pk)
        if len(due) >= limit:
            break
    if not due:
        return 0
    with transaction.atomic():
        # A collect that locked the row first has emptied it already: counted once.
        return ApprovalRequest.objects.filter(pk__in=due).exclude(result="").update(result="")

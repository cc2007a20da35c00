"""An approval request as the native API shows it, and the gate the core's slot calls."""

from typing import Any

from approvals import policy, selectors
from approvals.commands import ApprovalRequestCreate
from approvals.models import ApprovalRequest
from approvals.services import approval_request
from portal.api.native import rfc3339
from portal.audit import Actor
from portal.commands import Command
from portal.models import Tenant


def _who(kind: str, ident: str, label: str) -> dict[str, str] | None:
    if not kind:
        return None
    return {"type": kind, "id": ident, "label": label}


def approval_json(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "gate": request.gate,
        "status": request.status,
        "uid": request.account_uid or None,
        "summary": request.summary,
        "command": selectors.what_runs(request),
        "reason": request.reason,
        "ticket": request.ticket,
        "requested_by": _who(
            request.requested_by_type, request.requested_by_id, request.requested_by_label
        ),
        "created_at": rfc3339(request.created_at),
        "expires_at": rfc3339(request.expires_at),
        "decided_by": _who(
            request.decided_by_type, request.decided_by_id, request.decided_by_label
        ),
        "decided_at": rfc3339(request.decided_at) if request.decided_at else None,
        "decision_note": request.decision_note,
        "executed_at": rfc3339(request.executed_at) if request.executed_at else None,
        "failure": (
            {"code": request.failure_code, "detail": request.failure_detail}
            if request.failure_code
            else None
        ),
    }


EXAMPLE: dict[str, Any] = {
    "id": 7,
    "gate": "account.delete",
    "status": "pending",
    "uid": "6b5f0c1d2e3a4b5c",
    "summary": "Delete the account 6b5f0c1d2e3a4b5c",
    "command": {"type": "account.delete", "fields": {"expected_version": None}},
    "reason": "erasure request",
    "ticket": "GDPR-4",
    "requested_by": {"type": "credential", "id": "12", "label": "crm-sync"},
    "created_at": "2026-12-07T09:00:00.000Z",
    "expires_at": "2026-12-08T09:00:00.000Z",
    "decided_by": None,
    "decided_at": None,
    "decision_note": "",
    "executed_at": None,
    "failure": None,
}


def hold(
    *,
    command: Command,
    tenant: Tenant,
    actor: Actor,
    account_uid: str = "",
    summary: str = "",
    selected: int | None = None,
) -> dict[str, Any] | None:
    """Fills `portal.approval_gate`: store `command` as an approval request when a gate of
    the tenant holds it (its native representation), else None."""
    gate = policy.approval_needed(command, tenant=tenant, selected=selected)
    if gate is None:
        return None
    why = {
        "reason": str(getattr(command, "reason", "") or ""),
        "ticket": str(getattr(command, "ticket", "") or ""),
    }
    request = approval_request(
        ApprovalRequestCreate(
            gate=gate,
            command=command.to_json(seal=True),
            account_uid=account_uid,
            summary=summary or policy.GATES[gate],
            **why,
        ),
        tenant=tenant,
        actor=actor,
    )
    return approval_json(request)

"""Reads of approval requests: the approvers' queue and one request with its command."""

from typing import Any

from django.db.models import QuerySet

from approvals.errors import ApprovalNotFound
from approvals.models import ApprovalRequest
from portal import events
from portal.commands import Command
from portal.models import Tenant


@events.reads
def approval_requests(
    *,
    tenant: Tenant,
    status: str | None = None,
    gate: str | None = None,
    account_uid: str | None = None,
    requested_by: str | None = None,
) -> QuerySet[ApprovalRequest]:
    """The tenant's requests, newest first, narrowed by the filters given."""
    found = ApprovalRequest.objects.filter(tenant=tenant)
    if status:
        found = found.filter(status=status)
    if gate:
        found = found.filter(gate=gate)
    if account_uid:
        found = found.filter(account_uid=account_uid)
    if requested_by:
        found = found.filter(requested_by_label=requested_by)
    return found.order_by("-id")


@events.reads
def approval_request_get(*, tenant: Tenant, request_id: Any) -> ApprovalRequest:
    try:
        number = int(request_id)
    except (TypeError, ValueError):
        raise ApprovalNotFound() from None
    found = ApprovalRequest.objects.filter(tenant=tenant, pk=number).first()
    if found is None:
        raise ApprovalNotFound()
    return found


@events.reads
def what_runs(request: ApprovalRequest) -> dict[str, Any]:
    """The stored command as the approver reads it: its type and fields, secrets withheld."""
    stored = request.command or {}
    data = stored.get("data") or {}
    shown = {
        key: ("(withheld)" if isinstance(value, str) and value.startswith("sealed:") else value)
        for key, value in data.items()
        if key not in ("reason", "ticket")
    }
    return {"type": stored.get("type", ""), "fields": shown}


@events.reads
def stored_command(request: ApprovalRequest) -> Command:
    return Command.from_json(request.command)

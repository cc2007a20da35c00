"""Celery tasks of the approvals: expiry, and the email that tells approvers a request waits."""

from celery import shared_task
from django.utils import timezone

from approvals.commands import ApprovalExpire
from approvals.models import ApprovalRequest
from approvals.services import approval_expire
from portal import staff, staff_mail

__all__ = ["approvals_expire_task", "approvers_notify_task"]


@shared_task(name="approvals.expire")
def approvals_expire_task(limit: int = 500) -> int:
    """Expire the pending requests whose time ran out (one command each); returns how many."""
    due = (
        ApprovalRequest.objects.filter(
            status=ApprovalRequest.PENDING, expires_at__lte=timezone.now()
        )
        .select_related("tenant")
        .order_by("id")[:limit]
    )
    return sum(
        1
        for request in due
        if approval_expire(ApprovalExpire(request_id=request.pk), tenant=request.tenant)
    )


@shared_task(name="approvals.notify_approvers", acks_late=True)
def approvers_notify_task(request_id: int) -> int:
    """Email everyone who may decide the request (not the requester); returns how many."""
    request = ApprovalRequest.objects.select_related("tenant").filter(pk=request_id).first()
    if request is None or request.status != ApprovalRequest.PENDING:
        return 0
    approvers = [
        user
        for user, _ in staff.tenant_staff_list(tenant=request.tenant)
        if user.email
        and str(user.pk) != request.requested_by_id
        and staff.staff_may(user=user, tenant=request.tenant, action="approvals.decide")
    ]
    link = staff_mail.console_url(f"/console/approvals/{request.tenant.slug}/{request.pk}/")
    body = (
        f"{request.requested_by_label} asks for approval on {request.tenant.name}:\n\n"
        f"  {request.summary}\n\n"
        f"Reason: {request.reason}\n"
        + (f"Ticket: {request.ticket}\n" if request.ticket else "")
        + f"Expires: {request.expires_at:%Y-%m-%d %H:%M} UTC\n\n"
        f"Decide: {link}\n"
    )
    return staff_mail.email_staff(
        approvers, subject=f"Approval requested: {request.summary}"[:150], body=body
    )

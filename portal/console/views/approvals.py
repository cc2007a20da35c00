"""Four-eyes approval in the console: the approvers' queue and one request, with the
decision. Who may decide is the service's rule (approvals.services); these screens show
the request and hand the decision over."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.generic import TemplateView

from approvals import selectors as approval_selectors
from approvals.commands import (
    ApprovalApprove,
    ApprovalCancel,
    ApprovalDeny,
    ApprovalResultCollect,
)
from approvals.errors import ApprovalNotFound
from approvals.models import ApprovalRequest
from approvals.policy import GATES
from approvals.services import (
    approval_approve,
    approval_cancel,
    approval_deny,
    approval_result_collect,
)
from portal import staff
from portal.audit import Actor
from portal.console.access import ConsoleDenied, StaffRequiredMixin
from portal.errors import DomainError

SHOWN = 100


class ApprovalQueueView(StaffRequiredMixin, TemplateView):
    """The tenant's requests, pending first by default, with filters."""

    template_name = "console/approval_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.require_tenant()
        self.tenant_from_slug(tenant.slug)
        status = self.request.GET.get("status", ApprovalRequest.PENDING)
        if status not in (*ApprovalRequest.STATUSES, "all"):
            status = ApprovalRequest.PENDING
        gate = self.request.GET.get("gate") or None
        if gate not in GATES:
            gate = None
        found = approval_selectors.approval_requests(
            tenant=tenant,
            status=None if status == "all" else status,
            gate=gate,
            account_uid=self.request.GET.get("uid") or None,
        )
        context.update(
            tenant=tenant,
            requests=list(found[:SHOWN]),
            status=status,
            statuses=("all", *ApprovalRequest.STATUSES),
            gate=gate or "",
            gates=GATES,
            may_decide=staff.staff_may(
                user=self.request.user, tenant=tenant, action="approvals.decide"
            ),
        )
        return context


class ApprovalDetailView(StaffRequiredMixin, TemplateView):
    """One request: what will run, who asked and why; approve, deny or withdraw it."""

    template_name = "console/approval_detail.html"

    def load(self, slug: str, pk: int):
        tenant = self.tenant_from_slug(slug)
        try:
            return tenant, approval_selectors.approval_request_get(tenant=tenant, request_id=pk)
        except ApprovalNotFound as missing:
            raise Http404 from missing

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant, request = self.load(kwargs["slug"], kwargs["pk"])
        me = Actor.staff(self.request.user)
        context.update(
            tenant=tenant,
            approval=request,
            runs=approval_selectors.what_runs(request),
            gate_label=GATES.get(request.gate, request.gate),
            mine=(request.requested_by_type, request.requested_by_id) == (me.type, me.id),
            collectable=bool(request.result) and request.result_collected_at is None,
            may_decide=staff.staff_may(
                user=self.request.user, tenant=tenant, action="approvals.decide"
            ),
        )
        return context

    def post(self, request, slug, pk):
        tenant, approval = self.load(slug, pk)
        decision = request.POST.get("decision")
        note = (request.POST.get("note") or "").strip()
        me = Actor.staff(request.user)
        if decision == "collect":
            return self.collect(request, tenant, approval, me)
        if decision == "cancel":
            if (approval.requested_by_type, approval.requested_by_id) != (me.type, me.id):
                raise ConsoleDenied(
                    "Only whoever asked may withdraw a request.",
                    "Ask the requester, or deny it if you may decide requests.",
                )
        elif not staff.staff_may(user=request.user, tenant=tenant, action="approvals.decide"):
            raise ConsoleDenied(
                "Deciding requests needs the approval permission on this tenant.",
                "Ask an Admin to grant you approve_requests on it (Lead role or higher).",
            )
        try:
            if decision == "approve":
                done = approval_approve(
                    ApprovalApprove(request_id=approval.pk, note=note),
                    tenant=tenant,
                    approver=request.user,
                )
                if done.status == ApprovalRequest.EXECUTED:
                    messages.success(request, f"Approved: {done.summary}. It ran.")
                else:
                    messages.error(request, f"Approved, but it did not run: {done.failure_detail}")
            elif decision == "deny":
                approval_deny(
                    ApprovalDeny(request_id=approval.pk, note=note),
                    tenant=tenant,
                    approver=request.user,
                )
                messages.success(request, "Denied: it will not run.")
            elif decision == "cancel":
                approval_cancel(
                    ApprovalCancel(request_id=approval.pk, note=note),
                    tenant=tenant,
                    actor=Actor.staff(request.user),
                )
                messages.success(request, "Withdrawn.")
            else:
                messages.error(request, "Choose approve, deny or withdraw.")
        except DomainError as refused:
            messages.error(request, refused.sentence())
        return redirect("console:approval_detail", tenant.slug, approval.pk)

    def collect(self, request, tenant, approval, me: Actor):
        """The requester takes the token the approved action issued: shown on this answer
        only (never cached), then gone from the database."""
        if (approval.requested_by_type, approval.requested_by_id) != (me.type, me.id):
            raise ConsoleDenied(
                "Only whoever asked may collect what the approved action produced.",
                "Ask the requester: the token is theirs to use.",
            )
        try:
            result = approval_result_collect(
                ApprovalResultCollect(request_id=approval.pk), tenant=tenant, actor=me
            )
        except DomainError as refused:
            messages.error(request, refused.sentence())
            return redirect("console:approval_detail", tenant.slug, approval.pk)
        values = [(COLLECTED_LABELS.get(key, key), str(value)) for key, value in result.items()]
        return render(
            request,
            "console/approval_collect.html",
            {"console": self.console, "tenant": tenant, "approval": approval, "values": values},
        )


COLLECTED_LABELS = {"access_token": "Access token", "expires_at": "Expires (UTC)"}

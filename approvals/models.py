"""An approval request: a stored command that runs only once a second person approves it."""

from django.db import models

from portal.fields import EncryptedTextField, SealedJSONField
from portal.models import Tenant


class ApprovalRequest(models.Model):
    PENDING = "pending"
    EXECUTED = "executed"  # approved, and the command ran
    FAILED = "failed"  # approved, but the command was refused when it ran (see failure_*)
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # withdrawn by whoever asked
    STATUSES = (PENDING, EXECUTED, FAILED, DENIED, EXPIRED, CANCELLED)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="approval_requests")
    # The policy entry that asked for a second person (approvals.policy.GATES).
    gate = models.CharField(max_length=40)
    # The command that runs on approval, as stored (portal.commands, secrets sealed).
    command = SealedJSONField()
    account_uid = models.CharField(max_length=255, blank=True)
    # What will run, in words the approver reads before deciding.
    summary = models.CharField(max_length=500)
    status = models.CharField(
        max_length=12, choices=[(s, s) for s in STATUSES], default=PENDING, db_index=True
    )
    reason = models.CharField(max_length=500)
    ticket = models.CharField(max_length=200, blank=True)
    requested_by_type = models.CharField(max_length=20)
    requested_by_id = models.CharField(max_length=100, blank=True)
    requested_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    decided_by_type = models.CharField(max_length=20, blank=True)
    decided_by_id = models.CharField(max_length=100, blank=True)
    decided_by_label = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=80, blank=True)
    failure_detail = models.CharField(max_length=1000, blank=True)
    # What the requester collects once after the command ran (an impersonation token),
    # encrypted; emptied when collected.
    result = EncryptedTextField(blank=True)
    # When the requester collected it (the result is emptied then); a second collect is told.
    result_collected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "status", "-id"], name="approvals_tenant_status"),
            models.Index(fields=["tenant", "account_uid", "status"], name="approvals_account"),
        ]

    def __str__(self) -> str:
        return f"approval {self.pk} {self.gate} ({self.status})"

"""Celery tasks of the security app (Celery discovers this module). Thin: reload by id,
call the service."""

from celery import shared_task
from django.utils import timezone

from security.commands import RecoveryRun
from security.models import RecoveryCase
from security.services import push_approval
from security.services.recovery import recovery_case_run

__all__ = ["push_deliver_task", "recovery_cases_run_task"]


@shared_task(
    bind=True,
    name="security.push_deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=push_approval.PUSH_DELIVERY_ATTEMPTS,
)
def push_deliver_task(self, challenge_id: int) -> str:
    """Try a push notification again; the service counts the attempts and stops at the
    challenge's expiry, so a retry past it only marks it skipped."""
    outcome = push_approval.push_challenge_deliver(challenge_id=challenge_id)
    if outcome.status == "retrying" and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="security.recovery_cases_run")
def recovery_cases_run_task(limit: int = 200) -> int:
    """Run the recovery cases whose cooling-off ended (beat); each in its own transaction,
    and the service checks again that it is still scheduled, so a race runs it once."""
    due = RecoveryCase.objects.filter(
        status=RecoveryCase.SCHEDULED, due_at__lte=timezone.now()
    ).select_related("tenant")[:limit]
    ran = 0
    for case in list(due):
        if recovery_case_run(RecoveryRun(case_id=case.pk), tenant=case.tenant) is not None:
            ran += 1
    return ran

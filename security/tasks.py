"""Celery tasks of the security app (Celery discovers this module). Thin: reload by id,
call the service."""

from celery import shared_task

from security.services import push_approval

__all__ = ["push_deliver_task"]


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

"""Delivery of outbox messages (email and SMS). Thin: reload by id, call the service."""

from celery import shared_task

from tokens.services import multipurpose as service

__all__ = ["message_deliver_task", "multipurpose_tokens_purge_task", "outbox_relay_task"]


@shared_task(
    bind=True,
    name="tokens.message_deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def message_deliver_task(self, message_id: int) -> str:
    outcome = service.message_deliver(message_id=message_id)
    if outcome.status in ("retry", "busy") and not self.request.is_eager:
        # The row stays queued (or claimed) in the database, so the relay recovers it even
        # if this scheduled retry is lost; inline (eager) runs leave it to the relay.
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="tokens.outbox_relay")
def outbox_relay_task() -> int:
    return service.outbox_relay()


@shared_task(name="tokens.multipurpose_tokens_purge")
def multipurpose_tokens_purge_task() -> int:
    return service.multipurpose_tokens_purge()

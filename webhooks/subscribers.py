"""The relay's kick: after any event commits, the relay is asked to run now rather than at
its next scheduled beat (portal/events.py, `subscribe_every_type`). The event rows are the
outbox, so a lost kick delays a delivery by one beat and loses nothing."""

import logging

from django.core.cache import cache

from portal import events
from webhooks.models import WebhookEndpoint
from webhooks.services.endpoints import TENANT_HAS_ENDPOINTS_KEY

logger = logging.getLogger(__name__)
# Set while a kicked relay waits to start (the task clears it first thing): a burst of
# events is one relay run, and an event committed after the run started kicks another.
# It expires on its own should the task be lost (the beat runs the relay anyway).
KICK_KEY = "webhooks:relay-kick"
KICK_SECONDS = 60
HAS_ENDPOINTS_SECONDS = 30


def _tenant_has_endpoints(tenant_id: int) -> bool:
    key = TENANT_HAS_ENDPOINTS_KEY.format(tenant_id=tenant_id)
    known = cache.get(key)
    if known is None:
        known = WebhookEndpoint.objects.filter(tenant_id=tenant_id, enabled=True).exists()
        cache.set(key, known, HAS_ENDPOINTS_SECONDS)
    return bool(known)


def relay_kick(event: events.DomainEvent) -> None:
    if event.imported or event.tenant_id is None:
        return
    try:
        if _tenant_has_endpoints(event.tenant_id):
            relay_kick_once()
    except Exception:  # the change is committed; the beat runs the relay anyway
        logger.exception("the webhook relay could not be kicked")


def relay_kick_once() -> None:
    """Queue a relay run unless one is already waiting to start."""
    if cache.add(KICK_KEY, 1, KICK_SECONDS):
        from webhooks.tasks import webhooks_relay_task

        webhooks_relay_task.delay()

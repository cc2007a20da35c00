"""Celery tasks of the webhooks app (Celery discovers this module)."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from webhooks.services import relay
from webhooks.subscribers import KICK_KEY, relay_kick_once

__all__ = ["webhooks_relay_task"]

logger = logging.getLogger(__name__)


@shared_task(name="webhooks.relay", ignore_result=True)
def webhooks_relay_task() -> tuple[int, int]:
    """Fan out new events and send due deliveries (beat runs it every few seconds; a
    committed event kicks it)."""
    cache.delete(KICK_KEY)  # events committed from now on kick another run
    run = relay.relay_run()
    if run.unfinished and not settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            relay_kick_once()  # work is left: the next run starts now, not at the next beat
        except Exception:  # what was sent is recorded; the beat runs the relay anyway
            logger.exception("the webhook relay could not be kicked again")
    return run.read, run.sent

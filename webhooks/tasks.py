"""Celery tasks of the webhooks app (Celery discovers this module)."""

from celery import shared_task
from django.core.cache import cache

from webhooks.services import relay
from webhooks.subscribers import KICK_KEY

__all__ = ["webhooks_relay_task"]


@shared_task(name="webhooks.relay", ignore_result=True)
def webhooks_relay_task() -> tuple[int, int]:
    """Fan out new events and send due deliveries (beat runs it every few seconds; a
    committed event kicks it)."""
    cache.delete(KICK_KEY)  # events committed from now on kick another run
    return relay.relay_run()

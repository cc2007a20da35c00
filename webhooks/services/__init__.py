"""Every write of the webhooks app: the endpoints (endpoints.py) and the relay that
delivers the tenant's events to them (relay.py)."""

from webhooks.services.endpoints import (
    webhook_create,
    webhook_delete,
    webhook_disable,
    webhook_replay,
    webhook_secret_rotate,
    webhook_update,
)
from webhooks.services.relay import deliveries_send, events_fan_out, relay_run

__all__ = [
    "deliveries_send",
    "events_fan_out",
    "relay_run",
    "webhook_create",
    "webhook_delete",
    "webhook_disable",
    "webhook_replay",
    "webhook_secret_rotate",
    "webhook_update",
]

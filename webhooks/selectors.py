"""Every read of the webhooks app."""

from portal import crypto, events
from portal.models import Tenant
from webhooks.errors import WebhookNotFound
from webhooks.models import WebhookDelivery, WebhookEndpoint


@events.reads
def webhook_get(*, tenant: Tenant, webhook_id: str) -> WebhookEndpoint:
    """The tenant's endpoint; another tenant's, or a malformed id, is not found."""
    if not str(webhook_id).isdigit():
        raise WebhookNotFound()
    endpoint = WebhookEndpoint.objects.filter(tenant=tenant, pk=int(webhook_id)).first()
    if endpoint is None:
        raise WebhookNotFound()
    return endpoint


@events.reads
def webhook_list(*, tenant: Tenant, after: int, limit: int) -> tuple[list[WebhookEndpoint], int]:
    """A page of the tenant's endpoints in id order after a cursor, and their count."""
    matching = WebhookEndpoint.objects.filter(tenant=tenant)
    return list(matching.filter(id__gt=after).order_by("id")[:limit]), matching.count()


@events.reads
def webhook_version(endpoint: WebhookEndpoint) -> str:
    return str(endpoint.version)


@events.reads
def webhook_secret(endpoint: WebhookEndpoint) -> str:
    """The signing secret (for the relay; never shown again after creation or rotation)."""
    return crypto.decrypt(endpoint.secret_encrypted)


@events.reads
def delivery_list(
    *, endpoint: WebhookEndpoint, after: int, limit: int
) -> tuple[list[WebhookDelivery], int]:
    """A page of an endpoint's deliveries in id order after a cursor, and their count."""
    matching = WebhookDelivery.objects.filter(endpoint=endpoint)
    return list(matching.filter(id__gt=after).order_by("id")[:limit]), matching.count()

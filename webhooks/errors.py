"""The webhook errors (portal/errors.py), mapped to LoginRadius rows in
webhooks/api/lr_errors.py; invalid input is portal's InvalidInput with field errors."""

from portal.errors import DomainError, Kind, register


@register
class WebhookNotFound(DomainError):
    """Also what another tenant's endpoint is."""

    code = "webhook.not_found"
    kind = Kind.NOT_FOUND
    title = "Webhook not found"
    default_message = "The webhook endpoint does not exist."


@register
class WebhookVersionStale(DomainError):
    """The command expected another version of the endpoint (its ETag)."""

    code = "webhook.version_stale"
    kind = Kind.PRECONDITION
    title = "Webhook changed since it was read"
    default_message = "The webhook endpoint changed since it was read; read it again and retry."

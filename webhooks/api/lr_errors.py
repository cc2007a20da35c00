"""The LoginRadius rows of the webhook errors (webhooks/errors.py)."""

from portal.lrapi.domain_errors import LRMapping, register_mappings
from webhooks import errors

register_mappings(
    {
        errors.WebhookNotFound: LRMapping(404, message_is_description=True),
        errors.WebhookVersionStale: LRMapping(9412, message_is_description=True),
    }
)

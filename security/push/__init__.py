"""Push notifiers: how a push-approval challenge reaches the account's device.

A tenant chooses one (security.models.PushNotifierConfig): Firebase Cloud Messaging with
its own service account (security.push.fcm), or its own relay reached by a signed webhook
(security.push.webhook). Both call out through `portal.outbound` only. A notifier's `send`
returns once the notification was accepted, or raises `PushRejected` (permanent: sending
the same again cannot help, such as a device token FCM no longer knows) or
`PushUnavailable` (temporary: a 5xx, a 429, a timeout; try again later). Their message is
short, in the project's words, and never holds a secret or a response body.
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings


class PushDeliveryError(Exception):
    """The notification did not go out."""


class PushRejected(PushDeliveryError):
    """Refused for good: retrying the same notification cannot succeed."""


class PushUnavailable(PushDeliveryError):
    """Not delivered this time: the same notification may succeed later."""


class Notifier(Protocol):
    def send(self, *, device_address: str, payload: dict[str, str], message_id: str) -> None: ...


def timeouts() -> tuple[float, float]:
    """(connect, whole exchange) seconds of one call; PUSH_DELIVERY_TIMEOUT bounds the latter."""
    total = float(getattr(settings, "PUSH_DELIVERY_TIMEOUT", 5))
    return min(3.0, total), total


def notifier_for(*, kind: str, secret: str, webhook_url: str = "") -> Notifier:
    """The notifier of a tenant's stored settings (`secret` already decrypted)."""
    from security.push import fcm, webhook

    if kind == "fcm":
        return fcm.FcmNotifier(fcm.ServiceAccount.parse(secret))
    if kind == "webhook":
        return webhook.WebhookNotifier(url=webhook_url, secret=secret)
    raise PushRejected(f"unknown notifier {kind!r}")

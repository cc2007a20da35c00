"""Push through the tenant's own relay: a JSON POST signed as the Standard Webhooks
specification says (https://www.standardwebhooks.com/): `webhook-id`, `webhook-timestamp`
and `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the
base64-decoded part of the tenant's `whsec_` secret. HTTPS only, through `portal.outbound`
(private and loopback addresses refused unless the operator allows them)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from portal import outbound, standard_webhooks
from security.push import PushRejected, PushUnavailable, timeouts

SECRET_PREFIX = standard_webhooks.SECRET_PREFIX
SECRET_BYTES = 32
EVENT_TYPE = "push.challenge"
MAX_RESPONSE_BYTES = 16 * 1024
MAX_URL_LENGTH = 2000


def new_secret() -> str:
    return standard_webhooks.new_secret(SECRET_BYTES)


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret (the bytes its base64 part encodes)."""
    try:
        return standard_webhooks.secret_key(secret)
    except standard_webhooks.InvalidSecret as exc:
        raise PushRejected("the webhook secret is not valid") from exc


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    secret_key(secret)  # an unusable secret is the relay's configuration problem
    return standard_webhooks.sign(
        secret=secret, message_id=message_id, timestamp=timestamp, body=body
    )


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a relay address, or None. The addresses it resolves to are
    checked on every call (portal.outbound), not here."""
    if not url or len(url) > MAX_URL_LENGTH:
        return f"Give an HTTPS address of at most {MAX_URL_LENGTH} characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return "The address is not a valid URL."
    if parts.scheme.lower() != "https":
        return "The address must start with https://."
    if not parts.hostname:
        return "The address has no host."
    if parts.username is not None or parts.password is not None:
        return "The address must not carry a user name or password."
    if parts.fragment:
        return "The address must not have a #fragment."
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        return "The address must not contain spaces or control characters."
    return None


def _any_host(host: str, port: int) -> bool:
    return True  # a tenant's relay may live anywhere public; outbound checks the addresses


class WebhookNotifier:
    def __init__(self, *, url: str, secret: str):
        self.url, self.secret = url, secret

    def send(self, *, device_address: str, payload: dict[str, str], message_id: str) -> None:
        now = int(time.time())
        body = json.dumps(
            {
                "type": EVENT_TYPE,
                "timestamp": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
                "data": {"DeviceToken": device_address, **payload},
            },
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(now),
            "webhook-signature": sign(
                secret=self.secret, message_id=message_id, timestamp=now, body=body
            ),
        }
        connect_timeout, timeout = timeouts()
        try:
            response = outbound.request(
                "POST",
                self.url,
                allow_host=_any_host,
                headers=headers,
                body=body,
                connect_timeout=connect_timeout,
                timeout=timeout,
                max_bytes=MAX_RESPONSE_BYTES,
            )
        except outbound.DestinationRefused as exc:
            raise PushRejected(f"the relay address is refused ({exc})") from None
        except outbound.OutboundTimeout:
            raise PushUnavailable("the relay did not answer in time") from None
        except outbound.ResponseTooLarge:
            raise PushRejected("the relay's answer is too large") from None
        except outbound.OutboundError as exc:
            raise PushUnavailable(f"the relay could not be reached ({exc})") from None
        status = response.status
        if 200 <= status < 300:
            return
        if status in (408, 429) or status >= 500:
            raise PushUnavailable(f"the relay answered HTTP {status}")
        raise PushRejected(f"the relay answered HTTP {status}")

"""Signing as the Standard Webhooks specification says (https://www.standardwebhooks.com/),
for every signed POST the project makes (tenant webhooks, push relays).

A message carries `webhook-id` (the same on every retry of one message),
`webhook-timestamp` (unix seconds of the attempt) and
`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the
bytes the base64 part of a `whsec_` secret encodes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


class InvalidSecret(ValueError):
    """The text is not a `whsec_` secret (its part after the prefix is not base64)."""


def new_secret(size: int = SECRET_BYTES) -> str:
    """A fresh `whsec_` secret of `size` random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(size)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret (the bytes its base64 part encodes)."""
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("the webhook secret is not valid") from exc
    if not key:
        raise InvalidSecret("the webhook secret is empty")
    return key


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value of one message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(*, secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of one signed message, with its JSON content type."""
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            secret=secret, message_id=message_id, timestamp=timestamp, body=body
        ),
    }

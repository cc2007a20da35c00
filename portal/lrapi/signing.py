"""Verification of LoginRadius signed requests (`digest: SHA-256=...` + `X-Request-Expires`).

The SDKs disagree on how they build the string they sign (see the reference, §4), so the
server builds every variant they are known to produce and accepts a match with any.
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from django.conf import settings

from portal.lrapi.errors import LRError

EXPIRY_FORMATS = (
    "%Y-%m-%d %H:%M:%S",  # Python and Node SDKs
    "%Y-%m-%d %I:%M:%S %p",  # .NET, documented form: 2018-4-18 6:15:10 PM
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
)


def parse_expiry(value: str) -> datetime:
    text = value.strip()
    for fmt in EXPIRY_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise LRError(1211)


def check_expiry(value: str | None, *, now: datetime | None = None) -> None:
    if not value:
        raise LRError(1210)
    expires = parse_expiry(value)
    now = now or datetime.now(UTC)
    skew = timedelta(seconds=settings.REQUEST_SIGNING_CLOCK_SKEW_SECONDS)
    if expires < now - skew:
        raise LRError(1212, "The request has expired.")
    if expires > now + timedelta(seconds=settings.REQUEST_SIGNING_MAX_EXPIRY_SECONDS) + skew:
        raise LRError(1212, "The request expiry lies too far in the future.")


def _encoded_urls(url: str) -> set[str]:
    """The URL as each SDK encodes it before signing, lowercased."""
    encoded = set()
    for base in {url, unquote(url), unquote_plus(url)}:
        encoded.add(quote(base, safe=""))  # Python: quote(url, safe='')
        encoded.add(quote(base.lower(), safe=""))
        encoded.add(quote(base, safe="-_.!~*'()"))  # JS encodeURIComponent
        encoded.add(quote_plus(base, safe="-_.!*()"))  # .NET HttpUtility.UrlEncode
    return {e.lower() for e in encoded}


def _payload_parts(body: bytes) -> set[str]:
    """The payload part each SDK appends. A body with content must be signed: every SDK
    signs a non-empty payload, so accepting a signature without it would let a captured
    signature carry a substituted body."""
    text = body.decode("utf-8", errors="replace")
    if text.strip() in ("", "{}"):
        parts = {"", ":{}"}  # Python signs `:{}` even for GET; .NET and Node sign nothing
        if text:
            parts.add(":" + text)
        return parts
    return {":" + text}


def signing_candidates(*, url: str, expiry: str, body: bytes) -> set[str]:
    payloads = _payload_parts(body)
    candidates = set()
    for encoded_url in _encoded_urls(url):
        for expiry_form in {expiry, expiry.lower()}:
            for payload in payloads:
                text = f"{expiry_form}:{encoded_url}{payload}"
                candidates.add(text)
                candidates.add(text.lower())  # the Python SDK lowercases the whole string
    return candidates


def digest(secret: str, message: str) -> str:
    mac = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def parse_digest_header(value: str) -> str | None:
    text = value.strip()
    prefix = "sha-256="
    if text.lower().startswith(prefix):
        return text[len(prefix):].strip()
    return None


def signature_matches(*, secret: str, supplied: str, url: str, expiry: str, body: bytes) -> bool:
    matched = False
    for candidate in signing_candidates(url=url, expiry=expiry, body=body):
        # Keep comparing after a match so the time taken does not depend on which variant won.
        matched |= hmac.compare_digest(digest(secret, candidate), supplied)
    return matched

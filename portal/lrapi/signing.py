"""Verification of LoginRadius signed requests (`digest: SHA-256=...` + `X-Request-Expires`).

The SDKs disagree on how they build the string they sign (see the reference, §4), so the
server builds every variant they are known to produce and accepts a match with any. The
`expiry:url` part is compared case-folded (every SDK lowercases it; UIDs are stored
lowercase); the payload part must match the body byte for byte.

The digest does not cover the HTTP method, so each accepted digest is remembered until
its expiry (`record_use`): an identical GET may repeat (SDK GETs made in the same second
share a digest), any other reuse is refused.
"""

import base64
import hashlib
import hmac
import logging
import math
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from django.conf import settings
from django.core.cache import cache

from portal.lrapi.errors import LRError

logger = logging.getLogger("portal.signing")

# Methods whose identical repetition (same digest, same method) is allowed.
REPEATABLE_METHODS = frozenset({"GET"})
REPLAY_STORE_RETRY_AFTER_SECONDS = 5

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


def check_expiry(value: str | None, *, now: datetime | None = None) -> datetime:
    """The parsed expiry of a signed request, or the LoginRadius error that refuses it."""
    if not value:
        raise LRError(1210)
    expires = parse_expiry(value)
    now = now or datetime.now(UTC)
    skew = timedelta(seconds=settings.REQUEST_SIGNING_CLOCK_SKEW_SECONDS)
    if expires < now - skew:
        raise LRError(1212, "The request has expired.")
    if expires > now + timedelta(seconds=settings.REQUEST_SIGNING_MAX_EXPIRY_SECONDS) + skew:
        raise LRError(1212, "The request expiry lies too far in the future.")
    return expires


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
    """Every string an SDK may have signed for this request. Only `expiry:url` is
    case-folded (the Python SDK lowercases it before appending the payload); the payload
    is the body exactly as received."""
    payloads = _payload_parts(body)
    candidates = set()
    for encoded_url in _encoded_urls(url):
        for expiry_form in {expiry, expiry.lower()}:
            for payload in payloads:
                candidates.add(f"{expiry_form}:{encoded_url}{payload}")
    return candidates


def digest(secret: str, message: str) -> str:
    mac = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def parse_digest_header(value: str) -> str | None:
    text = value.strip()
    prefix = "sha-256="
    if text.lower().startswith(prefix):
        return text[len(prefix) :].strip()
    return None


def signature_matches(*, secret: str, supplied: str, url: str, expiry: str, body: bytes) -> bool:
    matched = False
    for candidate in signing_candidates(url=url, expiry=expiry, body=body):
        # Keep comparing after a match so the time taken does not depend on which variant won.
        matched |= hmac.compare_digest(digest(secret, candidate), supplied)
    return matched


def _replay_key(tenant_key: str, supplied: str) -> str:
    return "signature:used:" + hashlib.sha256(f"{tenant_key}:{supplied}".encode()).hexdigest()


def record_use(*, tenant_key: str, supplied: str, method: str, expires: datetime) -> None:
    """Remember a verified digest with the method it was first used with, until the
    signature expires (skew included). An identical GET may repeat; a digest seen before
    with any other method, or a repeated DELETE/POST/PUT/PATCH, is refused with 1208.

    Fails closed: when the cache cannot be reached the request is refused (503), since a
    digest that cannot be recorded could later be replayed under another method."""
    method = method.upper()
    key = _replay_key(tenant_key, supplied)
    skew = timedelta(seconds=settings.REQUEST_SIGNING_CLOCK_SKEW_SECONDS)
    timeout = max(1, math.ceil((expires + skew - datetime.now(UTC)).total_seconds()))
    try:
        for _ in range(2):
            if cache.add(key, method, timeout):
                return
            first = cache.get(key)
            if first is not None:
                break
        else:  # the entry keeps vanishing between add and get: treat as first use
            return
    except Exception as exc:
        logger.warning("signed request refused: replay store unavailable (%s)", type(exc).__name__)
        raise LRError(
            950,
            "Signed requests cannot be checked for replay right now; retry shortly.",
            status=503,
            headers={"Retry-After": str(REPLAY_STORE_RETRY_AFTER_SECONDS)},
        ) from exc
    if method in REPEATABLE_METHODS and first == method:
        return
    raise LRError(1208, "This request signature was already used; sign every request anew.")

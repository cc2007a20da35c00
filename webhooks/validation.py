"""What an endpoint may be: an address the relay may reach, known event types, a format.

An address is checked here, when it is registered or changed (a 400 naming `url`), and
again by portal.outbound on every delivery, against the addresses its name resolves to
then: a name may be pointed elsewhere after it was registered.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings

from portal import audit, outbound
from portal.errors import FieldError

MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 500
EVERY_TYPE = "*"
FORMATS = ("standard", "loginradius")
# Types that `["*"]` does not reach: a catch-all subscription must not stream sign-in
# failures (credential stuffing traffic) by accident; naming such a type subscribes to it.
# None is registered today; the set names those that would be.
EXCLUDED_FROM_EVERY_TYPE = frozenset({"account.login_failed", "account.signin_failed"})


def allow_private_networks() -> bool:
    """The operator's WEBHOOKS_ALLOW_PRIVATE_NETWORKS: loopback, private, unique-local and
    CGNAT receivers allowed (never link-local, where cloud metadata lives)."""
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False))


def is_test_host(host: str, port: int) -> bool:
    """A local fake receiver of the test suite (settings.OUTBOUND_TEST_HOSTS)."""
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return shown in (getattr(settings, "OUTBOUND_TEST_HOSTS", None) or {})


def schemes_for(host: str, port: int) -> tuple[str, ...]:
    """HTTPS; plain HTTP only where the operator allows private receivers (a receiver on
    the same network) or for the test suite's local receivers."""
    if allow_private_networks() or is_test_host(host, port):
        return ("http", "https")
    return ("https",)


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []  # not resolvable now: checked again on every delivery
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def host_and_port(url: str) -> tuple[str, int]:
    """The lower-cased host and the port of a registered address."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    return host, parts.port or (443 if parts.scheme.lower() == "https" else 80)


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook address, or None."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        return f"Give an HTTPS address of at most {MAX_URL_LENGTH} characters."
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        return "The address must not contain spaces or control characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The address is not a valid URL."
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "The address has no host."
    port = port or (443 if scheme == "https" else 80)
    if scheme not in schemes_for(host, port):
        return "The address must start with https://."
    if parts.username is not None or parts.password is not None:
        return "The address must not carry a user name or password."
    if parts.fragment:
        return "The address must not have a #fragment."
    allow_private = allow_private_networks() or is_test_host(host, port)
    for address in _addresses(host, port):
        if address.version == 4 and address.is_link_local:
            return "The address is link-local; it is never a webhook receiver."
        if not outbound.address_permitted(address, allow_private=allow_private):
            return "The address is on a private, loopback or reserved network."
    return None


def event_type_problems(events: object) -> list[FieldError]:
    """Why `events` is not a list of registered event types (or `["*"]`)."""
    if not isinstance(events, list | tuple) or not events:
        return [FieldError("events", 'Give a list of event types, or ["*"].', "invalid")]
    if any(not isinstance(item, str) for item in events):
        return [FieldError("events", "Each event type is a string.", "invalid")]
    if EVERY_TYPE in events and len(events) > 1:
        return [FieldError("events", '"*" stands alone: it names every type.', "invalid")]
    registered = audit.registered_actions()
    unknown = sorted({item for item in events if item != EVERY_TYPE and item not in registered})
    return [
        FieldError("events", f"No event type is named {name!r}.", "unknown") for name in unknown
    ]


def format_problem(value: object) -> str | None:
    if value not in FORMATS:
        return f"The format is one of {', '.join(FORMATS)}."
    return None


def description_problem(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION_LENGTH:
        return f"A text of at most {MAX_DESCRIPTION_LENGTH} characters."
    return None


def matches(subscribed: Iterable[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to `subscribed` receives `event_type`."""
    subscribed = list(subscribed)
    if event_type in subscribed:
        return True
    return EVERY_TYPE in subscribed and event_type not in EXCLUDED_FROM_EVERY_TYPE

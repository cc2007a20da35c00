"""The one HTTP client for calls to addresses a tenant configured (Duo today; push relays
and webhooks when they arrive). Nothing else in the project may open such a connection.

What it guarantees, whatever the caller passes:
- only the schemes and hosts the caller permits (`allow_host(host, port)`);
- the name is resolved once, every address it resolves to is checked, and the connection
  goes to the address that was checked (no second lookup between check and connect); the
  request still carries the original Host header, and TLS uses the original name for SNI
  and certificate verification;
- loopback, private, CGNAT, link-local, unspecified, multicast, reserved and IPv4-mapped
  (or 6to4/Teredo) IPv6 addresses are refused; `OUTBOUND_ALLOW_PRIVATE_NETWORKS` lets
  loopback, private and CGNAT addresses through (link-local, which holds cloud metadata
  endpoints, never);
- proxy environment variables are ignored and redirects are never followed (a 3xx is
  returned to the caller as it is);
- the connection has a connect timeout and the whole exchange a deadline, and the
  response body is read up to `max_bytes` and refused beyond.

`settings.OUTBOUND_TEST_HOSTS` exists for the test suite only (it is not read from the
environment, so no deployment can set it): it maps "host:port" of a local fake third party
to the CA bundle that party's certificate is checked against, and lets that one host
through the host and address checks.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 1_000_000
_CHUNK = 64 * 1024
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


class OutboundError(Exception):
    """The call could not be made or its answer could not be used; the message never
    carries the request's body or headers."""


class DestinationRefused(OutboundError):
    """The scheme, host, port or an address the host resolves to is not permitted."""


class OutboundTimeout(OutboundError):
    """Connecting, or the whole exchange, took longer than allowed."""


class ResponseTooLarge(OutboundError):
    """The response body is larger than the caller accepts."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise OutboundError("the response is not JSON") from exc


def address_permitted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_private: bool
) -> bool:
    """Whether a connection to `address` is allowed."""
    if address.version == 6 and (address.ipv4_mapped or address.sixtofour or address.teredo):
        return False  # an IPv4 address in disguise: refused rather than second-guessed
    if address.is_unspecified or address.is_multicast or address.is_link_local:
        return False
    if address.version == 4 and address in _THIS_NETWORK:
        return False
    if address.is_loopback:  # ::1 sits inside IPv6's reserved ::/8, so it is asked first
        return allow_private
    if address.is_reserved:
        return False
    if address.is_global and address not in _CGNAT:
        return True
    return allow_private and (address.is_private or address in _CGNAT)


def request(
    method: str,
    url: str,
    *,
    schemes: Iterable[str] = ("https",),
    allow_host: Callable[[str, int], bool],
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    ca_file: str | None = None,
    allow_private_networks: bool = False,
) -> OutboundResponse:
    """Make one HTTP request under the rules above. `allow_host` gets the lower-cased host
    name (or IP literal, without brackets) and the port; `ca_file` replaces the system's
    trusted CAs (e.g. a vendor's pinned bundle); `allow_private_networks`: the caller's own
    operator setting lets loopback, private and CGNAT addresses through (as
    `OUTBOUND_ALLOW_PRIVATE_NETWORKS` does; link-local never)."""
    deadline = time.monotonic() + timeout
    scheme, host, port, target = _parse(url, schemes)
    test_ca = (getattr(settings, "OUTBOUND_TEST_HOSTS", None) or {}).get(
        _host_port(host, port), False
    )
    test_host = test_ca is not False
    if not test_host and not allow_host(host, port):
        raise DestinationRefused(f"{host} is not a permitted destination")
    if test_host and test_ca:
        ca_file = test_ca
    allow_private = (
        test_host
        or allow_private_networks
        or bool(getattr(settings, "OUTBOUND_ALLOW_PRIVATE_NETWORKS", False))
    )
    candidates = _resolve(host, port, allow_private=allow_private)

    sock = _connect(candidates, connect_timeout=connect_timeout, deadline=deadline)
    try:
        if scheme == "https":
            sock = _tls(sock, host, ca_file=ca_file, deadline=deadline)
        connection = _PinnedConnection(host, port, sock=sock)
        send_headers = {
            "Host": _netloc(host, port, scheme),
            "Accept-Encoding": "identity",
            "Connection": "close",
        }
        send_headers.update(headers or {})
        try:
            connection.request(method, target, body=body, headers=send_headers)
            response = connection.getresponse()
            data = _read(response, max_bytes=max_bytes)
        except TimeoutError as exc:
            raise OutboundTimeout("the call took too long") from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise OutboundError(f"the call failed ({type(exc).__name__})") from exc
        return OutboundResponse(
            response.status, {k.lower(): v for k, v in response.getheaders()}, data
        )
    finally:
        sock.close()


def _parse(url: str, schemes: Iterable[str]) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused("the address is not a valid URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in {s.lower() for s in schemes} or scheme not in ("http", "https"):
        raise DestinationRefused(f"the scheme {scheme or '(none)'} is not permitted")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("credentials in the address are not permitted")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise DestinationRefused("the address has no host")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), target


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _netloc(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == (443 if scheme == "https" else 80) else f"{shown}:{port}"


def _resolve(host: str, port: int, *, allow_private: bool) -> list[tuple]:
    """Resolve once; refuse the host if any address it resolves to is not permitted
    (a name answering with one public and one private address is not trusted)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise OutboundError(f"{host} could not be resolved") from exc
    if not infos:
        raise OutboundError(f"{host} could not be resolved")
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not address_permitted(address, allow_private=allow_private):
            raise DestinationRefused(f"{host} resolves to an address that is not permitted")
    return infos


class _DeadlineMixin:
    """Every read waits at most until the exchange's deadline."""

    deadline: float = 0.0

    def recv_into(self, *args, **kwargs):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        self.settimeout(remaining)
        return super().recv_into(*args, **kwargs)


class _DeadlineSocket(_DeadlineMixin, socket.socket):
    pass


class _DeadlineSSLSocket(_DeadlineMixin, ssl.SSLSocket):
    pass


def _connect(candidates: list[tuple], *, connect_timeout: float, deadline: float) -> socket.socket:
    failure: Exception | None = None
    for family, type_, proto, _canon, sockaddr in candidates:
        remaining = min(connect_timeout, deadline - time.monotonic())
        if remaining <= 0:
            break
        sock = _DeadlineSocket(family, type_, proto)
        sock.deadline = deadline
        try:
            sock.settimeout(remaining)
            sock.connect(sockaddr)  # the address checked above, not the name
            return sock
        except OSError as exc:
            sock.close()
            failure = exc
    if isinstance(failure, TimeoutError) or failure is None:
        raise OutboundTimeout("connecting took too long") from failure
    raise OutboundError(f"could not connect ({type(failure).__name__})") from failure


def _tls(sock: socket.socket, host: str, *, ca_file: str | None, deadline: float) -> ssl.SSLSocket:
    try:
        context = (
            ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
        )
    except (OSError, ssl.SSLError) as exc:
        sock.close()
        raise OutboundError("the trusted certificates could not be loaded") from exc
    context.sslsocket_class = _DeadlineSSLSocket
    remaining = deadline - time.monotonic()
    try:
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        sock.settimeout(remaining)
        tls = context.wrap_socket(sock, server_hostname=host)  # SNI and verification use the name
    except TimeoutError as exc:
        sock.close()
        raise OutboundTimeout("the TLS handshake took too long") from exc
    except (OSError, ssl.SSLError, ValueError) as exc:
        sock.close()
        raise OutboundError(f"the TLS handshake failed ({type(exc).__name__})") from exc
    tls.deadline = deadline
    return tls


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP/1.1 exchange over a socket already connected (and checked) above."""

    def __init__(self, host: str, port: int, *, sock: socket.socket):
        super().__init__(host, port)
        self._pinned = sock

    def connect(self) -> None:
        self.sock = self._pinned


def _read(response: http.client.HTTPResponse, *, max_bytes: int) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.strip().isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(f"the response is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read1(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge(f"the response is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)

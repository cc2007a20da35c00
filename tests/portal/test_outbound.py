"""portal.outbound against real servers on 127.0.0.1 (no traffic leaves loopback): private
addresses refused unless allowed, one DNS lookup, the checked address connected to with
the original Host and TLS name, no proxies, no redirects, bounded time and size."""

import datetime
import ipaddress
import socket
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from portal import outbound

LOOPBACK_ONLY = {"127.0.0.1", "localhost"}


def allow_loopback(host, port):
    return host in LOOPBACK_ONLY


class LocalServer:
    """A tiny HTTP(S) server on 127.0.0.1 that records what it received and answers with
    `answer(handler)`."""

    def __init__(self, answer, *, tls_names=None):
        self.requests: list[dict] = []
        self.sni: list[str | None] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "host": self.headers.get("Host"),
                        "body": body,
                    }
                )
                answer(self)

            do_GET = do_POST = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.stopping = self.stopping
        self.port = self.httpd.server_address[1]
        self.scheme = "http"
        if tls_names:
            self.scheme = "https"
            cert_pem, key_pem = certificate(tls_names)
            self._files = [tempfile.NamedTemporaryFile(suffix=".pem") for _ in range(2)]  # noqa: SIM115
            self._files[0].write(cert_pem)
            self._files[1].write(key_pem)
            for f in self._files:
                f.flush()
            self.ca_path = self._files[0].name
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self._files[0].name, self._files[1].name)
            context.sni_callback = lambda sock, name, ctx: self.sni.append(name)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path="/", host="127.0.0.1"):
        return f"{self.scheme}://{host}:{self.port}{path}"

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def certificate(names):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def reply(status=200, body=b"ok", headers=None):
    def answer(handler):
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


@pytest.fixture
def servers():
    started = []

    def start(answer=None, **kwargs):
        server = LocalServer(answer or reply(), **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def private_allowed(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True


def test_loopback_is_refused_by_default_and_nothing_is_sent(servers, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    server = servers()
    for host in ("127.0.0.1", "localhost"):
        with pytest.raises(outbound.DestinationRefused):
            outbound.request(
                "GET", server.url(host=host), schemes=("http",), allow_host=allow_loopback
            )
    assert server.requests == []


def test_loopback_is_reached_when_private_networks_are_allowed(servers, private_allowed):
    server = servers(reply(201, b'{"stat": "OK"}', {"Content-Type": "application/json"}))
    response = outbound.request(
        "POST",
        server.url("/hook?x=1"),
        schemes=("http",),
        allow_host=allow_loopback,
        body=b"a=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 201 and response.json() == {"stat": "OK"}
    assert response.headers["content-type"] == "application/json"
    assert server.requests == [
        {"method": "POST", "path": "/hook?x=1", "host": f"127.0.0.1:{server.port}", "body": b"a=b"}
    ]


def test_host_and_scheme_must_be_permitted(servers, private_allowed):
    server = servers()
    with pytest.raises(outbound.DestinationRefused):
        outbound.request(
            "GET", server.url(), schemes=("http",), allow_host=lambda host, port: False
        )
    with pytest.raises(outbound.DestinationRefused):  # https only by default
        outbound.request("GET", server.url(), allow_host=allow_loopback)
    for url in (
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "http://user:pw@127.0.0.1:1/",
        "http:///nohost",
        "http://[::1/",
    ):
        with pytest.raises(outbound.DestinationRefused):
            outbound.request(
                "GET", url, schemes=("http", "ftp", "file"), allow_host=lambda host, port: True
            )
    assert server.requests == []


@pytest.mark.parametrize(
    ("address", "by_default", "with_private"),
    [
        ("8.8.8.8", True, True),
        ("2606:4700:4700::1111", True, True),
        ("127.0.0.1", False, True),
        ("::1", False, True),
        ("10.1.2.3", False, True),
        ("172.16.0.1", False, True),
        ("192.168.1.1", False, True),
        ("fd00::1", False, True),
        ("100.64.0.1", False, True),  # CGNAT
        ("100.127.255.254", False, True),
        ("169.254.169.254", False, False),  # link-local: cloud metadata
        ("fe80::1", False, False),
        ("0.0.0.0", False, False),
        ("0.1.2.3", False, False),
        ("::", False, False),
        ("::ffff:127.0.0.1", False, False),  # IPv4-mapped
        ("::ffff:8.8.8.8", False, False),
        ("2002:7f00:1::1", False, False),  # 6to4 of 127.0.0.1
        ("224.0.0.1", False, False),
        ("ff02::1", False, False),
        ("240.0.0.1", False, False),
        ("255.255.255.255", False, False),
    ],
)
def test_address_rules(address, by_default, with_private):
    ip = ipaddress.ip_address(address)
    assert outbound.address_permitted(ip, allow_private=False) is by_default
    assert outbound.address_permitted(ip, allow_private=True) is with_private


def test_name_is_resolved_once_and_tls_uses_the_name(servers, private_allowed, monkeypatch):
    """The certificate names only `localhost` (no IP): the handshake succeeds only if SNI and
    verification use the name while the socket goes to the address that was checked."""
    server = servers(reply(body=b"secure"), tls_names=["localhost"])
    lookups = []
    real = socket.getaddrinfo

    def counting(host, *args, **kwargs):
        lookups.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    response = outbound.request(
        "GET", server.url("/x", host="localhost"), allow_host=allow_loopback, ca_file=server.ca_path
    )
    assert response.status == 200 and response.body == b"secure"
    assert lookups == ["localhost"]
    assert server.sni == ["localhost"]
    assert server.requests[0]["host"] == f"localhost:{server.port}"


def test_certificate_is_verified(servers, private_allowed):
    server = servers(reply(), tls_names=["localhost"])
    with pytest.raises(outbound.OutboundError):  # not trusted by the system CAs
        outbound.request("GET", server.url(host="localhost"), allow_host=allow_loopback)
    with pytest.raises(outbound.OutboundError):  # the certificate does not name 127.0.0.1
        outbound.request(
            "GET", server.url(host="127.0.0.1"), allow_host=allow_loopback, ca_file=server.ca_path
        )
    assert server.requests == []


def test_proxy_environment_is_ignored(servers, private_allowed, monkeypatch):
    proxy = servers(reply(body=b"from the proxy"))
    target = servers(reply(body=b"from the target"))
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.setenv(name, proxy.url())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    response = outbound.request("GET", target.url(), schemes=("http",), allow_host=allow_loopback)
    assert response.body == b"from the target"
    assert proxy.requests == [] and len(target.requests) == 1


def test_redirects_are_not_followed(servers, private_allowed):
    elsewhere = servers(reply(body=b"followed"))
    redirecting = servers(reply(302, b"", {"Location": elsewhere.url("/stolen")}))
    response = outbound.request(
        "POST", redirecting.url(), schemes=("http",), allow_host=allow_loopback, body=b"secret=1"
    )
    assert response.status == 302 and response.headers["location"] == elsewhere.url("/stolen")
    assert elsewhere.requests == []


def test_oversized_response_is_refused(servers, private_allowed):
    declared = servers(reply(body=b"x" * 5000))
    with pytest.raises(outbound.ResponseTooLarge):
        outbound.request(
            "GET", declared.url(), schemes=("http",), allow_host=allow_loopback, max_bytes=4096
        )

    def endless(handler):  # no Content-Length: read until the cap, then refuse
        handler.protocol_version = "HTTP/1.0"
        handler.send_response(200)
        handler.end_headers()
        try:
            while not handler.server.stopping.is_set():
                handler.wfile.write(b"y" * 65536)
        except OSError:
            pass

    streaming = servers(endless)
    with pytest.raises(outbound.ResponseTooLarge):
        outbound.request(
            "GET", streaming.url(), schemes=("http",), allow_host=allow_loopback, max_bytes=100_000
        )
    ok = outbound.request(
        "GET", declared.url(), schemes=("http",), allow_host=allow_loopback, max_bytes=5000
    )
    assert ok.body == b"x" * 5000


@pytest.mark.timeout(60)
def test_slow_responses_hit_the_deadline(servers, private_allowed):
    """A server that never answers, and one that drips a byte at a time, both end in
    OutboundTimeout: the exchange has one deadline, not a timeout per read. Neither server
    ever finishes on its own, so without the deadline the call would hang."""
    dripped = []

    def silent(handler):
        handler.server.stopping.wait()

    def dripping(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000000")
        handler.end_headers()
        while not handler.server.stopping.wait(0.05):
            try:
                handler.wfile.write(b"z")
                handler.wfile.flush()
            except OSError:
                break
            dripped.append(1)

    for answer in (silent, dripping):
        server = servers(answer)
        with pytest.raises(outbound.OutboundTimeout):
            outbound.request(
                "GET", server.url(), schemes=("http",), allow_host=allow_loopback, timeout=1.0
            )
    # The dripping server kept every read short of any per-read timeout; the client still
    # gave up long before the declared body was complete.
    assert 0 < len(dripped) < 1_000_000


def test_test_hosts_setting_admits_one_named_host_only(servers, settings):
    """The test-only OUTBOUND_TEST_HOSTS lets exactly the listed host:port through (with its
    CA), even past a host rule that refuses everything; nothing else is let through."""
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    listed = servers(reply(body=b"fake vendor"), tls_names=["localhost"])
    other = servers(reply())
    settings.OUTBOUND_TEST_HOSTS = {f"localhost:{listed.port}": listed.ca_path}
    response = outbound.request(
        "GET", listed.url(host="localhost"), allow_host=lambda host, port: False
    )
    assert response.body == b"fake vendor"
    with pytest.raises(outbound.DestinationRefused):
        outbound.request("GET", other.url(), schemes=("http",), allow_host=allow_loopback)
    assert other.requests == []

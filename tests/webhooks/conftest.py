"""A real HTTP receiver on loopback for the webhook tests, and an admin-scoped client."""

import http.server
import json
import threading
from dataclasses import dataclass, field

import pytest
from django.db import transaction

from portal import audit
from portal.audit import Actor
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory

WEBHOOKS = "/api/v1/webhooks"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers the statuses queued in `statuses` (then `default`)."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else self.default


@pytest.fixture
def receiver(settings):
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                state.requests.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body)
                )
            status = state.answer()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # The test-only allowance of portal.outbound: this one loopback host:port, plain HTTP.
    settings.OUTBOUND_TEST_HOSTS = {f"127.0.0.1:{state.port}": None}
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def admin_credential(tenant):
    return ApiCredentialFactory(tenant=tenant, scopes=["admin"])


@pytest.fixture
def admin(admin_credential):
    return LRClient(admin_credential)


def record(tenant, action, *, uid="", changes=None, actor=None):
    with transaction.atomic():
        return audit.record(
            tenant=tenant,
            actor=actor or Actor.system("test"),
            action=action,
            subject_uid=uid,
            changes=changes or {},
        )


def register(admin, url, events, **extra):
    response = admin.post(WEBHOOKS, {"url": url, "events": events, **extra})
    assert response.status_code == 201, response.content
    return response.json()

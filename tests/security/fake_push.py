"""A tenant's push relay on loopback HTTPS that accepts only notifications signed as the
Standard Webhooks specification says, a device that reads what reached it and answers,
and the `push_relay` fixture that configures a tenant to push through that relay.

    from tests.security.fake_push import push_relay  # noqa: F401 (a fixture)
"""

import base64
import hashlib
import hmac
import json
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient

from portal.audit import Actor
from security.commands import PushNotifierSet
from security.services import push_notifier_set
from tests.security.fake_duo import self_signed_certificate

# What reached each device address through the relay (the payload's `data`).
INBOX: dict[str, list[dict]] = {}
TOLERANCE_SECONDS = 300


class TlsServer:
    """A ThreadingHTTPServer on 127.0.0.1 behind a self-signed certificate; `ca_path` is
    what portal.outbound must trust (through settings.OUTBOUND_TEST_HOSTS)."""

    def __init__(self, handler):
        cert_pem, key_pem = self_signed_certificate()
        self._files = [tempfile.NamedTemporaryFile(suffix=".pem") for _ in range(2)]  # noqa: SIM115 (closed in stop)
        self._files[0].write(cert_pem)
        self._files[1].write(key_pem)
        for f in self._files:
            f.flush()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._files[0].name, self._files[1].name)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.ca_path = self._files[0].name

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        for f in self._files:
            f.close()


def standard_webhook_verified(secret: str, headers, body: bytes) -> bool:
    """The receiving side of Standard Webhooks, written from the specification."""
    msg_id = headers.get("webhook-id") or ""
    stamp = headers.get("webhook-timestamp") or ""
    signatures = (headers.get("webhook-signature") or "").split(" ")
    if not msg_id or not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    return any(
        version == "v1" and hmac.compare_digest(signature, expected)
        for version, _, signature in (s.partition(",") for s in signatures)
    )


class WebhookReceiver(TlsServer):
    """Answers each verified POST with the next of `answers` (204 when none is left), after
    `delay` seconds; an unsigned or badly signed one gets 401 and reaches no device."""

    def __init__(self, path: str = "/push"):
        self.secret = ""
        self.answers: list[int] = []
        self.delay = 0.0
        self.requests: list[dict] = []  # every request: headers, body, verified
        self.path = path
        super().__init__(self._handler())
        self.url = f"https://{self.host}{path}"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                verified = self.path == receiver.path and standard_webhook_verified(
                    receiver.secret, self.headers, body
                )
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "verified": verified}
                )
                status = 401
                if verified:
                    status = receiver.answers.pop(0) if receiver.answers else 204
                    if status < 300:
                        data = json.loads(body)["data"]
                        INBOX.setdefault(data["DeviceToken"], []).append(data)
                if receiver.delay:
                    time.sleep(receiver.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting

        return Handler


def configure_webhook(tenant, receiver: WebhookReceiver, settings) -> str:
    settings.OUTBOUND_TEST_HOSTS = {
        **(settings.OUTBOUND_TEST_HOSTS or {}),
        receiver.host: receiver.ca_path,
    }
    saved = push_notifier_set(
        PushNotifierSet(kind="webhook", webhook_url=receiver.url, reason="test relay"),
        tenant=tenant,
        actor=Actor.system("test"),
    )
    receiver.secret = saved.webhook_secret
    return saved.webhook_secret


@pytest.fixture
def push_relay(tenant, settings):
    """The tenant pushes through a signed webhook to a local relay."""
    receiver = WebhookReceiver().start()
    configure_webhook(tenant, receiver, settings)
    INBOX.clear()
    yield receiver
    receiver.stop()
    INBOX.clear()


class FakeDevice:
    """A phone app: registers with the account's access token, then answers challenges."""

    def __init__(self, tenant, address: str):
        self.tenant, self.address = tenant, address
        self.secret = None
        self.client = APIClient()

    def register(self, access_token: str, name: str = "phone"):
        response = self.client.post(
            f"/identity/v2/auth/account/2fa/push?apikey={self.tenant.api_key}",
            {"DeviceToken": self.address, "DeviceName": name},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {access_token}",
        )
        self.secret = response.json().get("DeviceSecret")
        return response

    def notifications(self) -> list[dict]:
        return INBOX.get(self.address, [])

    def answer(self, approve: bool, challenge_id: str | None = None, secret: str | None = None):
        challenge_id = challenge_id or self.notifications()[-1]["ChallengeId"]
        return self.client.put(
            f"/identity/v2/auth/login/2fa/push/respond?apikey={self.tenant.api_key}",
            {
                "ChallengeId": challenge_id,
                "DeviceSecret": secret or self.secret,
                "Approve": approve,
            },
            format="json",
        )

"""Real delivery components for tests: an SMTP server on loopback (aiosmtpd), a local HTTP
server speaking Twilio's Messages/Calls API, and a real `celery -A portal worker` process.

Other sections may import these fixtures:
    from tests.messages.conftest import smtp_server, celery_worker_factory  # noqa: F401
"""

import asyncio
import base64
import contextlib
import email
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.conf import settings

from tests.waiting import wait_until

BASE_DIR = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------
# SMTP
# ---------------------------------------------------------------------------------------


class RecordingSmtpHandler:
    """Keeps every message the server accepted (answered 250 to). Holding the answer to
    DATA for `delay` seconds for the next `delay_count` messages lets a test kill the sender
    mid-delivery; a message whose client hung up meanwhile is not accepted, and counted in
    `abandoned`."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.delay = 0.0
        self.delay_count = 0
        self.refuse_with: str | None = None
        self.abandoned = 0
        self.started = threading.Event()
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        self.started.set()
        if self.refuse_with:
            return self.refuse_with
        if self.delay_count > 0:
            self.delay_count -= 1
            try:
                await asyncio.sleep(self.delay)  # the withheld answer keeps the sender mid-delivery
            except asyncio.CancelledError:  # aiosmtpd cancels the handler when the client hangs up
                self.abandoned += 1
                raise
        if server.transport is None or server.transport.is_closing():
            return "451 client gone"
        parsed = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        with self._lock:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 20.0) -> list:
        """The accepted messages, once there are `count` of them or `timeout` has passed."""
        wait_until(lambda: len(self.messages) >= count, timeout=timeout)
        return list(self.messages)


class SmtpServer:
    def __init__(self):
        from aiosmtpd.controller import Controller

        self.handler = RecordingSmtpHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self):
        return self.handler.messages

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def django_settings(self, settings) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = self.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 5

    def env(self) -> dict[str, str]:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_USE_TLS": "false",
        }


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_mail(smtp_server, settings):
    """The SMTP server, with Django's email backend pointed at it."""
    smtp_server.django_settings(settings)
    return smtp_server


# ---------------------------------------------------------------------------------------
# SMS provider (Twilio's REST shape)
# ---------------------------------------------------------------------------------------


class FakeTwilio:
    """Answers POST /2010-04-01/Accounts/{sid}/Messages.json (and Calls.json) like Twilio:
    basic auth, form-encoded To/From/Body, 201 with a "sid". `script` lists what the next
    requests get: an HTTP status (e.g. 500) or "timeout" (no answer until the client gives up)."""

    ACCOUNT_SID = "AC" + "0" * 32
    AUTH_TOKEN = "test-auth-token"

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                action = fake.script.pop(0) if fake.script else 201
                if action == "timeout":
                    # No answer: hold the connection until the client gives up and hangs
                    # up (its read returns b""), for at most `timeout_sleep` seconds.
                    self.connection.settimeout(fake.timeout_sleep)
                    with contextlib.suppress(OSError):
                        self.rfile.read(1)
                    return
                expected = (
                    "Basic "
                    + base64.b64encode(f"{fake.ACCOUNT_SID}:{fake.AUTH_TOKEN}".encode()).decode()
                )
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                prefix = f"/2010-04-01/Accounts/{fake.ACCOUNT_SID}/"
                if self.headers.get("Authorization") != expected:
                    status, payload = 401, {"code": 20003, "message": "Authenticate", "status": 401}
                elif self.path not in (prefix + "Messages.json", prefix + "Calls.json"):
                    status, payload = 404, {"code": 20404, "message": "Not found", "status": 404}
                elif action != 201:
                    status, payload = (
                        action,
                        {"code": 20500, "message": "Internal Server Error", "status": action},
                    )
                else:
                    sid = ("CA" if self.path.endswith("Calls.json") else "SM") + os.urandom(
                        16
                    ).hex()
                    status, payload = (
                        201,
                        {
                            "sid": sid,
                            "to": form.get("To"),
                            "from": form.get("From"),
                            "body": form.get("Body"),
                            "status": "queued",
                        },
                    )
                    fake.requests.append(
                        {
                            "path": self.path,
                            "form": form,
                            "sid": sid,
                            "content_type": self.headers.get("Content-Type"),
                        }
                    )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.timeout_sleep = 2.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def django_settings(self, settings) -> None:
        settings.SMS_BACKEND = "tokens.sms.HttpSmsBackend"
        settings.SMS_HTTP_BASE_URL = self.url
        settings.SMS_HTTP_ACCOUNT_SID = self.ACCOUNT_SID
        settings.SMS_HTTP_AUTH_TOKEN = self.AUTH_TOKEN
        settings.SMS_HTTP_TIMEOUT = 0.5


@pytest.fixture
def sms_provider(settings):
    fake = FakeTwilio().start()
    fake.django_settings(settings)
    yield fake
    fake.stop()


# ---------------------------------------------------------------------------------------
# Celery: eager runs in-process, and a real worker process
# ---------------------------------------------------------------------------------------


def test_database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


class CeleryWorker:
    """A `celery -A portal worker` subprocess in its own process group."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "CeleryWorker":
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                "portal",
                "-n",
                f"messages-test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            return b" ready." in self.log_path.read_bytes()

        if not wait_until(ready, timeout=timeout, interval=0.1):
            raise RuntimeError(f"worker did not become ready:\n{self.log()}")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        """SIGKILL the whole worker (no chance to ack, reject or clean up)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_log", None):
            self._log.close()


def _broker():
    import redis

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def _flush_broker_db() -> None:
    """Empty this test run's Redis database (the broker queue of earlier runs)."""
    _broker().flushdb()


def broker_idle() -> bool:
    """No task waits in the broker: none queued for the workers, none handed to a worker
    and not yet acknowledged (Redis keeps those in `unacked` until the ack, and gives them
    out again when their worker died), so no further delivery can happen."""
    broker = _broker()
    queued = sum(broker.llen(key) for key in broker.scan_iter(match="portal*", _type="list"))
    return queued == 0 and broker.hlen("unacked") == 0


@pytest.fixture
def celery_worker_factory(tmp_path, smtp_server):
    """Start real workers against the test database and the loopback SMTP server:
    `worker = celery_worker_factory(**extra_env)`; stopped at teardown."""
    _flush_broker_db()
    workers: list[CeleryWorker] = []

    def make(**extra: str) -> CeleryWorker:
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DB_CONN_MAX_AGE": "0",
            # SMS go to files unless a test points the worker at the local HTTP server.
            "ALLOW_UNDELIVERED_MESSAGES": "1",
            **smtp_server.env(),
            **{k: str(v) for k, v in extra.items()},
        }
        env.pop("PYTEST_CURRENT_TEST", None)
        worker = CeleryWorker(env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker.start()

    yield make
    for worker in workers:
        worker.stop()

"""Error reporting (Sentry) and tracing (OpenTelemetry): off unless configured, and when
configured, what reaches a collector on loopback speaking the real protocol (a Sentry
envelope endpoint, OTLP/HTTP with protobuf) carries no secret of the request."""

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from portal import observability
from tests.messages.conftest import free_port
from tests.waiting import wait_until

# What a caller proves itself with, placed where SDKs put it.
QUERY_SECRET = "query-secret-5f1d9a"
HEADER_SECRET = "header-secret-8c2e4b"
COOKIE_SECRET = "cookie-secret-3a7f60"
SECRETS = (QUERY_SECRET, HEADER_SECRET, COOKIE_SECRET)


class Collector:
    """A loopback HTTP server keeping the decoded bodies POSTed to it, by path."""

    def __init__(self, answer: bytes = b"{}", content_type: str = "application/json"):
        self.received: list[tuple[str, dict, bytes]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                headers = {name.lower(): value for name, value in self.headers.items()}
                collector.received.append((self.path, headers, body))
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector_factory():
    started: list[Collector] = []

    def make(**kwargs) -> Collector:
        started.append(Collector(**kwargs))
        return started[-1]

    yield make
    for collector in started:
        collector.stop()


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": django_settings.FIELD_ENCRYPTION_KEY,
        "DEBUG": "0",
        # What it delivers is not under test here: a file SMS backend may serve it.
        "ALLOW_UNDELIVERED_MESSAGES": "1",
    }
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "PYTEST_CURRENT_TEST", "SENTRY_DSN"):
        env.pop(name, None)
    for name in [n for n in env if n.startswith("OTEL_")]:
        env.pop(name)
    env.update(extra)
    return env


def run_python(script: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def test_neither_library_is_imported_when_not_configured(tmp_path):
    script = (
        "import sys, django\n"
        "django.setup()\n"
        "from portal.wsgi import application\n"
        "print(sorted(m for m in ('sentry_sdk', 'opentelemetry') if m in sys.modules))\n"
    )
    assert run_python(script, app_env(tmp_path)).strip() == "[]"


# --- Sentry --------------------------------------------------------------------------------

# The application behind a WSGI server; a console page that fails, requested over HTTP as a
# browser and an SDK would send it.
SENTRY_PROBE = f"""
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import django, requests, sentry_sdk
django.setup()
from django.test import override_settings

override_settings(ROOT_URLCONF="tests.portal.probe_urls").enable()
from portal.wsgi import application


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


server = make_server("127.0.0.1", 0, application, handler_class=Quiet)
threading.Thread(target=server.serve_forever, daemon=True).start()
response = requests.get(
    f"http://127.0.0.1:{{server.server_port}}/pages/_probe/boom"
    "?apikey=public-key&access_token={QUERY_SECRET}&apisecret={QUERY_SECRET}",
    headers={{
        "X-LoginRadius-ApiSecret": "{HEADER_SECRET}",
        "Cookie": "csrftoken={COOKIE_SECRET}",
        "User-Agent": "probe-agent/1.0",
    }},
    timeout=30,
)
assert response.status_code == 500, response.status_code
sentry_sdk.flush(timeout=20)
"""


def envelope_items(body: bytes) -> list[tuple[dict, dict]]:
    """(item header, payload) of each JSON item of a Sentry envelope."""
    lines = body.split(b"\n")
    items, position = [], 1  # line 0 is the envelope header
    while position < len(lines) and lines[position]:
        header = json.loads(lines[position])
        payload = lines[position + 1]
        items.append((header, json.loads(payload) if payload.startswith(b"{") else {}))
        position += 2
    return items


def test_sentry_receives_the_error_without_secrets(tmp_path, collector_factory):
    sentry = collector_factory()
    dsn = f"http://publickey@127.0.0.1:{sentry.port}/42"
    run_python(SENTRY_PROBE, app_env(tmp_path, SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="test"))

    envelopes = [body for path, _headers, body in sentry.received if path == "/api/42/envelope/"]
    events = [
        payload
        for body in envelopes
        for header, payload in envelope_items(body)
        if header.get("type") == "event"
    ]
    assert len(events) == 1, sentry.received
    [event] = events
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError" and exception["value"] == "console page failed"
    assert event["environment"] == "test"
    request = event["request"]
    assert request["query_string"] == (
        "apikey=public-key&access_token=[redacted]&apisecret=[redacted]"
    )
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert headers["user-agent"] == "probe-agent/1.0"
    assert headers["x-loginradius-apisecret"] == "[redacted]"
    assert not {"cookies", "data", "env"} & set(request) and "user" not in event
    for body in envelopes:
        for secret in SECRETS:
            assert secret.encode() not in body


def test_sentry_event_scrubbing_keeps_what_is_harmless():
    event = {
        "request": {
            "url": "https://portal.example/identity/v2/auth/login?apikey=k&password=p",
            "query_string": "apikey=k&password=p&bare",
            "headers": {"Host": "portal.example", "Digest": "SHA-256=abc", "X-Request-Id": "r1"},
            "cookies": {"sessionid": "s"},
            "data": {"password": "p"},
        },
        "user": {"ip_address": "203.0.113.9"},
    }
    scrubbed = observability.scrubbed_event(event)
    assert scrubbed == {
        "request": {
            "url": "https://portal.example/identity/v2/auth/login?apikey=k&password=[redacted]",
            "query_string": "apikey=k&password=[redacted]&[redacted]",
            "headers": {"Host": "portal.example", "Digest": "[redacted]", "X-Request-Id": "r1"},
        }
    }


# --- OpenTelemetry -------------------------------------------------------------------------


def attribute_map(attributes) -> dict:
    return {a.key: a.value.string_value or a.value.int_value for a in attributes}


def test_otlp_collector_receives_request_spans_without_secrets(tmp_path, collector_factory):
    otlp = collector_factory(
        answer=ExportTraceServiceResponse().SerializeToString(),
        content_type="application/x-protobuf",
    )
    port = free_port()
    env = app_env(
        tmp_path,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{otlp.port}",
        OTEL_BSP_SCHEDULE_DELAY="100",  # export within a tenth of a second
        ALLOWED_HOSTS="127.0.0.1",
    )
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "portal.wsgi",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        assert wait_until(
            lambda: requests.head(url, timeout=2).ok,
            timeout=60,
            ignoring=(requests.RequestException,),
        ), (tmp_path / "gunicorn.log").read_text()
        response = requests.get(
            url,
            params={"apikey": "public-key", "access_token": QUERY_SECRET},
            headers={"X-LoginRadius-ApiSecret": HEADER_SECRET, "Cookie": f"c={COOKIE_SECRET}"},
            timeout=10,
        )
        assert response.status_code == 200

        def spans() -> list:
            found = []
            for path, headers, body in list(otlp.received):
                assert path == "/v1/traces" and headers["content-type"] == "application/x-protobuf"
                request = ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    resource = attribute_map(resource_spans.resource.attributes)
                    for scope_spans in resource_spans.scope_spans:
                        found += [(resource, span) for span in scope_spans.spans]
            return [(r, s) for r, s in found if s.name == "GET healthz"]

        traced = wait_until(spans, timeout=30)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()

    assert traced, (tmp_path / "gunicorn.log").read_text()
    [(resource, span)] = traced
    assert resource["service.name"] == "account-portal"
    attributes = attribute_map(span.attributes)
    assert attributes["http.route"] == "healthz"
    assert attributes["http.status_code"] == 200
    assert attributes["http.target"] == "/healthz?apikey=public-key&access_token=[redacted]"
    for _path, _headers, body in otlp.received:
        for secret in SECRETS:
            assert secret.encode() not in body

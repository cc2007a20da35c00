"""Requests are logged once, by the application's JSON logger, with every query value but
the public `apikey` redacted; gunicorn's own access log (which printed query strings as
they came) is not switched on anywhere."""

import io
import json
import logging
import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from portal.logging import JsonFormatter, RequestContextFilter

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "apisecret": "5ec2e7a1-0b9c-4d1e-8f00-aa11bb22cc33",
    "refresh_token": "rt-9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "verificationtoken": "vt-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
}


@pytest.fixture
def project_log():
    """The project's log output as it reaches stderr: JSON lines through its formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.django_db
def test_request_line_redacts_secret_query_values(tenant, project_log):
    query = "&".join(f"{name}={value}" for name, value in SECRETS.items())
    response = APIClient().get(
        f"/identity/v2/auth/access_token/validate?apikey={tenant.api_key}&{query}&Other=x%20y",
        HTTP_X_REQUEST_ID="req-access-1",
    )
    output = project_log.getvalue()
    access = [line for line in lines(project_log) if line["logger"] == "portal.access"]
    assert len(access) == 1, output
    line = access[0]
    assert line["request_id"] == "req-access-1" and line["level"] == "INFO"
    message = line["message"]
    assert message.startswith("GET /identity/v2/auth/access_token/validate?")
    assert f"apikey={tenant.api_key}" in message
    for name in SECRETS:
        assert f"{name}=[redacted]" in message
    assert "Other=[redacted]" in message
    assert f" {response.status_code} " in message
    for value in SECRETS.values():
        assert value not in output


@pytest.mark.django_db
def test_request_without_query_and_console_paths_are_logged(client, project_log):
    client.get("/healthz")
    access = [line["message"] for line in lines(project_log) if line["logger"] == "portal.access"]
    assert len(access) == 1 and re.match(r"GET /healthz \d{3} ", access[0]), access


def test_no_server_access_log_prints_query_strings():
    for name in ("Dockerfile", "compose.yaml", "docs/deploy.md", "Makefile"):
        text = (ROOT / name).read_text()
        assert not re.search(r"gunicorn portal\.wsgi[^\n]*--access-logfile", text), name

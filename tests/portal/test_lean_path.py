"""An API call runs only what it needs: no session, CSRF, staff user, OTP, messages, htmx or
static files; it keeps its request id and security headers. Pages keep every middleware."""

import pytest
from django.test import Client

from tests.portal.conftest import PROBE_URLS

pytestmark = pytest.mark.django_db

API_PATHS = ("/api/v1/_probe/middleware", "/IDENTITY/v2/manage/_probe/middleware")


@pytest.mark.urls(PROBE_URLS)
@pytest.mark.parametrize("path", API_PATHS)
def test_an_api_call_passes_the_console_middleware_by(path):
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "a-console-session"
    for method in (client.get, client.post):
        response = method(path, HTTP_X_REQUEST_ID="req-1")
        assert response.status_code == 200  # a POST without a CSRF token too
        assert response.json() == {
            "session": False,
            "user": False,
            "htmx": False,
            "request_id": "req-1",
        }
        assert response["X-Request-Id"] == "req-1"
        assert response["Content-Security-Policy"].startswith("default-src 'none'")
        assert response["Cache-Control"] == "no-store"
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "Cookie" not in response.get("Vary", "")
        assert not response.cookies


@pytest.mark.urls(PROBE_URLS)
def test_a_page_keeps_every_middleware():
    client = Client(enforce_csrf_checks=True)
    response = client.get("/pages/_probe/middleware")
    assert response.json()["session"] and response.json()["user"] and response.json()["htmx"]
    assert client.post("/pages/_probe/middleware").status_code == 403  # CSRF still checked

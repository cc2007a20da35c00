"""Security headers on console, admin and API responses; cookie flags; no trace on errors."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_console_and_admin_pages_carry_a_strict_csp(client):
    for path in ("/console/login/", "/admin/login/"):
        response = client.get(path)
        # The admin has no sign-in page of its own: it redirects to the console's.
        assert response.status_code == (302 if path.startswith("/admin/") else 200), path
        csp = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'", csp
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert directives["frame-ancestors"] == "'none'"
        assert directives["object-src"] == "'none'"
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]


def test_console_templates_have_no_inline_script(client):
    html = client.get("/console/login/").content.decode()
    import re

    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


def test_api_responses_are_not_documents_and_not_cached(lr):
    response = lr.get("/api/v1/tenant")
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_no_hsts_over_plain_http(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    assert "Strict-Transport-Security" not in client.get("/healthz")


def test_hsts_when_configured_and_secure(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = Client().get("/healthz", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_hsts_off_by_default(settings):
    from django.conf import settings as live

    assert live.SECURE_HSTS_SECONDS == 0 or "SECURE_HSTS_SECONDS" in __import__("os").environ
    assert "Strict-Transport-Security" not in Client().get("/healthz", secure=True)


def test_debug_off_and_cookies_secure_by_default():
    """Outside `make run` (DEBUG=1) the settings module defaults to production flags."""
    import os
    import subprocess
    import sys

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    }
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, s.X_FRAME_OPTIONS)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.split() == ["False", "True", "True", "True", "DENY"]


def test_session_cookie_is_secure_and_httponly(settings, make_staff):
    from tests.console.conftest import PASSWORD

    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    user = make_staff("Agent")
    client = Client()
    client.post("/console/login/", {"username": user.username, "password": PASSWORD}, secure=True)
    cookie = client.cookies.get("sessionid")
    assert cookie is not None, "sign-in set no session cookie"
    assert cookie["secure"] is True and cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"


def test_unhandled_api_error_is_950_with_correlation_id_and_no_trace(
    lr, account, monkeypatch, settings
):
    from accounts.api.views import profile

    settings.DEBUG = False

    def boom(self, request, *args, **kwargs):
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(profile.AccountDetailView, "get", boom)
    response = lr.get(f"/identity/v2/manage/account/{account.uid}")
    assert response.status_code == 500
    body = response.json()
    assert body["ErrorCode"] == 950
    assert body["Data"]["CorrelationId"] == response["X-Request-Id"]
    assert "internal detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()

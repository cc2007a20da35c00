"""Health probes, the OpenAPI schema and docs, and the error pages."""

import pytest
from django.core.management import call_command
from django.test import Client

from tests.portal.conftest import PROBE_URLS

pytestmark = pytest.mark.django_db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_cache_and_broker(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok" and body["checks"]["cache"] == "ok"
    assert body["checks"]["broker"] == ("inline" if settings.CELERY_TASK_ALWAYS_EAGER else "ok")


def test_readyz_is_503_when_the_cache_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.PortalRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("error: ")
    assert "127.0.0.1" not in body["checks"]["cache"]  # no connection details leak


def test_readyz_is_503_when_the_broker_is_unreachable(client, settings):
    from portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = saved
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error: ")


def test_schema_endpoint_serves_openapi_3_with_the_security_schemes(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    schemes = schema["components"]["securitySchemes"]
    assert {
        "APIKey",
        "APISecret",
        "XLoginRadiusAPIKey",
        "XLoginRadiusAPISecret",
        "ClientId",
        "ClientSecret",
        "Digest",
        "XRequestExpiresTime",
        "M2MBearerToken",
    } <= set(schemes)
    tenant_op = schema["paths"]["/api/v1/tenant"]["get"]
    assert {"name": "fields", "in": "query"}.items() <= tenant_op["parameters"][0].items()
    assert {"M2MBearerToken": []} in tenant_op["security"]
    token_op = schema["paths"]["/service/oauth/token"]["post"]
    assert token_op["security"] == [{}]
    assert set(token_op["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
    }


def test_swagger_ui_is_served(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content.lower()


def test_schema_generation_validates_without_errors(tmp_path, capsys):
    """`manage.py spectacular --validate` succeeds (it raises on an invalid schema), with no
    errors at all and no warning about the portal's own views."""
    from drf_spectacular.drainage import reset_generator_stats

    reset_generator_stats()  # each message is written once per process: from now on
    capsys.readouterr()
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--file", str(target))
    assert target.read_text().startswith("openapi: 3")
    messages = capsys.readouterr().err.splitlines()
    assert [m for m in messages if "Error" in m and "Errors:" not in m] == []
    ours = [
        w
        for w in messages
        if "Warning" in w
        and any(
            name in w
            for name in (
                "portal/",
                "TenantView",
                "M2MTokenView",
                "tenant_retrieve",
                "m2m_token",
            )
        )
    ]
    assert ours == []


@pytest.mark.urls(PROBE_URLS)
def test_html_page_failure_renders_500_template_with_request_id():
    client = Client(raise_request_exception=False)
    response = client.get("/pages/_probe/boom", HTTP_X_REQUEST_ID="req-500-abc")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "req-500-abc" in text and "Something went wrong" in text
    assert "Traceback" not in text and "console page failed" not in text


def test_debug_is_off_and_cookies_are_secure_by_default(settings):
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY


@pytest.mark.parametrize(
    "supplied, kept", [("abc-123", True), ("x" * 65, False), ("bad id", False), ("é", False)]
)
def test_request_id_header_is_kept_only_when_plain(client, supplied, kept):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=supplied)
    assert (response["X-Request-Id"] == supplied) is kept
    assert len(response["X-Request-Id"]) <= 64


def test_celery_is_configured_for_reliable_delivery(settings):
    from portal.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    assert timeout >= settings.CELERY_MAX_RETRY_DELAY * 2
    assert timeout >= settings.CELERY_VISIBILITY_TIMEOUT


@pytest.mark.parametrize(
    ("visibility_timeout", "interval", "throttle"),
    [(3, 1, 1), (30, 10, 1), (3600, 10, 10), (86400, 10, 10)],
)
def test_a_dead_workers_tasks_are_looked_for_three_times_per_visibility_timeout(
    visibility_timeout, interval, throttle
):
    from portal.celery import restore_sweep

    sweep = restore_sweep(visibility_timeout)
    assert sweep == {"unacked_restore_interval": interval, "unacked_restore_throttle": throttle}
    # kombu sweeps every interval * throttle seconds: at most a third of the timeout, at
    # most its own default of 100 s.
    assert interval * throttle <= max(visibility_timeout // 3, 1)
    assert interval * throttle <= 100


def test_the_broker_sweeps_as_the_visibility_timeout_asks():
    from portal.celery import app, restore_sweep

    options = app.conf.broker_transport_options
    assert restore_sweep(options["visibility_timeout"]).items() <= options.items()

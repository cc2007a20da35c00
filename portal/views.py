"""Health probes and the error pages of the whole site."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from portal.lrapi.exceptions import api_not_found, api_server_error

API_PREFIXES = ("/identity/", "/api/", "/service/")


def is_api_path(path: str) -> bool:
    return path.lower().startswith(API_PREFIXES)


def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_cache() -> str:
    cache.set("readyz-probe", "1", 5)
    if cache.get("readyz-probe") != "1":
        raise RuntimeError("cache did not return the probe value")
    return "ok"


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "inline"
    from portal.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


def readyz(request):
    checks = {}
    healthy = True
    for name, probe in (
        ("database", _check_database),
        ("cache", _check_cache),
        ("broker", _check_broker),
    ):
        try:
            checks[name] = probe()
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}"
            healthy = False
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )


def not_found(request, exception=None):
    if is_api_path(request.path):
        return api_not_found(request, exception)
    return render(request, "404.html", status=404)


def server_error(request):
    if is_api_path(request.path):
        return api_server_error(request)
    return render(
        request, "500.html", {"request_id": getattr(request, "request_id", "")}, status=500
    )

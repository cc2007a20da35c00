import base64
import hashlib
import hmac
import importlib.util
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import pytest
from django.conf import settings as live_settings
from rest_framework.test import APIClient

from tests.console.conftest import make_staff  # noqa: F401

PROBE_URLS = "tests.portal.probe_urls"

# A LoginRadius management GET with no side effect (section `roles`, open to an unscoped
# credential): a ping of the shared authentication layer, whose refusals keep the LoginRadius
# envelope (`/api/v1/` answers them as problem details).
LR_PING = "/identity/v2/manage/role"


def lr_body(response) -> dict:
    return response.json()


def assert_lr_error(response, code: int, status: int | None = None, *, lower_camel: bool = False):
    """The response is exactly a LoginRadius error body with this code."""
    body = response.json()
    if lower_camel:
        keys = {"description", "errorCode", "message", "isProviderError", "providerErrorResponse"}
        assert keys <= set(body), body
        assert body["errorCode"] == code, body
        assert body["isProviderError"] is False and body["providerErrorResponse"] is None
        assert not {"ErrorCode", "Description", "Message"} & set(body)
    else:
        keys = {"Description", "ErrorCode", "Message", "IsProviderError", "ProviderErrorResponse"}
        assert keys <= set(body), body
        assert body["ErrorCode"] == code, body
        assert body["IsProviderError"] is False and body["ProviderErrorResponse"] is None
        assert isinstance(body["Message"], str) and body["Message"]
        assert isinstance(body["Description"], str) and body["Description"]
    if status is not None:
        assert response.status_code == status, (response.status_code, body)
    return body


def assert_problem(response, code: str, status: int) -> dict:
    """The response is RFC 9457 problem details with this stable code and status."""
    assert response["Content-Type"].startswith("application/problem+json"), response.content
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body), body
    assert (response.status_code, body["status"], body["code"]) == (status, status, code), body
    assert body["type"].endswith(code) and "ErrorCode" not in body
    return body


def hmac_b64(secret: str, message: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    ).decode()


def python_sdk_digest(secret: str, url: str, expiry: str, payload: str | None = "{}") -> str:
    """LoginRadius-v2 11.7 get_digest: quote(url.lower(), safe=''), whole string lowercased,
    then ':' + json.dumps(payload) when a payload is given (GET signs ':{}')."""
    text = (expiry + ":" + quote(url.lower(), safe="")).lower()
    if payload is not None:
        text += ":" + payload
    return hmac_b64(secret, text)


def dotnet_expiry(moment: datetime) -> str:
    """.NET `yyyy-M-d h:m:s tt`: no zero padding, 12-hour clock, AM/PM."""
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{moment.year}-{moment.month}-{moment.day} {hour}:{moment.minute}:{moment.second} {half}"
    )


def dotnet_digest(secret: str, url: str, expiry: str, payload: str = "") -> str:
    """HttpUtility.UrlEncode(UrlDecode(url)).ToLower(); the expiry keeps its case;
    the payload only when non-empty."""
    encoded = quote_plus(unquote_plus(url), safe="-_.!*()").lower()
    text = f"{expiry}:{encoded}"
    if payload:
        text += ":" + payload
    return hmac_b64(secret, text)


def node_digest(secret: str, url: str, expiry: str, payload: str | None = None) -> str:
    """encodeURIComponent(decodeURIComponent(url)).toLowerCase(); payload only with a body."""
    encoded = quote(unquote(url), safe="-_.!~*'()").lower()
    text = f"{expiry}:{encoded}"
    if payload is not None:
        text += ":" + payload
    return hmac_b64(secret, text)


def utc_expiry(seconds: int = 3600) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)


@pytest.fixture
def api():
    return APIClient()


# The variables that decide where the keys come from and which stores the settings pick;
# each test of `load_settings` sets the ones it needs.
KEY_ENVIRONMENT = ("DATABASE_URL", "DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "REDIS_URL")


@pytest.fixture
def load_settings(tmp_path, monkeypatch):
    """Runs a copy of portal/settings.py rooted at an empty directory (its var/ is
    tmp_path/var), with the given environment, and returns the module."""
    (tmp_path / "portal").mkdir()
    shutil.copy(Path(live_settings.BASE_DIR) / "portal" / "settings.py", tmp_path / "portal")
    loads = 0

    def load(**environment: str):
        nonlocal loads
        for name in KEY_ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        loads += 1
        spec = importlib.util.spec_from_file_location(
            f"settings_under_test_{loads}", tmp_path / "portal" / "settings.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load

import os
from urllib.parse import urlencode

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import AccountFactory, ApiCredentialFactory, TenantFactory


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "inline tasks" if settings.CELERY_TASK_ALWAYS_EAGER else settings.CELERY_BROKER_URL
    return f"portal: database={db}, cache/broker={broker}"


def pytest_collection_modifyitems(config, items):
    """Tests that need PostgreSQL or a real worker fail loudly in the services pass if the
    services are missing, and are deselected on the embedded pass, where they cannot run."""
    services_pass = os.environ.get("PORTAL_SERVICES_PASS") == "1"
    keep, drop = [], []
    for item in items:
        needs_pg = item.get_closest_marker("postgres") is not None
        needs_worker = item.get_closest_marker("celery_worker") is not None
        if (needs_pg and not settings.IS_POSTGRES) or (
            needs_worker and settings.CELERY_TASK_ALWAYS_EAGER
        ):
            if services_pass:
                raise pytest.UsageError(
                    f"{item.nodeid} needs PostgreSQL/Redis but the services pass is not configured for them"
                )
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True, scope="session")
def _strict_event_payloads():
    """An event whose diff leaves its type's declared payload shape fails the test that
    recorded it (portal/audit.py; production logs it instead)."""
    from django.conf import settings

    settings.EVENT_PAYLOADS_STRICT = True


@pytest.fixture(autouse=True)
def _fast_password_hasher(request, settings):
    """Argon2 is the production hasher; most tests do not need its cost."""
    if request.node.get_closest_marker("real_hasher") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def in_process_cache(settings):
    """The in-process cache as the default one, for tests whose subject is how long a
    cache entry lives: it reads Python's clock, which freezegun moves, while Redis expires
    keys on its own clock, which no test can move."""
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def tenant(db):
    return TenantFactory()


@pytest.fixture
def credential(tenant):
    return ApiCredentialFactory(tenant=tenant)


@pytest.fixture
def other_tenant(db):
    return TenantFactory()


@pytest.fixture
def other_credential(other_tenant):
    return ApiCredentialFactory(tenant=other_tenant)


@pytest.fixture
def account(tenant):
    return AccountFactory(tenant=tenant)


class LRClient:
    """Calls the API the way the LoginRadius SDKs do: apikey in the query, secret in a header."""

    def __init__(self, credential):
        self.credential = credential
        self.client = APIClient()

    def _url(self, path: str, params: dict | None) -> str:
        query = {"apikey": self.credential.tenant.api_key, **(params or {})}
        return f"{path}?{urlencode(query)}"

    def request(self, method: str, path: str, params: dict | None = None, body=None, **headers):
        headers.setdefault("HTTP_X_LOGINRADIUS_APISECRET", self.credential.raw)
        kwargs = {"format": "json"} if body is not None else {}
        return getattr(self.client, method.lower())(
            self._url(path, params), body, **kwargs, **headers
        )

    def get(self, path, params=None, **headers):
        return self.request("GET", path, params, **headers)

    def post(self, path, body=None, params=None, **headers):
        return self.request("POST", path, params, body if body is not None else {}, **headers)

    def put(self, path, body=None, params=None, **headers):
        return self.request("PUT", path, params, body if body is not None else {}, **headers)

    def delete(self, path, body=None, params=None, **headers):
        return self.request("DELETE", path, params, body if body is not None else {}, **headers)


@pytest.fixture
def lr(credential):
    return LRClient(credential)


@pytest.fixture
def lr_other(other_credential):
    return LRClient(other_credential)


@pytest.fixture
def lr_sdk(live_server, credential):
    """The real LoginRadius Python SDK (LoginRadius-v2 11.7.0) pointed at a live test server.

    Use `lr_sdk(signing=True)` for signed requests. The SDK keeps its configuration in class
    attributes, so they are restored afterwards.
    """
    from LoginRadius import LoginRadius as LR

    saved = {
        name: getattr(LR, name)
        for name in ("API_KEY", "API_SECRET", "CUSTOM_DOMAIN", "API_REQUEST_SIGNING", "LIBRARY")
    }

    def make(*, signing: bool = False, library: str = "requests"):
        LR.API_KEY = credential.tenant.api_key
        LR.API_SECRET = credential.raw
        LR.CUSTOM_DOMAIN = live_server.url + "/"
        LR.API_REQUEST_SIGNING = signing
        LR.LIBRARY = library
        return LR()

    yield make
    for name, value in saved.items():
        setattr(LR, name, value)


@pytest.fixture
def eager_tasks():
    """Run tasks inline (as the embedded default does), whatever REDIS_URL says: for a test
    that reads what a task did in this process (the mail backend's outbox)."""
    from portal.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved

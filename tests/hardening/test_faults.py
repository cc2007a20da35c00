"""Service faults with PostgreSQL and Redis on loopback (services pass only).

- Redis (cache and broker) stopped mid-run: reads keep working without the cache, writes
  commit, their messages stay queued in the outbox; limits fail open.
- PostgreSQL connections terminated under a running server: the next request succeeds
  without restarting it (CONN_HEALTH_CHECKS).
A worker killed mid-delivery is covered by tests/messages/test_worker.py.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection

from portal import crypto, ratelimit
from portal.audit import Actor
from tests.factories import AccountFactory
from tests.hardening.conftest import set_tenant_settings
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]

M = "/identity/v2/manage/account"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisProcess:
    def __init__(self, port: int):
        self.port = port
        self.proc = None

    def start(self):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is needed for the fault tests")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        assert wait_until(
            lambda: redis.Redis(port=self.port, socket_timeout=1).ping(),
            timeout=20,
            ignoring=(redis.ConnectionError, redis.TimeoutError),
        ), "redis did not start"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def own_redis(settings):
    """A private redis-server; the cache and the Celery producer point at it."""
    from portal.celery import app

    # Captured before CELERY_BROKER_URL changes: app.conf reads through to Django settings.
    saved = app.conf.broker_url, app.conf.broker_write_url
    server = RedisProcess(free_port())
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.PortalRedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "faults",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.CELERY_BROKER_URL = server.url
    app.conf.broker_url = app.conf.broker_write_url = server.url
    _reset_pools()
    try:
        yield server
    finally:
        server.stop()
        app.conf.broker_url, app.conf.broker_write_url = saved
        _reset_pools()
        ratelimit.reset()


def _reset_pools():
    """Forget every broker connection: kombu keeps connection and producer pools in
    process-wide registries, so closing one without clearing them would leave a closed
    pool behind for the next publish of the original broker."""
    from celery import current_app
    from kombu import pools

    with contextlib.suppress(Exception):
        pools.reset()
    # Celery offers no public way to forget these (close() also deregisters the app).
    current_app._pool = None  # noqa: SLF001
    current_app.amqp._producer_pool = None  # noqa: SLF001


def _limits_failed_open(caplog) -> bool:
    """Whether a request met the outage: the rate limiter then logs that it let it through."""
    return any("rate limits not enforced" in r.getMessage() for r in caplog.records)


@pytest.mark.timeout(60)  # no request may hang on the stopped Redis
def test_redis_stopped_mid_run(own_redis, tenant, lr, caplog):
    from tokens.commands import SessionIssue
    from tokens.models import OutboxMessage
    from tokens.services.sessions import session_issue

    account = AccountFactory(tenant=tenant, email="fault@example.com")
    session_issue(SessionIssue(), tenant=tenant, account=account, actor=Actor.system("test"))
    set_tenant_settings(tenant, rate_limit_per_credential=1000)

    def reads():
        return [
            lr.get(f"{M}/{account.uid}"),
            lr.get(f"{M}/{account.uid}/role"),
            lr.get("/api/v1/tenant"),
        ]

    assert [r.status_code for r in reads()] == [200, 200, 200]

    own_redis.stop()
    failures = []
    for response in reads():
        if response.status_code != 200:
            failures.append(
                (response.request["PATH_INFO"], response.status_code, response.content[:300])
            )
    assert not failures, failures
    assert _limits_failed_open(caplog)

    # A write commits, and its message waits in the outbox for the relay.
    response = lr.put(f"{M}/{account.uid}", {"FirstName": "AfterOutage"})
    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert account.first_name == "AfterOutage"
    response = lr.post(
        f"{M}/forgot/token", {"email": "fault@example.com"}, params={"sendemail": "true"}
    )
    assert response.status_code == 200, response.content
    assert OutboxMessage.objects.filter(account=account, status="queued").count() == 1

    # Redis back: the cache and the limits work again.
    own_redis.start()
    ratelimit.reset()
    assert [r.status_code for r in reads()] == [200, 200, 200]
    set_tenant_settings(tenant, rate_limit_per_credential=1)
    lr.get("/api/v1/tenant")
    assert lr.get("/api/v1/tenant").status_code == 429


@pytest.mark.timeout(60)  # no request may hang on the stopped Redis
def test_access_token_validation_survives_redis_outage(own_redis, tenant, lr, caplog):
    """Validation falls back to the database; sign-in and revocation still commit."""
    from tokens.commands import SessionIssue
    from tokens.models import AccessToken
    from tokens.services.sessions import session_issue

    account = AccountFactory(tenant=tenant)
    issued = session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.system("test")
    )
    other = session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.system("test")
    )
    own_redis.stop()
    response = lr.get("/identity/v2/auth/access_token", {"access_token": issued.access_token})
    assert response.status_code == 200, response.content
    assert _limits_failed_open(caplog)
    # A session opened during the outage is valid, from the database.
    during = session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.system("test")
    )
    response = lr.get("/identity/v2/auth/access_token", {"access_token": during.access_token})
    assert response.status_code == 200, response.content
    # A revocation during the outage commits and is effective at once (no cache to consult).
    response = lr.get(
        "/identity/v2/auth/access_token/invalidate", {"access_token": other.access_token}
    )
    assert response.status_code == 200, response.content
    assert (
        AccessToken.objects.get(token_hash=crypto.token_hash(other.access_token)).revoked_at
        is not None
    )
    response = lr.get("/identity/v2/auth/access_token", {"access_token": other.access_token})
    assert response.json()["ErrorCode"] == 905, response.content

    own_redis.start()
    ratelimit.reset()
    assert (
        lr.get("/identity/v2/auth/access_token", {"access_token": issued.access_token}).status_code
        == 200
    )
    assert (
        lr.get("/identity/v2/auth/access_token", {"access_token": other.access_token}).json()[
            "ErrorCode"
        ]
        == 905
    )


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen

    def workers(self) -> set[int]:
        """The pids of the gunicorn master's worker processes (Linux /proc)."""
        pid = self.process.pid
        return {
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        }


@pytest.fixture
def app_server(tenant):
    """The app under gunicorn (one sync worker, persistent database connections) on the
    test database."""
    port = free_port()
    db = django_settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DB_CONN_MAX_AGE": "600",
        "DEBUG": "0",
        # What it delivers is not under test here: a file SMS backend may serve it.
        "ALLOW_UNDELIVERED_MESSAGES": "1",
    }
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "portal.wsgi",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=django_settings.BASE_DIR,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(
            lambda: requests.get(base + "/healthz", timeout=1).ok,
            timeout=30,
            ignoring=(requests.RequestException,),
        ), "server did not start"
        yield AppServer(base, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _app_connections(admin, dbname: str) -> set[int]:
    """Backend pids of the connections to `dbname`, other than this test's own."""
    own_pid = connection.cursor().connection.info.backend_pid
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() AND pid <> %s",
        (dbname, own_pid),
    ).fetchall()
    return {pid for (pid,) in rows}


@contextlib.contextmanager
def _postgres_admin():
    db = django_settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    ) as admin:
        yield admin


def test_postgres_connections_killed_next_request_succeeds(app_server, tenant, credential):
    """The worker that held the killed connection answers the next request on a new one:
    no restart, no error."""
    headers = {"X-LoginRadius-ApiSecret": credential.raw}
    url = f"{app_server.url}/api/v1/tenant?apikey={tenant.api_key}"
    dbname = django_settings.DATABASES["default"]["NAME"]
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    workers = app_server.workers()
    with _postgres_admin() as admin:
        killed = _app_connections(admin, dbname)
        assert killed, "the server held no database connection to terminate"
        for pid in killed:  # each gone once this returns (waits up to 10 s for it to exit)
            assert admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone()[0]
        response = requests.get(url, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        reconnected = _app_connections(admin, dbname)
    assert reconnected and not reconnected & killed
    assert app_server.workers() == workers
    assert requests.get(f"{app_server.url}/readyz", timeout=10).json()["checks"]["database"] == "ok"

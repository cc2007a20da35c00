"""Prometheus metrics, scraped over HTTP: off by default; under gunicorn with two workers one
scrape of the master's port sums both; in one process (the live server) the counters fed
from the request path, sign-in, rate limits and delivery; a real Celery worker serves its
task run times and the outbox backlog."""

import os
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.urls import resolve
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from portal import metrics
from tests.factories import AccountFactory
from tests.messages.conftest import (
    _flush_broker_db as flush_broker_db,
)
from tests.messages.conftest import (  # noqa: F401
    celery_worker_factory,
    free_port,
    smtp_mail,
    smtp_server,
    test_database_url,
)
from tests.waiting import wait_until
from tokens.models import OutboxMessage

M = "/identity/v2/manage/account"
LOGIN = "/identity/v2/auth/login"
PASSWORD = "correct horse battery"


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when none)."""
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def sample_names(text: str) -> set[str]:
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


# --- Off by default ------------------------------------------------------------------------


def test_metrics_are_off_by_default_and_never_on_the_application_port(client):
    assert django_settings.METRICS_PORT == 0
    labels = {"route": "healthz", "method": "GET", "status": "200"}
    before = REGISTRY.get_sample_value("portal_http_request_duration_seconds_count", labels)
    assert client.get("/healthz").status_code == 200
    assert REGISTRY.get_sample_value("portal_http_request_duration_seconds_count", labels) == before
    assert client.get("/metrics").status_code == 404


# --- gunicorn, two workers, multiprocess mode ----------------------------------------------


@dataclass
class GunicornApp:
    url: str
    metrics_url: str
    multiproc_dir: Path
    process: subprocess.Popen

    def workers(self) -> set[int]:
        pid = self.process.pid
        return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}

    def scrape(self) -> str:
        response = requests.get(self.metrics_url, timeout=10)
        assert response.status_code == 200, response.text
        return response.text


@pytest.fixture
def gunicorn_app(tmp_path):
    """The app under gunicorn (gunicorn.conf.py, two sync workers) on a database of its own,
    with metrics on: the master serves them on a second port."""
    port, metrics_port = free_port(), free_port()
    multiproc_dir = tmp_path / "metrics"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": django_settings.FIELD_ENCRYPTION_KEY,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "METRICS_PORT": str(metrics_port),
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir),
        # What it delivers is not under test here: a file SMS backend may serve it.
        "ALLOW_UNDELIVERED_MESSAGES": "1",
    }
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "PYTEST_CURRENT_TEST"):
        env.pop(name, None)
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "portal.wsgi",
            "-c",
            "gunicorn.conf.py",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    app = GunicornApp(
        f"http://127.0.0.1:{port}",
        f"http://127.0.0.1:{metrics_port}/metrics",
        multiproc_dir,
        process,
    )
    try:
        started = wait_until(
            # HEAD: a probe that gave up early may still be counted, under labels of its own.
            lambda: (
                requests.head(app.url + "/healthz", timeout=2).ok
                and requests.get(app.metrics_url, timeout=2).ok
                and len(app.workers()) == 2
            ),
            timeout=60,
            ignoring=(requests.RequestException,),
        )
        assert started, (tmp_path / "gunicorn.log").read_text()
        yield app
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_one_scrape_of_the_gunicorn_master_sums_both_workers(gunicorn_app, tmp_path):
    app = gunicorn_app
    workers = sorted(app.workers())
    healthz = {"route": "healthz", "method": "GET", "status": "200"}
    name = "portal_http_request_duration_seconds_count"
    sent = 0
    readings = 0

    def per_worker() -> list[float]:
        """Each worker's own count, read from a copy of only its file."""
        nonlocal readings
        counts = []
        for pid in workers:
            readings += 1
            copy = tmp_path / f"reading-{readings}"
            copy.mkdir()
            own = app.multiproc_dir / f"histogram_{pid}.db"
            if own.exists():
                shutil.copy(own, copy / own.name)
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=str(copy))
            counts.append(registry.get_sample_value(name, healthz) or 0.0)
        return counts

    def burst() -> bool:
        nonlocal sent
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(
                    lambda _: requests.get(app.url + "/healthz", timeout=10).status_code, range(16)
                )
            )
        assert statuses == [200] * 16
        sent += 16
        return all(per_worker())

    # Concurrent requests until each worker has served some (the kernel picks the worker).
    assert wait_until(burst, timeout=120), "one worker served every request"
    for _ in range(3):
        assert requests.get(app.url + "/readyz", timeout=10).status_code == 200
    unknown_uid = "b7d2c94e0f5a4d3e9a1c6b8f2e4d7a90"
    assert requests.get(f"{app.url}/no/such/{unknown_uid}", timeout=10).status_code == 404
    # The application's own port does not serve the metrics.
    assert requests.get(app.url + "/metrics", timeout=10).status_code == 404

    text = app.scrape()
    counts = per_worker()
    assert all(count > 0 for count in counts), counts
    assert sum(counts) == sample(text, name, **healthz) == sent
    inf_bucket = sample(text, "portal_http_request_duration_seconds_bucket", le="+Inf", **healthz)
    assert inf_bucket == sent
    assert sample(text, "portal_http_request_db_seconds_count", route="readyz") == 3
    assert sample(text, "portal_http_request_db_seconds_sum", route="readyz") > 0
    assert sample(text, "portal_http_request_cache_seconds_count", route="readyz") == 3
    assert sample(text, "portal_http_request_cache_seconds_sum", route="readyz") > 0
    assert sample(text, name, route="unmatched", status="404") == 2  # /no/such/..., /metrics
    assert unknown_uid not in text and "/no/such" not in text
    assert sample(text, "portal_http_requests_in_progress") == 0

    # A worker that exits (a restart): its live gauge is dropped, its counts stay.
    gone = min(workers)
    os.kill(gone, signal.SIGTERM)
    assert wait_until(
        lambda: (
            not (app.multiproc_dir / f"gauge_livesum_{gone}.db").exists()
            and len(app.workers() - {gone}) == 2
        ),
        timeout=60,
    )
    assert sample(app.scrape(), name, **healthz) == sent


# --- One process: the counters fed from the code paths -------------------------------------


@pytest.fixture
def scrape(settings):
    """Metrics on in this process, served the way a Celery worker serves them."""
    settings.METRICS_PORT = free_port()
    server = metrics.serve(port=settings.METRICS_PORT, address="127.0.0.1")
    url = f"http://127.0.0.1:{settings.METRICS_PORT}/metrics"

    def get() -> str:
        response = requests.get(url, timeout=10)
        assert response.status_code == 200
        return response.text

    yield get
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_url(scrape, transactional_db):
    """A live server whose handler loaded its middleware with metrics on."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1")
    yield server.url
    server.stop()


def test_request_latency_database_and_cache_time_per_route_name(app_url, scrape, credential):
    account = AccountFactory(tenant=credential.tenant)
    path = f"{M}/{account.uid}"
    route = resolve(path).view_name
    labels = {"route": route, "method": "GET", "status": "200"}
    before = scrape()
    response = requests.get(
        f"{app_url}{path}",
        params={"apikey": credential.tenant.api_key},
        headers={"X-LoginRadius-ApiSecret": credential.raw},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    after = scrape()
    duration = "portal_http_request_duration_seconds_count"
    assert sample(after, duration, **labels) - sample(before, duration, **labels) == 1
    db_count, db_sum = "portal_http_request_db_seconds_count", "portal_http_request_db_seconds_sum"
    assert sample(after, db_count, route=route) - sample(before, db_count, route=route) == 1
    assert sample(after, db_sum, route=route) > sample(before, db_sum, route=route)
    # Authentication and rate limits: one cache round trip (a Redis script, or in-process).
    cache_sum = "portal_http_request_cache_seconds_sum"
    assert sample(after, cache_sum, route=route) > sample(before, cache_sum, route=route)
    assert account.uid not in after and credential.raw not in after


def test_rate_limit_refusals_are_counted(app_url, scrape, settings, credential):
    settings.RATE_LIMIT_AUTH_FAILURES_PER_IP = 2
    name = "portal_rate_limit_refusals_total"
    before = sample(scrape(), name)
    statuses = [
        requests.get(
            f"{app_url}{M}",
            params={"apikey": credential.tenant.api_key, "email": "x@example.com"},
            headers={"X-LoginRadius-ApiSecret": "not-the-secret"},
            timeout=10,
        ).status_code
        for _ in range(4)
    ]
    assert 429 in statuses, statuses
    assert sample(scrape(), name) - before == statuses.count(429)


def test_sign_in_failures_and_lockouts_are_counted(app_url, scrape, tenant):
    tenant.settings = {"lockout_threshold": 2, "lockout_minutes": 10}
    tenant.save()
    member = AccountFactory(tenant=tenant, email="member@example.com")
    member.password = make_password(PASSWORD)
    member.save()

    def sign_in(email: str, password: str) -> int:
        return requests.post(
            f"{app_url}{LOGIN}",
            params={"apikey": tenant.api_key},
            json={"email": email, "password": password},
            timeout=10,
        ).status_code

    before = scrape()
    assert [sign_in("member@example.com", "nope") for _ in range(2)] == [401, 401]
    assert sign_in("member@example.com", PASSWORD) == 401  # locked now
    assert sign_in("nobody@example.com", "nope") == 401
    after = scrape()

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    failures = "portal_sign_in_failures_total"
    assert delta(failures, reason="wrong_password") == 2
    assert delta(failures, reason="locked") == 1
    assert delta(failures, reason="unknown_account") == 1
    assert delta("portal_account_lockouts_total", cause="failed_sign_ins") == 1
    assert delta("portal_account_lockouts_total", cause="manual") == 0


def test_delivery_outcomes_task_run_times_and_outbox_backlog(
    scrape,
    transactional_db,
    lr,
    smtp_mail,  # noqa: F811
    eager_tasks,
):
    tenant = lr.credential.tenant
    for email in ("sent@example.com", "retried@example.com", "failed@example.com"):
        AccountFactory(tenant=tenant, email=email)
    written = timezone.now() - timedelta(minutes=10)
    for _ in range(2):  # queued long ago, never handed to a worker
        OutboxMessage.objects.create(
            tenant=tenant,
            channel=OutboxMessage.CHANNEL_EMAIL,
            template="generic",
            recipient="waiting@example.com",
            created=written,
        )
    before = scrape()
    for email, answer in (
        ("sent@example.com", None),
        ("retried@example.com", "451 4.3.0 Try again later"),
        ("failed@example.com", "550 5.1.1 Mailbox unavailable"),
    ):
        smtp_mail.handler.refuse_with = answer
        response = lr.post(f"{M}/forgot/token", {"email": email}, params={"sendemail": "true"})
        assert response.status_code == 200, response.json()
    after = scrape()
    oldest_possible = (timezone.now() - written).total_seconds()

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    deliveries = "portal_message_deliveries_total"
    assert delta(deliveries, channel="email", outcome="sent") == 1
    assert delta(deliveries, channel="email", outcome="retried") == 1
    assert delta(deliveries, channel="email", outcome="failed") == 1
    task = {"task": "tokens.message_deliver", "state": "SUCCESS"}
    assert delta("portal_celery_task_duration_seconds_count", **task) == 3
    # Two written long ago plus the one waiting for its retry.
    assert sample(after, "portal_outbox_messages", status="queued") == 3
    assert sample(after, "portal_outbox_messages", status="sending") == 0
    age = sample(after, "portal_outbox_oldest_queued_age_seconds")
    assert 600 <= age <= oldest_possible


# --- A real Celery worker (PostgreSQL + Redis pass) ----------------------------------------


@pytest.mark.celery_worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_celery_worker_serves_task_run_times_and_the_outbox(
    lr,
    tmp_path,
    smtp_server,  # noqa: F811
    celery_worker_factory,  # noqa: F811
):
    port = free_port()
    celery_worker_factory(
        METRICS_PORT=str(port),
        METRICS_BIND_ADDRESS="127.0.0.1",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "worker-metrics"),
    )
    AccountFactory(tenant=lr.credential.tenant, email="person@example.com")
    response = lr.post(
        f"{M}/forgot/token", {"email": "person@example.com"}, params={"sendemail": "true"}
    )
    assert response.status_code == 200, response.json()
    assert len(smtp_server.handler.wait_for(1, timeout=60)) == 1
    url = f"http://127.0.0.1:{port}/metrics"
    task = {"task": "tokens.message_deliver", "state": "SUCCESS"}

    def delivered_and_counted() -> str | None:
        text = requests.get(url, timeout=10).text
        return text if sample(text, "portal_celery_task_duration_seconds_count", **task) else None

    text = wait_until(delivered_and_counted, timeout=30)
    assert text, "the worker's endpoint shows no task run time"
    assert sample(text, "portal_celery_task_duration_seconds_count", **task) == 1
    assert sample(text, "portal_celery_task_duration_seconds_sum", **task) > 0
    wait = "portal_celery_task_queue_wait_seconds_count"
    assert sample(text, wait, task="tokens.message_deliver") == 1
    assert sample(text, "portal_message_deliveries_total", channel="email", outcome="sent") == 1
    assert {"portal_outbox_messages", "portal_outbox_oldest_queued_age_seconds"} <= sample_names(
        text
    )
    assert sample(text, "portal_outbox_messages", status="queued") == 0


@pytest.mark.celery_worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_prefork_worker_serves_the_figures_of_its_pool_processes(
    lr,
    tmp_path,
    smtp_server,  # noqa: F811
):
    """Tasks run in the pool's processes; the main process, which runs none, serves them."""
    flush_broker_db()
    port, directory = free_port(), tmp_path / "prefork-metrics"
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "SECRET_KEY": django_settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": django_settings.FIELD_ENCRYPTION_KEY,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DB_CONN_MAX_AGE": "0",
        "METRICS_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        **smtp_server.env(),
        # What it delivers is not under test here: a file SMS backend may serve it.
        "ALLOW_UNDELIVERED_MESSAGES": "1",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    log_path = tmp_path / "prefork.log"
    log = open(log_path, "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            "portal",
            "-n",
            f"metrics-prefork-{os.getpid()}@%h",
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    task = {"task": "tokens.message_deliver", "state": "SUCCESS"}
    try:
        assert wait_until(lambda: b" ready." in log_path.read_bytes(), timeout=60), (
            log_path.read_text()
        )
        for email in ("one@example.com", "two@example.com"):
            AccountFactory(tenant=lr.credential.tenant, email=email)
            response = lr.post(f"{M}/forgot/token", {"email": email}, params={"sendemail": "true"})
            assert response.status_code == 200, response.json()
        assert len(smtp_server.handler.wait_for(2, timeout=60)) == 2
        url = f"http://127.0.0.1:{port}/metrics"
        text = wait_until(
            lambda: (
                (body := requests.get(url, timeout=10).text)
                and sample(body, "portal_celery_task_duration_seconds_count", **task) == 2
                and body
            ),
            timeout=30,
        )
        assert text, log_path.read_text()
        assert sample(text, "portal_message_deliveries_total", outcome="sent") == 2
        writers = {int(p.stem.rsplit("_", 1)[1]) for p in directory.glob("histogram_*.db")}
        assert writers and worker.pid not in writers
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        log.close()

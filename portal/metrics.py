"""Prometheus metrics (prometheus-client).

Off unless `METRICS_PORT` is set. Then every process records what it does, and one process
per service serves the figures of all of them on `METRICS_BIND_ADDRESS:METRICS_PORT`, never
on the application's own port:
- web: the gunicorn master (`gunicorn.conf.py`), which runs no request handling, so a scrape
  is answered even while every worker is busy;
- Celery: each worker's main process (`worker_init` below), which serves its pool.

With several processes the figures go through prometheus-client's multiprocess mode: each
process writes its own files under `PROMETHEUS_MULTIPROC_DIR` and the serving process sums
them (`MultiProcessCollector`). The directory must be set before any process imports
prometheus-client, and each service (web, worker) needs its own (docs/deploy.md).

Series (all prefixed `portal_`):
- requests: latency histogram per route name (the resolved URL name, never the raw path),
  method and status; the time each request spent in database calls and in cache calls;
  requests in progress; rate-limit refusals (every 429, per route);
- accounts: sign-in failures by reason, sign-in lockouts by cause;
- messages: delivery outcomes per channel (sent, failed, retried); the outbox backlog and
  the age of its oldest queued message, read from the database at scrape time (collectors
  that apps register with `register_scrape_collector`, served by the Celery worker);
- Celery: task run time per task name and final state, and the wait between a task's
  publication and its start.
"""

import contextvars
import logging
import os
import time
from collections.abc import Iterable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.urls import Resolver404, resolve
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)
from prometheus_client.registry import Collector

logger = logging.getLogger("portal.metrics")

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_DIR_VARIABLE):
    # The series below write their files there as they are made.
    os.makedirs(os.environ[MULTIPROC_DIR_VARIABLE], exist_ok=True)
# Per-request time in the database or the cache: most requests spend well under 10 ms there.
SHORT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
# Any other method string a client sends is counted as "other": labels must stay few.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"

REQUEST_DURATION = Histogram(
    "portal_http_request_duration_seconds",
    "Time from the request reaching Django to its response, per route name and status.",
    ["route", "method", "status"],
)
REQUEST_DB_TIME = Histogram(
    "portal_http_request_db_seconds",
    "Time a request spent in database calls.",
    ["route"],
    buckets=SHORT_BUCKETS,
)
REQUEST_CACHE_TIME = Histogram(
    "portal_http_request_cache_seconds",
    "Time a request spent in cache calls.",
    ["route"],
    buckets=SHORT_BUCKETS,
)
REQUESTS_IN_PROGRESS = Gauge(
    "portal_http_requests_in_progress",
    "Requests being handled now, over the live worker processes.",
    multiprocess_mode="livesum",
)
RATE_LIMIT_REFUSALS = Counter(
    "portal_rate_limit_refusals",
    "Requests refused with 429 (rate limits, send cooldowns and daily caps), per route.",
    ["route"],
)
SIGN_IN_FAILURES = Counter(
    "portal_sign_in_failures",
    "Password sign-ins refused: unknown account, wrong password, or a locked account.",
    ["reason"],
)
LOCKOUTS = Counter(
    "portal_account_lockouts",
    "Sign-in locks: by the lockout policy after failed sign-ins, or set by hand.",
    ["cause"],
)
DELIVERIES = Counter(
    "portal_message_deliveries",
    "Outbox delivery attempts by channel and outcome (sent, failed for good, retried).",
    ["channel", "outcome"],
)
TASK_DURATION = Histogram(
    "portal_celery_task_duration_seconds",
    "Run time of Celery tasks, per task name and final state.",
    ["task", "state"],
    buckets=TASK_BUCKETS,
)
TASK_QUEUE_WAIT = Histogram(
    "portal_celery_task_queue_wait_seconds",
    "Time from a task's publication (or its ETA, for a scheduled retry) to its start.",
    ["task"],
    buckets=TASK_BUCKETS,
)


def enabled() -> bool:
    return bool(getattr(settings, "METRICS_PORT", 0))


def multiprocess_dir() -> str:
    return os.environ.get(MULTIPROC_DIR_VARIABLE, "")


# --- Requests ------------------------------------------------------------------------------


class RequestSpending:
    """What one request spent outside Python: database and cache time, in seconds."""

    __slots__ = ("cache", "db", "in_cache_call")

    def __init__(self) -> None:
        self.db = 0.0
        self.cache = 0.0
        self.in_cache_call = False

    def __call__(self, execute, sql, params, many, context):
        # A `connection.execute_wrapper`: each statement's time is added to the request's.
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.db += time.perf_counter() - started


_spending: contextvars.ContextVar[RequestSpending | None] = contextvars.ContextVar(
    "metrics_request_spending", default=None
)


def route_name(request, status: int) -> str:
    """The request's URL name (`namespace:name`, or the view's dotted path for an unnamed
    route), never its path: paths carry UIDs and would make a series per account. A request
    answered before URL resolution (a middleware's 413 or 429) is resolved here; a 404
    without a match is not resolved twice."""
    match = getattr(request, "resolver_match", None)
    if match is None and status == 404:
        return UNMATCHED_ROUTE
    if match is None:
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return UNMATCHED_ROUTE
    return match.view_name or UNMATCHED_ROUTE


class RequestMetricsMiddleware:
    """Request latency, database and cache time per route. Not loaded at all when metrics
    are off (`MiddlewareNotUsed`), so it then costs nothing per request."""

    def __init__(self, get_response):
        if not enabled():
            raise MiddlewareNotUsed("METRICS_PORT is not set")
        self.get_response = get_response

    def __call__(self, request):
        spending = RequestSpending()
        token = _spending.set(spending)
        REQUESTS_IN_PROGRESS.inc()
        started = time.perf_counter()
        try:
            with ExitStack() as stack:
                for alias in connections:
                    stack.enter_context(connections[alias].execute_wrapper(spending))
                response = self.get_response(request)
        finally:
            REQUESTS_IN_PROGRESS.dec()
            _spending.reset(token)
        elapsed = time.perf_counter() - started
        status = response.status_code
        route = route_name(request, status)
        method = request.method if request.method in KNOWN_METHODS else "other"
        REQUEST_DURATION.labels(route, method, str(status)).observe(elapsed)
        REQUEST_DB_TIME.labels(route).observe(spending.db)
        REQUEST_CACHE_TIME.labels(route).observe(spending.cache)
        if status == 429:
            RATE_LIMIT_REFUSALS.labels(route).inc()
        return response


# Cache calls that a backend answers; get_or_set is left out (it calls get and add).
TIMED_CACHE_CALLS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "decr",
    "set_many",
    "delete_many",
    "clear",
)


class CacheTimingMixin:
    """For a cache backend class (`class C(CacheTimingMixin, RedisCache)`): the time of each
    call made during a request is added to the request's cache time. A call that another
    timed call makes (a base class's get_many calling get) is not counted twice."""


def _timed_cache_call(name: str):
    def call(self, *args, **kwargs):
        parent = getattr(super(CacheTimingMixin, self), name)
        spending = _spending.get()
        if spending is None or spending.in_cache_call:
            return parent(*args, **kwargs)
        spending.in_cache_call = True
        started = time.perf_counter()
        try:
            return parent(*args, **kwargs)
        finally:
            spending.cache += time.perf_counter() - started
            spending.in_cache_call = False

    call.__name__ = call.__qualname__ = name
    return call


for _name in TIMED_CACHE_CALLS:
    setattr(CacheTimingMixin, _name, _timed_cache_call(_name))


class CacheCallTimer:
    """`with metrics.CacheCallTimer():` times a cache round trip made without the cache
    backend (a raw Redis client) as cache time of the current request."""

    __slots__ = ("spending", "started")

    def __enter__(self) -> None:
        self.spending = _spending.get()
        if self.spending is not None:
            self.started = time.perf_counter()

    def __exit__(self, *exc_info) -> None:
        if self.spending is not None and not self.spending.in_cache_call:
            self.spending.cache += time.perf_counter() - self.started


# --- Counters fed from the code paths ------------------------------------------------------


def sign_in_failed(*, reason: str) -> None:
    """A refused sign-in: "unknown_account", "wrong_password", "locked", "blocked" or
    "password_change_required"."""
    if enabled():
        SIGN_IN_FAILURES.labels(reason).inc()


DELIVERY_OUTCOMES = {"sent": "sent", "failed": "failed", "queued": "retried"}


def delivery_finished(*, channel: str, status: str) -> None:
    """An outbox delivery attempt ended with the message's new status (sent, failed, or
    queued again for a retry)."""
    if enabled():
        DELIVERIES.labels(channel, DELIVERY_OUTCOMES.get(status, status)).inc()


LOCKED_BY_POLICY = "FailedLoginAttemptsExceeded"


def _lockout_recorded(event) -> None:
    # `account.locked`, on commit: the lock type says whether the policy or a person set it.
    if not enabled():
        return
    locked_type = (event.diff.get("LoginLockedType") or [None, None])[-1]
    LOCKOUTS.labels("failed_sign_ins" if locked_type == LOCKED_BY_POLICY else "manual").inc()


# --- Celery ------------------------------------------------------------------------------

_task_started: dict[str, float] = {}
# A message header: when the task was handed to the broker (wall clock, comparable between
# the publishing host and the worker's as far as their clocks agree).
PUBLISHED_AT_HEADER = "portal_published_at"


def _task_published(headers=None, **kwargs) -> None:
    # Always stamped: the publishing process may have no metrics of its own to serve.
    if headers is not None:
        headers[PUBLISHED_AT_HEADER] = time.time()


def _task_prerun(task_id=None, task=None, **kwargs) -> None:
    if not task_id or not enabled():
        return
    _task_started[task_id] = time.perf_counter()
    published = getattr(task.request, PUBLISHED_AT_HEADER, None) if task is not None else None
    if isinstance(published, int | float):
        eta = task.request.eta
        if isinstance(eta, str):
            eta = datetime.fromisoformat(eta)
        ready_at = max(published, eta.timestamp()) if eta is not None else published
        TASK_QUEUE_WAIT.labels(task.name).observe(max(0.0, time.time() - ready_at))


def _task_postrun(task_id=None, task=None, state=None, **kwargs) -> None:
    started = _task_started.pop(task_id, None)
    if started is not None and task is not None:
        TASK_DURATION.labels(task.name, state or "UNKNOWN").observe(time.perf_counter() - started)


def _worker_init(sender=None, **kwargs) -> None:
    """In the worker's main process, before its pool starts: serve the pool's metrics."""
    if not enabled():
        return
    if not multiprocess_dir():
        logger.warning(
            "METRICS_PORT is set but %s is not: only the main process's figures are served",
            MULTIPROC_DIR_VARIABLE,
        )
    else:
        clear_multiprocess_dir()
    serve(port=settings.METRICS_PORT, address=settings.METRICS_BIND_ADDRESS)


def _worker_process_shutdown(pid=None, **kwargs) -> None:
    # A pool process ends: its live gauges stop counting (its counters keep their totals).
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid or os.getpid())


def connect_celery_signals() -> None:
    """From portal/celery.py, so the worker's own start-up signals are caught."""
    from celery import signals

    signals.before_task_publish.connect(_task_published, weak=False)
    signals.task_prerun.connect(_task_prerun, weak=False)
    signals.task_postrun.connect(_task_postrun, weak=False)
    signals.worker_init.connect(_worker_init, weak=False)
    signals.worker_process_shutdown.connect(_worker_process_shutdown, weak=False)


# --- Serving -----------------------------------------------------------------------------

_scrape_collectors: list[Collector] = []


def register_scrape_collector(collector: Collector) -> None:
    """A collector whose figures are read when a scrape comes (the outbox backlog), served
    by the Celery worker's endpoint. Apps register them from `AppConfig.ready()`."""
    if not any(type(c) is type(collector) for c in _scrape_collectors):
        _scrape_collectors.append(collector)


class _ThisProcess(Collector):
    """This process's own figures (without multiprocess mode)."""

    def collect(self) -> Iterable[Any]:
        yield from REGISTRY.collect()


def scrape_registry() -> CollectorRegistry:
    """What the serving process answers: every process's figures, plus the scrape-time
    collectors."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    for collector in _scrape_collectors:
        registry.register(collector)
    return registry


def serve(*, port: int, address: str):
    """Serve the metrics over HTTP on a thread; the server, for `shutdown()`."""
    server, _thread = start_http_server(port, addr=address, registry=scrape_registry())
    logger.info("metrics served on %s:%s", address, port)
    return server


def clear_multiprocess_dir() -> None:
    """Remove the figures of an earlier run from the multiprocess directory (at start-up,
    before the pool starts), all but this process's own."""
    directory = Path(multiprocess_dir())
    directory.mkdir(parents=True, exist_ok=True)
    own = f"_{os.getpid()}.db"
    for stale in directory.glob("*.db"):
        if not stale.name.endswith(own):
            stale.unlink(missing_ok=True)


def connect() -> None:
    """From PortalConfig.ready(): the domain events counted."""
    from portal import events

    events.subscribe("account.locked", _lockout_recorded, phase=events.ON_COMMIT)

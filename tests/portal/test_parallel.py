"""Parallel test workers each get their own Redis database (tests/parallel.py)."""

import pytest
from django.conf import settings

from tests.parallel import CONFIGURED, worker_number, worker_redis_url


@pytest.mark.parametrize(
    ("url", "worker", "expected"),
    [
        ("redis://127.0.0.1:6379/5", 0, "redis://127.0.0.1:6379/5"),
        ("redis://127.0.0.1:6379/5", 1, "redis://127.0.0.1:6379/6"),
        ("redis://127.0.0.1:6379/15", 1, "redis://127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379", 2, "redis://127.0.0.1:6379/2"),
        ("rediss://:pw@cache.internal:6380/3", 1, "rediss://:pw@cache.internal:6380/4"),
    ],
)
def test_worker_n_takes_the_configured_database_plus_n(url, worker, expected):
    assert worker_redis_url(url, worker=worker) == expected


def test_more_workers_than_redis_databases_is_refused():
    with pytest.raises(RuntimeError, match="gw16"):
        worker_redis_url("redis://127.0.0.1:6379/0", worker=16)


@pytest.mark.celery_worker
def test_this_worker_uses_its_own_redis_database():
    """The settings were read after the rewrite: the cache, the broker and the worker
    processes the tests start all use this worker's database."""
    expected = worker_redis_url(CONFIGURED["REDIS_URL"], worker=worker_number())
    assert expected == settings.REDIS_URL
    assert settings.CACHES["default"]["LOCATION"] == expected
    if not CONFIGURED["CELERY_BROKER_URL"]:
        assert expected == settings.CELERY_BROKER_URL

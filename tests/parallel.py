"""Each pytest-xdist worker gets its own Redis database.

Every test clears the cache and the broker tests flush their database, so two workers on
one Redis database would empty each other's cache and take each other's Celery tasks.
PostgreSQL needs nothing here: pytest-django gives each worker its own test database.

Loaded with `-p tests.parallel` (pyproject's addopts), before pytest-django reads the
settings, so REDIS_URL and CELERY_BROKER_URL are rewritten while they are still only
environment variables. Worker gwN takes the configured database number plus N (modulo
16, Redis's default number of databases).
"""

import os
from urllib.parse import urlsplit, urlunsplit

# Redis's default number of databases.
REDIS_DATABASES = 16


def worker_redis_url(url: str, *, worker: int) -> str:
    if worker >= REDIS_DATABASES:
        raise RuntimeError(f"xdist worker gw{worker}: Redis has only {REDIS_DATABASES} databases")
    parts = urlsplit(url)
    configured = int(parts.path.strip("/") or 0)
    database = (configured + worker) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{database}"))


# What the environment said before this module rewrote it.
CONFIGURED = {name: os.environ.get(name, "") for name in ("REDIS_URL", "CELERY_BROKER_URL")}


def worker_number() -> int:
    """This process's xdist worker number; 0 outside xdist."""
    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker_id[2:]) if worker_id.startswith("gw") else 0


def _apply() -> None:
    if not worker_number():
        return
    for name, url in CONFIGURED.items():
        if url.startswith(("redis://", "rediss://")):
            os.environ[name] = worker_redis_url(url, worker=worker_number())


_apply()

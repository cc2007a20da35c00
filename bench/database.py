"""The benchmark database: created when missing, then migrated.

A fresh machine has PostgreSQL but not the benchmark's own database, so every benchmark
script starts here instead of failing on the first connection.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent


def ensure_database(*, database_url: str) -> None:
    """Create the PostgreSQL database named by database_url if the server lacks it."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not parts.scheme.startswith("postgres") or not name:
        return
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def migrate(*, settings_module: str | None = None) -> None:
    """Create the database if needed and apply every migration, quietly."""
    ensure_database(database_url=os.environ.get("DATABASE_URL", ""))
    env = {**os.environ, "ALLOW_UNDELIVERED_MESSAGES": "1"}
    if settings_module:
        env["DJANGO_SETTINGS_MODULE"] = settings_module
    # The benchmarks deliver no mail or SMS; migrate's system checks would refuse that
    # without ALLOW_UNDELIVERED_MESSAGES.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        check=True,
        cwd=BASE_DIR,
        env=env,
    )

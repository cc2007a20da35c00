"""The project's settings plus the benchmark's floor views (bench.urls). Used only by the
benchmark's gunicorn; portal/urls.py does not know these routes."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

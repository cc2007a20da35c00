"""The project's settings plus the old floor's views (bench.urls, bench.floor). Used only
by the benchmark's gunicorn for the project; portal/urls.py does not know these routes.
The bare floor has its own settings (bench.bare_settings)."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

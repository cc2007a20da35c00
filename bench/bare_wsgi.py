"""WSGI application of the bare floor: `gunicorn bench.bare_wsgi` (bench.run starts it)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bare_settings")

application = get_wsgi_application()

"""Settings of the bare floor (bench.bare): no installed apps, no middleware, no templates,
sessions or cache; only the project's database connection (same server, same connection
options) and the floor's URLs. Used only by the benchmark's second gunicorn."""

from portal import settings as project

SECRET_KEY = project.SECRET_KEY
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.bare"
DATABASES = project.DATABASES

# The portal's one image: web (gunicorn), Celery worker and beat run from it with
# different commands (see compose.yaml). Configuration is environment only.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so code changes reuse this layer.
# Pinned and hashed (`make lock` compiles it from pyproject.toml's ranges).
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# The application only (no .venv, var/, tests or local databases from a checkout).
COPY manage.py gunicorn.conf.py ./
COPY portal ./portal
COPY accounts ./accounts
COPY security ./security
COPY roles ./roles
COPY tokens ./tokens
COPY customobjects ./customobjects
COPY templates ./templates
COPY static ./static
RUN useradd --system --uid 10001 --home /app portal \
    && mkdir -p /app/var \
    && DJANGO_SETTINGS_MODULE=portal.settings SECRET_KEY=build-only \
       FIELD_ENCRYPTION_KEY=YnVpbGQtb25seS1ub3QtYS1rZXktLS0tLS0tLS0tLS0= \
       python manage.py collectstatic --noinput -v0 \
    && chown -R portal /app/var
USER portal

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"

# Web by default; WEB_CONCURRENCY sets the number of gunicorn workers (about 2 per core).
# gunicorn reads ./gunicorn.conf.py (with METRICS_PORT set, its master serves the metrics).
# No gunicorn access log: it would print query strings (API secrets, refresh and verification
# tokens) verbatim; the application logs each request as JSON with query values redacted.
CMD ["sh", "-c", "exec gunicorn portal.wsgi -b 0.0.0.0:8000 -w ${WEB_CONCURRENCY:-4} --keep-alive 30 --forwarded-allow-ips '*'"]

# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-services worker beat lint fmt migrate demo-tenant clean browser wrk bench bench-events bench-console soak lock check

# Every install comes from the hashed lock files; pyproject.toml keeps the ranges they are
# compiled from (`make lock`). The project itself runs from the checkout and is not installed.
$(STAMP): requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(STAMP)

LOCK_VENV := $(VENV)-lock
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
# Recompile the lock files after changing the dependency ranges in pyproject.toml.
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet pip-tools)
	$(LOCK_VENV)/bin/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	$(LOCK_VENV)/bin/pip-compile $(LOCK_FLAGS) --extra dev -o requirements-dev.lock pyproject.toml

# Django's deployment checks run under the environment of a production web process behind a
# TLS load balancer (docs/deploy.md, "HTTPS"), with keys made for the run, mail through an
# SMTP relay and SMS through the HTTP provider (no ALLOW_UNDELIVERED_MESSAGES); any warning fails.
DEPLOY_CHECK_ENV := DEBUG=0 \
	SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	FIELD_ENCRYPTION_KEY="$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
	DATABASE_URL=postgres://portal@postgres.internal:5432/portal \
	REDIS_URL=redis://redis.internal:6379/0 \
	ALLOWED_HOSTS=portal.example.com CSRF_TRUSTED_ORIGINS=https://portal.example.com \
	PUBLIC_BASE_URL=https://portal.example.com TRUSTED_PROXIES=10.0.0.10 \
	TRUST_X_FORWARDED_PROTO=1 SECURE_SSL_REDIRECT=1 SECURE_HSTS_SECONDS=31536000 \
	SECURE_HSTS_INCLUDE_SUBDOMAINS=1 SECURE_HSTS_PRELOAD=1 \
	EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend EMAIL_HOST=smtp.internal \
	EMAIL_PORT=587 EMAIL_USE_TLS=1 DEFAULT_FROM_EMAIL=no-reply@portal.example.com \
	SMS_BACKEND=tokens.sms.HttpSmsBackend SMS_HTTP_BASE_URL=https://api.twilio.com \
	SMS_HTTP_ACCOUNT_SID=AC00000000000000000000000000000000 SMS_HTTP_AUTH_TOKEN=deploy-check \
	SMS_FROM_NUMBER=+15005550006

# The gates CI runs besides the tests.
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(DEPLOY_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

# Debian's Chromium for the console's browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed; browser tests will fail"; }

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

demo-tenant: migrate
	$(PY) manage.py demo_tenant

run: demo-tenant
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

# The suite runs in TEST_WORKERS pytest-xdist processes, each with its own test database
# and Redis database (tests/parallel.py); TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 2
test: $(STAMP) browser
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Outside the embedded default FIELD_ENCRYPTION_KEY is required; unset, the services pass
# makes a key for its run.
NEW_FERNET_KEY := from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())
# The suite against PostgreSQL + Redis with real Celery workers (what CI's second pass runs).
test-services: $(STAMP) browser
	PORTAL_SERVICES_PASS=1 \
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	FIELD_ENCRYPTION_KEY=$${FIELD_ENCRYPTION_KEY:-$$($(PY) -c "$(NEW_FERNET_KEY)")} \
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

worker: $(STAMP)
	$(VENV)/bin/celery -A portal worker --loglevel=INFO --concurrency=2

beat: $(STAMP)
	$(VENV)/bin/celery -A portal beat --loglevel=INFO

# wrk (Debian's package) drives the benchmark and the soak run.
wrk:
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)

BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/9
BENCH_ARGS ?=
# A fixed key per host, like the benchmark's SECRET_KEY: a seeded database outlives one run.
BENCH_FERNET_KEY := import base64, hashlib, socket; print(base64.urlsafe_b64encode(hashlib.sha256(b'bench-' + socket.gethostname().encode()).digest()).decode())
# The benchmark: seeds BENCH_DATABASE_URL, serves with gunicorn, writes BENCHMARKS.md.
bench: $(STAMP) wrk
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) \
	SECRET_KEY=$${SECRET_KEY:-bench-$$(hostname)-not-for-production-key} \
	FIELD_ENCRYPTION_KEY=$${FIELD_ENCRYPTION_KEY:-$$($(PY) -c "$(BENCH_FERNET_KEY)")} \
	$(PY) -m bench.run $(BENCH_ARGS)

JOBS_BENCH_ARGS ?= --accounts 100000
# Events, webhooks and bulk jobs (BENCHMARKS.md): the event feed's page cost over 1,000,000
# events, event -> webhook receipt at 200 events/s for 60 s, block + revert job throughput.
bench-events: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) LOG_LEVEL=WARNING \
	SECRET_KEY=$${SECRET_KEY:-bench-$$(hostname)-not-for-production-key} \
	FIELD_ENCRYPTION_KEY=$${FIELD_ENCRYPTION_KEY:-$$($(PY) -c "$(BENCH_FERNET_KEY)")} \
	sh -c '$(PY) -m bench.events_paging && $(PY) -m bench.webhooks_latency && $(PY) -m bench.jobs_bulk $(JOBS_BENCH_ARGS)'

CONSOLE_BENCH_ARGS ?= --accounts 1000000 --duration 30 --output var/bench/console_pages.md
# The console search page and account page: p95 with 8 signed-in agents at once (BENCHMARKS.md).
bench-console: $(STAMP) wrk
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) LOG_LEVEL=WARNING \
	SECRET_KEY=$${SECRET_KEY:-bench-$$(hostname)-not-for-production-key} \
	FIELD_ENCRYPTION_KEY=$${FIELD_ENCRYPTION_KEY:-$$($(PY) -c "$(BENCH_FERNET_KEY)")} \
	$(PY) -m bench.console_pages $(CONSOLE_BENCH_ARGS)

SOAK_ARGS ?= --duration 600
# A bounded mixed-traffic soak on loopback (10 minutes by default); not part of CI.
soak: $(STAMP) wrk
	$(PY) loadtest/soak.py $(SOAK_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) $(LOCK_VENV) var

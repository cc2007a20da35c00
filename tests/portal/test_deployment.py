"""`manage.py check --deploy` (a gate of `make check`) under a production-like environment,
and what its one silenced warning stands for."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings as django_settings
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.module_loading import import_string

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "kV3p9-Q2mZx7rT1bN8wL4yH6cJ0aF5dS9gE2uI7oP3qR1tY8xW4vB6nM0kL2jH5g",
    "FIELD_ENCRYPTION_KEY": "Wq2vYF8b0g9O1mUu7m0m3a6sYJrN3cX4oQp2b8dZ1kE=",
    "DATABASE_URL": "postgres://portal@postgres.internal:5432/portal",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "ALLOWED_HOSTS": "portal.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
    "PUBLIC_BASE_URL": "https://portal.example.com",
    "TRUSTED_PROXIES": "10.0.0.10",
    "TRUST_X_FORWARDED_PROTO": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    # Real delivery: mail through an SMTP relay, SMS through the HTTP provider.
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "smtp.internal",
    "EMAIL_PORT": "587",
    "EMAIL_USE_TLS": "1",
    "SMS_BACKEND": "tokens.sms.HttpSmsBackend",
    "SMS_HTTP_BASE_URL": "https://api.twilio.com",
    "SMS_HTTP_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "SMS_HTTP_AUTH_TOKEN": "deploy-check",
    "SMS_FROM_NUMBER": "+15005550006",
}


def deploy_check(**overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **PRODUCTION, **overrides}
    env.pop("PYTEST_CURRENT_TEST", None)
    # Set in this process by the browser tests' fixtures; a deployment never has it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_under_the_production_environment():
    result = deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (1 silenced)" in result.stdout + result.stderr


def test_deploy_check_fails_without_https_settings():
    result = deploy_check(SECURE_HSTS_SECONDS="0", SECURE_SSL_REDIRECT="0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_the_silenced_csrf_warning_stands_for_a_csrf_middleware_in_place():
    assert django_settings.SILENCED_SYSTEM_CHECKS == ["security.W003"]
    csrf = [
        path
        for path in django_settings.MIDDLEWARE
        if issubclass(import_string(path), CsrfViewMiddleware)
    ]
    assert len(csrf) == 1, django_settings.MIDDLEWARE


def test_https_redirect_spares_the_health_probes(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    response = client.get("/console/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://testserver/console/")


# --- Every environment variable the code reads is documented ----------------------------

ENV_READ = re.compile(
    r"""(?:\benv(?:\.\w+)?\(\s*|os\.environ(?:\.get|\.setdefault|\.pop)?[(\[]\s*|getenv\(\s*)"""
    r"""["']([A-Z][A-Z0-9_]+)["']"""
)
SOURCE_DIRS = (
    "portal",
    "accounts",
    "security",
    "tokens",
    "roles",
    "customobjects",
    "bench",
    "loadtest",
)


def environment_variables_read() -> set[str]:
    base = Path(django_settings.BASE_DIR)
    files = [base / "manage.py", base / "gunicorn.conf.py"]
    files += [path for folder in SOURCE_DIRS for path in (base / folder).rglob("*.py")]
    return {name for path in files for name in ENV_READ.findall(path.read_text())}


def readme_table_variables() -> set[str]:
    text = (Path(django_settings.BASE_DIR) / "README.md").read_text()
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}


def test_every_environment_variable_read_is_in_the_readme_table():
    read = environment_variables_read()
    assert {"DATABASE_URL", "METRICS_PORT", "RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS"} <= read
    assert read - readme_table_variables() == set()


# --- compose.yaml ------------------------------------------------------------------------


def test_compose_runs_the_whole_stack_with_a_real_smtp_relay():
    compose = yaml.safe_load((Path(django_settings.BASE_DIR) / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "mailpit"} <= set(services)
    assert services["worker"]["command"][:4] == ["celery", "-A", "portal", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "portal", "beat"]
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")
    for name in ("migrate", "web", "worker", "beat"):
        environment = services[name]["environment"]
        # Mail over SMTP to Mailpit, SMS to the HTTP provider; undelivered messages not allowed.
        assert environment["EMAIL_BACKEND"] == (
            "${EMAIL_BACKEND:-django.core.mail.backends.smtp.EmailBackend}"
        )
        assert environment["SMS_BACKEND"] == "${SMS_BACKEND:-tokens.sms.HttpSmsBackend}"
        assert environment["SMS_HTTP_BASE_URL"] == "${SMS_HTTP_BASE_URL:-https://api.twilio.com}"
        assert environment["ALLOW_UNDELIVERED_MESSAGES"] == "${ALLOW_UNDELIVERED_MESSAGES:-0}"
        assert "DEBUG" not in environment
        assert environment["EMAIL_HOST"] == "${EMAIL_HOST:-mailpit}"
        assert environment["EMAIL_PORT"] == "${EMAIL_PORT:-1025}"
        # Every variable compose sets is documented.
        assert set(environment) <= readme_table_variables()
    # The metrics port is reachable on the compose network only; the app's port is published.
    assert services["web"]["ports"] == ["8000:8000"]
    assert "ports" not in services["worker"]
    assert services["mailpit"]["ports"] == ["127.0.0.1:8025:8025"]


COMPOSE_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}")


def compose_environment(service: str, given: dict[str, str]) -> dict[str, str]:
    """The environment compose gives `service` when the shell exports `given`."""
    compose = yaml.safe_load((Path(django_settings.BASE_DIR) / "compose.yaml").read_text())

    def resolve(match: re.Match) -> str:
        name, kind, default = match.groups()
        if given.get(name):
            return given[name]
        assert kind != "?", f"compose needs {name}"
        return default or ""

    environment = compose["services"][service]["environment"]
    return {key: COMPOSE_VARIABLE.sub(resolve, str(value)) for key, value in environment.items()}


def compose_migrate_checks(given: dict[str, str]) -> subprocess.CompletedProcess:
    """The message-delivery system checks the compose `migrate` service runs before anything
    else starts (web, worker and beat wait for it to succeed)."""
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION}
    env.pop("PYTEST_CURRENT_TEST", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.pop("DEBUG", None)
    env.update(compose_environment("migrate", given))
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--tag", "messages"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_starts_with_an_sms_account_and_refuses_without_one():
    keys = {
        "SECRET_KEY": PRODUCTION["SECRET_KEY"],
        "FIELD_ENCRYPTION_KEY": PRODUCTION["FIELD_ENCRYPTION_KEY"],
    }
    refused = compose_migrate_checks(keys)
    assert refused.returncode != 0
    assert "tokens.E003" in refused.stderr
    assert "SMS_HTTP_ACCOUNT_SID, SMS_HTTP_AUTH_TOKEN, SMS_FROM_NUMBER are not set" in (
        refused.stderr
    )
    started = compose_migrate_checks(
        {
            **keys,
            "SMS_HTTP_ACCOUNT_SID": "AC" + "2" * 32,
            "SMS_HTTP_AUTH_TOKEN": "token",
            "SMS_FROM_NUMBER": "+15551234567",
        }
    )
    assert started.returncode == 0, started.stdout + started.stderr
    # A trial stack without an SMS account, as compose.yaml describes it.
    trial = compose_migrate_checks(
        {**keys, "SMS_BACKEND": "tokens.sms.FileSmsBackend", "ALLOW_UNDELIVERED_MESSAGES": "1"}
    )
    assert trial.returncode == 0, trial.stdout + trial.stderr

"""Settings for the account operations portal.

Configured only through environment variables. With none set the project runs
"embedded": SQLite under var/, an in-process cache, Celery tasks executed inline,
mail and SMS written to files under var/.
"""

import base64
import hashlib
import os
import secrets
import warnings
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)


def _installation_key(name: str, make) -> str:
    """A key this installation makes once under var/ and reads ever after. Written to a
    temporary file and linked into place, so a process starting at the same moment reads
    either nothing (and links its own, losing the race) or the whole key."""
    path = VAR_DIR / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    draft = VAR_DIR / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


# Without SECRET_KEY, each installation makes its own random key once, under var/.
# Several hosts sharing one database must set SECRET_KEY instead.
SECRET_KEY = env.str("SECRET_KEY", default="") or _installation_key(
    "secret_key", lambda: secrets.token_urlsafe(50)
)

# Fernet keys for secrets that must be recoverable (API secrets, TOTP seeds, push device
# addresses, outbox contexts): comma-separated, newest first. The first encrypts, every one
# decrypts; `manage.py encryption_keys_rotate` re-encrypts stored values with the first.
# Never derived from SECRET_KEY: rotating the signing key must not lose stored secrets.
# Required unless DEBUG is on or the database is the embedded default (no DATABASE_URL),
# where the installation makes one once under var/ as it does SECRET_KEY.
EMBEDDED_DATABASE = not env.str("DATABASE_URL", default="")


def _installation_field_encryption_key() -> str:
    # An embedded installation from before this key existed encrypted its rows with a key
    # derived from SECRET_KEY; keep using that key (now stored, no longer derived) for them.
    if EMBEDDED_DATABASE and (VAR_DIR / "portal.sqlite3").exists():
        return base64.urlsafe_b64encode(
            hashlib.sha256(("field-encryption:" + SECRET_KEY).encode()).digest()
        ).decode()
    return Fernet.generate_key().decode()


FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="").strip()
if not FIELD_ENCRYPTION_KEY:
    if not (DEBUG or EMBEDDED_DATABASE):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY is not set. It encrypts API secrets and factor seeds in the "
            "database and must be the same on every process; make one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    FIELD_ENCRYPTION_KEY = _installation_key(
        "field_encryption_key", _installation_field_encryption_key
    )
for _position, _key in enumerate(FIELD_ENCRYPTION_KEY.split(","), start=1):
    try:
        Fernet(_key.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEY: key {_position} is not a Fernet key (URL-safe base64 of "
            "32 bytes); several keys are separated by commas, newest first"
        ) from None

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "guardian",
    "django_htmx",
    "django_tables2",
    "portal",
    "accounts",
    "tokens",
    "security",
    "roles",
    "customobjects",
    "jobs",
    "webhooks",
    "approvals",
]

MIDDLEWARE = [
    "portal.metrics.RequestMetricsMiddleware",  # off (not loaded) without METRICS_PORT
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ (collectstatic output) with DEBUG off. The console's middlewares
    # (portal.console_middleware) are the stock ones, passed straight by on API paths.
    "portal.console_middleware.WhiteNoiseMiddleware",
    "portal.headers.SecurityHeadersMiddleware",
    "portal.middleware.RequestContextMiddleware",
    # One JSON access line per request, query values redacted (gunicorn logs no access lines).
    "portal.access_log.AccessLogMiddleware",
    # Bodies over REQUEST_BODY_MAX_BYTES: 413 before anything reads them.
    "portal.middleware.RequestBodyLimitMiddleware",
    "portal.console_middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "portal.console_middleware.CsrfViewMiddleware",
    "portal.console_middleware.AuthenticationMiddleware",
    "portal.console_middleware.OTPMiddleware",
    "portal.console_middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.console_middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Take the write lock when a transaction begins, so concurrent writers wait for it
    # instead of failing with "database is locked" when a read lock cannot be upgraded.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
if IS_POSTGRES:
    # Parameters are bound on the server, and psycopg prepares a statement once it has run
    # DB_PREPARE_THRESHOLD times on a connection ("off": never), so PostgreSQL plans the hot
    # look-ups and writes once per connection instead of on every request. A prepared
    # statement may get PostgreSQL's generic plan, which for the email-prefix search's
    # `LIKE $1` cannot use the prefix index (a backwards primary-key scan of every account:
    # 12.9 s instead of 0.3 ms on 1,000,000 accounts): the native search asks for a plan
    # per value (accounts.selectors.custom_plans).
    _prepare_threshold = env.str("DB_PREPARE_THRESHOLD", default="2").strip().lower()
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": True,
            "prepare_threshold": None if _prepare_threshold == "off" else int(_prepare_threshold),
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.PortalRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "portal.cache.PortalLocMemCache"}}

# Celery: a real broker when REDIS_URL is set, otherwise tasks run inline.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# Longest retry delay any task may schedule; the broker visibility timeout stays above it.
CELERY_MAX_RETRY_DELAY = env.int("CELERY_MAX_RETRY_DELAY", default=600)
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
# Periodic jobs (make beat); each section adds its own entries.
CELERY_BEAT_SCHEDULE: dict = {}
# Outbox delivery: a claimed ("sending") message whose worker vanished may be retried after
# this lease; it stays below the visibility timeout so a redelivered task can reclaim it.
OUTBOX_CLAIM_LEASE_SECONDS = env.int("OUTBOX_CLAIM_LEASE_SECONDS", default=120)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
# Queued messages older than this are re-enqueued by the relay (broker down at commit).
OUTBOX_RELAY_AFTER_SECONDS = env.int("OUTBOX_RELAY_AFTER_SECONDS", default=30)
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=10.0)
CELERY_BEAT_SCHEDULE["outbox-relay"] = {
    "task": "tokens.outbox_relay",
    "schedule": env.float("OUTBOX_RELAY_INTERVAL_SECONDS", default=30.0),
}
CELERY_BEAT_SCHEDULE["sessions-purge"] = {
    # Expired access/refresh tokens; also erases sealed refresh successors past their grace.
    "task": "tokens.sessions_purge",
    "schedule": env.float("SESSIONS_PURGE_INTERVAL_SECONDS", default=60.0),
}
CELERY_BEAT_SCHEDULE["multipurpose-tokens-purge"] = {
    "task": "tokens.multipurpose_tokens_purge",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["idempotency-records-purge"] = {
    "task": "portal.idempotency_records_purge",
    "schedule": 3600.0,
}
# Per-tenant retention of events, sign-in events, webhook deliveries and job reports
# (portal/retention.py): one purge task per tenant and kind, in bounded batches.
CELERY_BEAT_SCHEDULE["retention-purge"] = {"task": "portal.retention_purge", "schedule": 3600.0}
# Webhooks: the relay fans new events out and sends due deliveries (a commit kicks it too).
CELERY_BEAT_SCHEDULE["webhooks-relay"] = {"task": "webhooks.relay", "schedule": 5.0}
CELERY_BEAT_SCHEDULE["approvals-expire"] = {"task": "approvals.expire", "schedule": 300.0}
# Guided recovery: changes whose cooling-off ended run (security.tasks).
CELERY_BEAT_SCHEDULE["recovery-cases-run"] = {
    "task": "security.recovery_cases_run",
    "schedule": 60.0,
}
# The whole exchange of one delivery (connect, send, answer) may take this long.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# A relay claims a batch of deliveries for one call's timeout plus this long; a relay that
# dies mid-batch leaves its unsent deliveries to the others once the claim lapses.
WEBHOOK_CLAIM_MARGIN_SECONDS = env.float("WEBHOOK_CLAIM_MARGIN_SECONDS", default=60.0)
# Webhook receivers on loopback, private, unique-local and CGNAT addresses (and plain
# http:// addresses) are refused unless this is on; link-local addresses always are.
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=False)

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=8)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Argon2id parameters of the production hasher (accounts.hashers.ConfiguredArgon2PasswordHasher),
# OWASP's recommendation by default; a stored hash with other parameters is re-hashed at its
# account's next successful sign-in.
PASSWORD_ARGON2_MEMORY_KIB = env.int("PASSWORD_ARGON2_MEMORY_KIB", default=19 * 1024)
PASSWORD_ARGON2_TIME_COST = env.int("PASSWORD_ARGON2_TIME_COST", default=2)
PASSWORD_ARGON2_PARALLELISM = env.int("PASSWORD_ARGON2_PARALLELISM", default=1)
if not (
    PASSWORD_ARGON2_TIME_COST >= 1
    and PASSWORD_ARGON2_PARALLELISM >= 1
    and PASSWORD_ARGON2_MEMORY_KIB >= 8 * PASSWORD_ARGON2_PARALLELISM
):
    raise ImproperlyConfigured(
        "PASSWORD_ARGON2_TIME_COST and PASSWORD_ARGON2_PARALLELISM must be at least 1, and "
        "PASSWORD_ARGON2_MEMORY_KIB at least 8 KiB per lane (PASSWORD_ARGON2_PARALLELISM)"
    )
PASSWORD_HASHERS = [
    # Replaces Django's Argon2PasswordHasher: both answer to the algorithm name "argon2".
    "accounts.hashers.ConfiguredArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "accounts.hashers.LoginRadiusPBKDF2PasswordHasher",
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# WhiteNoise serves /static/ with DEBUG off: from STATIC_ROOT after `collectstatic`, and
# through the static finders when collectstatic has not run.
WHITENOISE_USE_FINDERS = True
# Importing settings creates no directory, so STATIC_ROOT is missing until collectstatic;
# WhiteNoise warns about that from the caller's frame, hence no module in the filter.
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)

LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:dashboard"
# Console sessions end after this long without a request (sliding), and at SESSION_COOKIE_AGE.
CONSOLE_IDLE_TIMEOUT_SECONDS = env.int("CONSOLE_IDLE_TIMEOUT_SECONDS", default=30 * 60)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Account portal")
CSRF_FAILURE_VIEW = "portal.console.signin.csrf_failure"

# Production-safe defaults; DEBUG relaxes the cookie flags for http://127.0.0.1.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Console sessions are read from the cache and written through to the database, when the
# cache is Redis: one shared store, so a sign-out in one process ends the session in all.
# The embedded default's in-process cache is not shared between processes: database only.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("TRUST_X_FORWARDED_PROTO", default=False)
    else None
)
# Plain-HTTP requests are redirected to HTTPS, except the health probes a load balancer sends
# to each web process directly (docs/deploy.md, "HTTPS").
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# security.W003 looks for Django's CsrfViewMiddleware by its own path; MIDDLEWARE has it as
# portal.console_middleware.CsrfViewMiddleware (a subclass that passes API paths, which carry
# no cookies, straight by), checked by tests/portal/test_deployment.py.
SILENCED_SYSTEM_CHECKS = ["security.W003"]
# Client IPs come from X-Forwarded-For only when the direct peer is one of these proxies.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# API rate limits (portal.ratelimit; the limits themselves are tenant settings). Failed
# authentication is limited per client IP across tenants.
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
RATE_LIMIT_AUTH_FAILURES_PER_IP = env.int("RATE_LIMIT_AUTH_FAILURES_PER_IP", default=300)
RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS = env.int(
    "RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS", default=60
)
# The largest request body accepted (portal.middleware: 413 with a LoginRadius body, on
# Content-Length before reading; chunked bodies are read at most this far). Custom-object
# views keep their own cap (customobjects.models.HARD_MAX_BYTES, 1 MiB; LoginRadius 1002).
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(
    REQUEST_BODY_MAX_BYTES, 2_621_440
)  # Django's own check stays above ours

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@portal.local")

SMS_BACKEND = env.str("SMS_BACKEND", default="tokens.sms.FileSmsBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))
SMS_HTTP_BASE_URL = env.str("SMS_HTTP_BASE_URL", default="")
SMS_HTTP_ACCOUNT_SID = env.str("SMS_HTTP_ACCOUNT_SID", default="")
SMS_HTTP_AUTH_TOKEN = env.str("SMS_HTTP_AUTH_TOKEN", default="")
SMS_FROM_NUMBER = env.str("SMS_FROM_NUMBER", default="+15005550006")
# With DEBUG off, a mail or SMS backend that only writes files or prints (nothing reaches a
# person) refuses to start (tokens/checks.py) unless this is on.
ALLOW_UNDELIVERED_MESSAGES = env.bool("ALLOW_UNDELIVERED_MESSAGES", default=False)

# Calls to tenant-configured addresses (portal.outbound) refuse loopback, private and CGNAT
# addresses unless this is on (link-local, multicast, reserved: always refused).
OUTBOUND_ALLOW_PRIVATE_NETWORKS = env.bool("OUTBOUND_ALLOW_PRIVATE_NETWORKS", default=False)
# Test suite only, never read from the environment: {"host:port": CA bundle path or None}
# of a local fake third party that portal.outbound may reach past its host and address checks.
OUTBOUND_TEST_HOSTS: dict[str, str | None] = {}
# Where push notifications through Firebase Cloud Messaging go (security.push.fcm): Google's
# hosts unless an operator points them at a relay or a test double. A tenant's uploaded
# service-account file never chooses them (its `token_uri` is ignored).
PUSH_FCM_API_BASE_URL = env.str("PUSH_FCM_API_BASE_URL", default="https://fcm.googleapis.com")
PUSH_FCM_TOKEN_URL = env.str("PUSH_FCM_TOKEN_URL", default="https://oauth2.googleapis.com/token")
# Seconds one push notification call (FCM, its token endpoint, a tenant's relay) may take.
PUSH_DELIVERY_TIMEOUT = env.float("PUSH_DELIVERY_TIMEOUT", default=5.0)
# An event diff that leaves its type's declared payload shape (portal/events.py): refused
# when on (the test suite turns it on), logged as an error otherwise.
EVENT_PAYLOADS_STRICT = env.bool("EVENT_PAYLOADS_STRICT", default=False)

# Public base URL of this deployment (used for links in mail and for WebAuthn origins).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["portal.lrapi.parsers.LenientJSONParser"],
    "EXCEPTION_HANDLER": "portal.lrapi.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Account operations portal API",
    "DESCRIPTION": (
        "LoginRadius-compatible Account API (/identity/v2/..., /api/v2/...) and the native "
        "REST API (/api/v1/...)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "APIKey": {"type": "apiKey", "in": "query", "name": "apikey"},
            "APISecret": {"type": "apiKey", "in": "query", "name": "apisecret"},
            "XLoginRadiusAPIKey": {
                "type": "apiKey",
                "in": "header",
                "name": "X-LoginRadius-ApiKey",
            },
            "XLoginRadiusAPISecret": {
                "type": "apiKey",
                "in": "header",
                "name": "X-LoginRadius-ApiSecret",
            },
            "ClientId": {"type": "apiKey", "in": "query", "name": "client_id"},
            "ClientSecret": {"type": "apiKey", "in": "query", "name": "client_secret"},
            "LegacyKey": {
                "type": "apiKey",
                "in": "query",
                "name": "key",
                "description": "API key on /api/v2/... paths",
            },
            "LegacySecret": {
                "type": "apiKey",
                "in": "query",
                "name": "secret",
                "description": "API secret on /api/v2/... paths",
            },
            "Digest": {
                "type": "apiKey",
                "in": "header",
                "name": "digest",
                "description": "Signed request: SHA-256=base64(HMAC-SHA256(secret, expiry:url[:body]))",
            },
            "XRequestExpiresTime": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Request-Expires",
                "description": "UTC expiry of a signed request",
            },
            "M2MBearerToken": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "Issued by POST /service/oauth/token (client credentials)",
            },
        }
    },
    "SECURITY": [
        {"APIKey": [], "APISecret": []},
        {"XLoginRadiusAPIKey": [], "XLoginRadiusAPISecret": []},
        {"ClientId": [], "ClientSecret": []},
        {"APIKey": [], "Digest": [], "XRequestExpiresTime": []},
        {"LegacyKey": [], "LegacySecret": []},
        {"M2MBearerToken": []},
    ],
}

# Signed requests: how far in the future X-Request-Expires may lie, and tolerated skew.
REQUEST_SIGNING_MAX_EXPIRY_SECONDS = env.int("REQUEST_SIGNING_MAX_EXPIRY_SECONDS", default=4 * 3600)
REQUEST_SIGNING_CLOCK_SKEW_SECONDS = env.int("REQUEST_SIGNING_CLOCK_SKEW_SECONDS", default=300)
M2M_TOKEN_LIFETIME_SECONDS = env.int("M2M_TOKEN_LIFETIME_SECONDS", default=3600)
# How long a cached "valid" access token is trusted before the database is read again; it
# bounds how late a revocation made while Redis was unreachable can take effect.
ACCESS_TOKEN_CACHE_SECONDS = env.int("ACCESS_TOKEN_CACHE_SECONDS", default=300)


# Prometheus metrics (portal/metrics.py): off unless METRICS_PORT is set. Then the gunicorn
# master (gunicorn.conf.py) and each Celery worker serve them on this port, never on the
# application's, with every process's figures summed through PROMETHEUS_MULTIPROC_DIR.
METRICS_PORT = env.int("METRICS_PORT", default=0)
METRICS_BIND_ADDRESS = env.str("METRICS_BIND_ADDRESS", default="127.0.0.1")
# Error reporting and tracing (portal/observability.py), each off unless configured.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="account-portal")

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "portal.logging.RequestContextFilter"}},
    "formatters": {"json": {"()": "portal.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.server": {"level": "WARNING"}},
}
# Every API operation documents the LoginRadius errors any call may get (portal.openapi).
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "portal.openapi.add_error_responses",
]

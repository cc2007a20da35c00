"""Error reporting (Sentry) and tracing (OpenTelemetry), each off unless configured.

`configure()` runs once per process from `PortalConfig.ready()`: in every gunicorn worker
(the application is not preloaded) and in the Celery worker before its pool forks (both
libraries restart their sending thread in a forked child). With neither `SENTRY_DSN` nor
`OTEL_EXPORTER_OTLP_ENDPOINT` set, neither library is even imported.

What leaves the process is what an operator may read, never what a caller proved itself
with: no request bodies (passwords, OTPs), no cookies, no local variables of a failing frame,
query values redacted as in the access log (all but the public `apikey`), and only a short
list of harmless headers (API secrets and signatures travel in headers). The OTLP exporter
reads its own `OTEL_*` variables (headers, timeout, compression) as documented by OpenTelemetry.
"""

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from portal.access_log import REDACTED, redacted_query

# Request headers shown as sent; every other header's value is replaced.
SHOWN_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "content-length",
        "content-type",
        "host",
        "user-agent",
        "x-request-id",
    }
)
# Span attributes that carry a URL or a query string (old and new HTTP conventions).
URL_ATTRIBUTES = ("http.url", "http.target", "url.full")
QUERY_ATTRIBUTES = ("url.query",)

if TYPE_CHECKING:  # the library itself is imported only when configured
    from sentry_sdk.types import Event

_configured = False


def configure() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    if settings.SENTRY_DSN:
        _sentry_start()
    if settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        _tracing_start()


def redacted_url(url: str) -> str:
    """`url` (absolute, or a path with its query) with its query values redacted."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    return urlunsplit(parts._replace(query=redacted_query(parts.query)))


# --- Sentry ----------------------------------------------------------------------------------


def _sentry_start() -> None:
    import sentry_sdk

    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        environment=settings.SENTRY_ENVIRONMENT or None,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        before_send=scrubbed_event,
        before_send_transaction=scrubbed_event,
    )


def scrubbed_event(event: "Event", hint: dict[str, Any] | None = None) -> "Event":
    """A Sentry event as it may leave the process: the request's query values redacted,
    headers other than SHOWN_HEADERS replaced, no cookies, body, environment or user."""
    request = event.get("request")
    if isinstance(request, dict):
        if request.get("query_string"):
            request["query_string"] = redacted_query(str(request["query_string"]))
        if request.get("url"):
            request["url"] = redacted_url(str(request["url"]))
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value if name.lower() in SHOWN_HEADERS else REDACTED
                for name, value in headers.items()
            }
        for key in ("cookies", "data", "env"):
            request.pop(key, None)
    event.pop("user", None)
    return event


# --- OpenTelemetry -----------------------------------------------------------------------


def _tracing_start() -> None:
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.OTEL_SERVICE_NAME})
    )
    # The exporter posts to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces (OTLP over HTTP, protobuf).
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(request_hook=redact_span_urls)


def redact_span_urls(span, request) -> None:
    """Request hook of the Django instrumentation: the URL attributes it set from the raw
    request lose their query values."""
    attributes = getattr(span, "attributes", None) or {}
    for name in URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str):
            span.set_attribute(name, redacted_url(value))
    for name in QUERY_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str):
            span.set_attribute(name, redacted_query(value))

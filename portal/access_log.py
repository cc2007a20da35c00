"""One access line per request through the application's JSON logger (`portal.access`),
carrying the request id. Query values are redacted, all but the public `apikey`: callers
put API secrets, refresh tokens and verification tokens there, and a log line must never
carry them. This replaces gunicorn's access log, which printed query strings verbatim."""

import logging
import time
from urllib.parse import unquote_plus

from portal import context

logger = logging.getLogger("portal.access")
SHOWN_QUERY_VALUES = frozenset({"apikey"})
REDACTED = "[redacted]"


def redacted_query(query_string: str) -> str:
    """The query string with each value (and any bare item) replaced by `[redacted]` unless
    its name is known harmless; names are kept as sent (they say what the caller meant)."""
    parts = []
    for item in query_string.split("&"):
        if not item:
            continue
        name, has_value, _value = item.partition("=")
        if not has_value:  # a bare item could itself be a token
            item = REDACTED
        elif unquote_plus(name).lower() not in SHOWN_QUERY_VALUES:
            item = f"{name}={REDACTED}"
        parts.append(item)
    return "&".join(parts)


class AccessLogMiddleware:
    """Placed right after RequestContextMiddleware, so the line carries the request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        if logger.isEnabledFor(logging.INFO):
            query = request.META.get("QUERY_STRING", "")
            target = request.path + (f"?{redacted_query(query)}" if query else "")
            logger.info(
                "%s %s %s %s %.1fms",
                request.method,
                target,
                response.status_code,
                context.current().ip or "-",
                (time.monotonic() - started) * 1000,
            )
        return response

import io
import re
import uuid

from django.conf import settings
from django.core.exceptions import DisallowedHost

from portal import context
from portal.client_address import client_ip

REQUEST_ID_RE = re.compile(r"[A-Za-z0-9-]{1,64}")


def _request_id(request) -> str:
    """A proxy's X-Request-Id is kept when it is a plain token; anything else is replaced,
    since the value reaches log lines and response headers."""
    supplied = request.META.get("HTTP_X_REQUEST_ID", "")
    if REQUEST_ID_RE.fullmatch(supplied):
        return supplied
    return uuid.uuid4().hex


# A plain host[:port] (a name, IPv4, or a bracketed IPv6 address): anything else is dropped,
# since the value is stored and shown.
HOST_RE = re.compile(r"(?:[A-Za-z0-9.-]{1,190}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")


def _request_host(request) -> str:
    """The host the caller's user was on: the X-Origin-Host a back end relays for its user
    (a LoginRadius convention), else the host the request was sent to; "" when neither is
    a plain host or the host is not an allowed one."""
    origin = request.META.get("HTTP_X_ORIGIN_HOST", "").strip()
    if HOST_RE.fullmatch(origin):
        return origin.lower()
    try:
        host = request.get_host()
    except DisallowedHost:
        return ""
    return host.lower() if HOST_RE.fullmatch(host) else ""


_TRUE = frozenset({"true", "1", "yes"})


def _webhooks_suppressed(request) -> bool:
    """LoginRadius's `prevent_webhook` query parameter (any spelling of its name) or
    `X-PreventWebhook: true` header: the call's changes send no webhooks."""
    if request.META.get("HTTP_X_PREVENTWEBHOOK", "").strip().lower() in _TRUE:
        return True
    return any(
        name.lower().replace("_", "") == "preventwebhook" and value.strip().lower() in _TRUE
        for name, value in request.GET.items()
    )


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ctx = context.RequestContext(
            request_id=_request_id(request),
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
            host=_request_host(request),
            webhooks_suppressed=_webhooks_suppressed(request),
        )
        request.request_id = ctx.request_id
        token = context.activate(ctx)
        try:
            response = self.get_response(request)
        finally:
            context.deactivate(token)
        response["X-Request-Id"] = ctx.request_id
        return response


# --- request-body cap ------------------------------------------------------------------------

# Set by `BodyLimitWSGIMiddleware` on a body without Content-Length that ran past the cap.
BODY_OVER_LIMIT_KEY = "portal.request_body_over_limit"
_READ_CHUNK = 64 * 1024


def request_body_limit() -> int:
    """The most bytes a request body may have (REQUEST_BODY_MAX_BYTES)."""
    return int(settings.REQUEST_BODY_MAX_BYTES)


def declared_body_length(environ) -> int:
    """The Content-Length the client declared; 0 when absent or malformed (Django then reads
    nothing either)."""
    try:
        return max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def body_too_large(limit: int):
    from portal.lrapi.errors import LRError

    return LRError(1090, f"The request body exceeds {limit} bytes.", status=413)


class RequestBodyLimitMiddleware:
    """Refuses a request body larger than REQUEST_BODY_MAX_BYTES with 413 and a LoginRadius
    error body (1090), on its Content-Length, once the view is known and before anything
    reads the body (Django reads it lazily; this runs before the CSRF check and the view).

    A view may declare a cap of its own, `request_body_max_bytes`, and the error that
    refuses a larger body, `request_body_too_large(limit) -> LRError` (custom objects:
    1002, as LoginRadius answers). A body without Content-Length that
    `BodyLimitWSGIMiddleware` found to run past the general cap is always refused."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from django.http import JsonResponse

        from portal.lrapi.exceptions import is_legacy_path

        view_class = getattr(view_func, "view_class", None)
        if request.META.get(BODY_OVER_LIMIT_KEY):
            limit = request_body_limit()
        else:
            limit = getattr(view_class, "request_body_max_bytes", None) or request_body_limit()
            if declared_body_length(request.META) <= limit:
                return None
        error = getattr(view_class, "request_body_too_large", body_too_large)(limit)
        return JsonResponse(
            error.body(lower_camel=is_legacy_path(request.path)), status=error.status_code
        )


class BodyLimitWSGIMiddleware:
    """WSGI wrapper for bodies sent without Content-Length (`Transfer-Encoding: chunked`,
    de-chunked by the server). Django reads no body without Content-Length, so such a body
    would silently arrive empty; this reads it, at most REQUEST_BODY_MAX_BYTES + 1 bytes,
    and either hands it on with its length, or drops it and marks the request for
    `RequestBodyLimitMiddleware` to refuse (the rest is never read)."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and environ.get("CONTENT_LENGTH") in (None, ""):
            limit = request_body_limit()
            body = _read_at_most(environ["wsgi.input"], limit + 1)
            if len(body) > limit:
                environ[BODY_OVER_LIMIT_KEY] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.application(environ, start_response)


def _read_at_most(stream, size: int) -> bytes:
    chunks, total = [], 0
    while total < size:
        chunk = stream.read(min(_READ_CHUNK, size - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)

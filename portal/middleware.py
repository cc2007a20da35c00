import ipaddress
import re
import uuid

from django.conf import settings

from portal import context


def client_ip(request) -> str | None:
    """The caller's IP: X-Forwarded-For is believed only when the peer is a trusted proxy.
    Worked out once per request (the middleware, authentication and the rate limits ask)."""
    request = getattr(request, "_request", request)  # a DRF request wraps Django's
    try:
        return request.portal_client_ip
    except AttributeError:
        pass
    remote = request.META.get("REMOTE_ADDR") or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote and forwarded and remote in settings.TRUSTED_PROXIES:
        remote = forwarded.split(",")[-1].strip() or remote
    try:
        ip = str(ipaddress.ip_address(remote)) if remote else None
    except ValueError:
        ip = None
    request.portal_client_ip = ip
    return ip


REQUEST_ID_RE = re.compile(r"[A-Za-z0-9-]{1,64}")


def _request_id(request) -> str:
    """A proxy's X-Request-Id is kept when it is a plain token; anything else is replaced,
    since the value reaches log lines and response headers."""
    supplied = request.META.get("HTTP_X_REQUEST_ID", "")
    if REQUEST_ID_RE.fullmatch(supplied):
        return supplied
    return uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ctx = context.RequestContext(
            request_id=_request_id(request),
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
        )
        request.request_id = ctx.request_id
        token = context.activate(ctx)
        try:
            response = self.get_response(request)
        finally:
            context.deactivate(token)
        response["X-Request-Id"] = ctx.request_id
        return response

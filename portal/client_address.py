"""Who is calling: the client address a request came from, behind trusted proxies."""

import ipaddress

from django.conf import settings


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

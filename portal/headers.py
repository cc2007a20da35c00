"""Security headers the stock middleware does not set.

Django's SecurityMiddleware already sends HSTS (secure requests, SECURE_HSTS_SECONDS),
`X-Content-Type-Options: nosniff`, the referrer policy and COOP; XFrameOptionsMiddleware
denies framing. This adds:

- a Content-Security-Policy on the console and admin pages: scripts and styles only from
  this origin (no inline script), no framing, forms post only here;
- a locked-down policy on API responses (JSON is never a document to render or frame),
  with `Cache-Control: no-store` since they carry identity data;
- a Permissions-Policy switching off powerful browser features nobody here needs.
"""

from django.conf import settings

CONSOLE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

PAGE_PREFIXES = ("/console/", "/admin/")
API_PREFIXES = ("/identity/", "/api/v1/", "/api/v2/", "/service/")


def is_api_path(path: str) -> bool:
    """Whether `path` is an API call (LoginRadius paths, /api/v1/), any case."""
    return path.lower().startswith(API_PREFIXES)


def _policy_for(path: str) -> tuple[str | None, bool]:
    lowered = path.lower()
    if lowered.startswith(PAGE_PREFIXES):
        return getattr(settings, "CONSOLE_CONTENT_SECURITY_POLICY", CONSOLE_CSP), False
    if lowered.startswith(API_PREFIXES):
        return API_CSP, True
    return None, False


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy, is_api = _policy_for(request.path)
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        if is_api and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

"""The staff sign-in session: made by the console's sign-in (password, then TOTP) and honoured
by the console and the admin alike, so neither has a way around the other's limits. Its
session keys, its idle timeout and maximum age, and the headers every staff page carries."""

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

TENANT_SESSION_KEY = "console_tenant_id"
LAST_SEEN_SESSION_KEY = "console_last_seen"
SIGNED_IN_AT_SESSION_KEY = "console_signed_in_at"
# The last-seen time is written at most this often, not on every request.
LAST_SEEN_RESOLUTION_SECONDS = 15

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def idle_timeout_seconds() -> int:
    return int(getattr(settings, "CONSOLE_IDLE_TIMEOUT_SECONDS", 30 * 60))


def session_expired(request, now: int) -> str:
    """Why the staff session is over ("" while it is not): idle too long, or older than
    SESSION_COOKIE_AGE however active it was."""
    last_seen = request.session.get(LAST_SEEN_SESSION_KEY)
    if last_seen is not None and now - int(last_seen) > idle_timeout_seconds():
        return "You were signed out after a period of inactivity. Sign in again."
    signed_in_at = request.session.get(SIGNED_IN_AT_SESSION_KEY)
    if signed_in_at is not None and now - int(signed_in_at) > settings.SESSION_COOKIE_AGE:
        return "Your session reached its maximum length. Sign in again."
    return ""


def apply_security_headers(response):
    response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.setdefault("Cache-Control", "no-store")
    return response


def console_sign_in_current(request) -> bool:
    """Whether the request carries a console sign-in (password, then TOTP) that is still
    current: neither idle too long nor past its maximum age. The admin asks the same
    question, so it has no sign-in of its own and no way around the console's limits.
    Being current counts as activity, as on a console page."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_verified()):
        return False
    if request.session.get(SIGNED_IN_AT_SESSION_KEY) is None:  # not signed in here
        return False
    now = int(time.time())
    if session_expired(request, now):
        return False
    if now - int(request.session.get(LAST_SEEN_SESSION_KEY) or 0) >= LAST_SEEN_RESOLUTION_SECONDS:
        request.session[LAST_SEEN_SESSION_KEY] = now
    return True


def safe_admin_next(request, admin_root: str) -> str:
    """The `next` of an admin request when it is a path inside the admin (not its login
    page); `admin_root` otherwise. The console's own safe_next allows any local page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        not target
        or "\\" in target
        or not url_has_allowed_host_and_scheme(target, allowed_hosts=set(), require_https=False)
    ):
        return admin_root
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(admin_root):
        return admin_root
    if ".." in parts.path.split("/"):  # /admin/../console/ leaves the admin
        return admin_root
    if parts.path.startswith(reverse("admin:login")):
        return admin_root
    return target

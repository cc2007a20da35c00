"""The console's middleware, skipped on API paths.

An API call (the LoginRadius paths and /api/v1/) authenticates with its key and secret on
every request and answers JSON: it needs no session, CSRF token, staff user, OTP device,
flash messages, htmx details or static files. Each middleware here is the stock one for
every other path (console, admin, docs) and a pass-through on an API path, so an API
request runs only its authentication and rate limits, the view, JSON rendering, the request
id, the access line and the security headers (the rest of MIDDLEWARE)."""

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.middleware import csrf
from django_htmx import middleware as htmx
from django_otp import middleware as otp
from whitenoise import middleware as whitenoise

from portal.headers import is_api_path


class _ConsoleOnly:
    """A middleware (the next class in the MRO) that an API request passes straight by."""

    def __call__(self, request):
        if is_api_path(request.path_info):
            return self.get_response(request)
        return super().__call__(request)


class WhiteNoiseMiddleware(_ConsoleOnly, whitenoise.WhiteNoiseMiddleware):
    pass


class SessionMiddleware(_ConsoleOnly, sessions.SessionMiddleware):
    pass


class CsrfViewMiddleware(_ConsoleOnly, csrf.CsrfViewMiddleware):
    def process_view(self, request, callback, callback_args, callback_kwargs):
        if is_api_path(request.path_info):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class AuthenticationMiddleware(_ConsoleOnly, auth.AuthenticationMiddleware):
    pass


class OTPMiddleware(_ConsoleOnly, otp.OTPMiddleware):
    pass


class MessageMiddleware(_ConsoleOnly, messages.MessageMiddleware):
    pass


class HtmxMiddleware(_ConsoleOnly, htmx.HtmxMiddleware):
    pass

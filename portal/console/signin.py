"""Staff sign-in: password first, then a TOTP code; enrolment with a QR code the first time.

The password step signs nobody in: it only remembers, for a few minutes, which user passed
it. The Django session is created only once the second factor is verified, so no page of
the site (console or admin) ever sees a user who has only given a password.
"""

import hashlib
import time

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from portal.console.access import safe_next
from portal.models import StaffTotpDevice
from portal.staff_session import (
    LAST_SEEN_SESSION_KEY,
    SIGNED_IN_AT_SESSION_KEY,
    apply_security_headers,
)

PENDING_USER_KEY = "console_pending_user"
PENDING_AT_KEY = "console_pending_at"
PENDING_BACKEND_KEY = "console_pending_backend"
PENDING_NEXT_KEY = "console_pending_next"
PENDING_LIFETIME_SECONDS = 5 * 60
DEVICE_NAME = "console"
# Password guesses per username (whatever the address) before the sign-in form pauses.
PASSWORD_FAILURE_LIMIT = 10
PASSWORD_FAILURE_WINDOW_SECONDS = 15 * 60


def _failure_key(username: str) -> str:
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"console-login-failures:{digest}"


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "pattern": "[0-9]*",
            }
        ),
    )

    def clean_token(self):
        return self.cleaned_data["token"].strip().replace(" ", "")


def _pending_user(request):
    user_id = request.session.get(PENDING_USER_KEY)
    started = request.session.get(PENDING_AT_KEY, 0)
    if user_id is None or time.time() - started > PENDING_LIFETIME_SECONDS:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def _clear_pending(request) -> None:
    for key in (PENDING_USER_KEY, PENDING_AT_KEY, PENDING_BACKEND_KEY, PENDING_NEXT_KEY):
        request.session.pop(key, None)


def _complete_sign_in(request, user, device):
    """Both factors passed: create the session and remember the verified device."""
    backend = request.session.get(PENDING_BACKEND_KEY)
    target = request.session.get(PENDING_NEXT_KEY) or reverse("console:dashboard")
    _clear_pending(request)
    login(request, user, backend=backend)
    otp_login(request, device)
    request.session[LAST_SEEN_SESSION_KEY] = request.session[SIGNED_IN_AT_SESSION_KEY] = int(
        time.time()
    )
    return redirect(target)


def qr_code_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code to scan" class="qr" ', 1)


@method_decorator([sensitive_post_parameters(), csrf_protect, never_cache], name="dispatch")
class LoginView(View):
    template_name = "console/login.html"

    def dispatch(self, request, *args, **kwargs):
        return apply_security_headers(super().dispatch(request, *args, **kwargs))

    def get(self, request):
        if request.user.is_authenticated and request.user.is_verified():
            return redirect(safe_next(request, reverse("console:dashboard")))
        return render(
            request,
            self.template_name,
            {"form": AuthenticationForm(request), "next": request.GET.get("next", "")},
        )

    def post(self, request):
        key = _failure_key(request.POST.get("username", ""))
        if cache.get(key, 0) >= PASSWORD_FAILURE_LIMIT:
            return render(
                request,
                self.template_name,
                {
                    "form": AuthenticationForm(request),
                    "next": request.POST.get("next", ""),
                    "error": "Too many failed attempts for this user. Wait 15 minutes, or ask an Admin.",
                },
                status=429,
            )
        form = AuthenticationForm(request, data=request.POST)
        if not form.is_valid():
            cache.add(key, 0, PASSWORD_FAILURE_WINDOW_SECONDS)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, PASSWORD_FAILURE_WINDOW_SECONDS)
            return render(
                request,
                self.template_name,
                {"form": form, "next": request.POST.get("next", "")},
                status=200,
            )
        cache.delete(key)
        user = form.get_user()
        if request.user.is_authenticated:
            logout(request)
        request.session.cycle_key()
        request.session[PENDING_USER_KEY] = user.pk
        request.session[PENDING_AT_KEY] = int(time.time())
        request.session[PENDING_BACKEND_KEY] = user.backend
        request.session[PENDING_NEXT_KEY] = safe_next(request, reverse("console:dashboard"))
        if StaffTotpDevice.objects.filter(user=user, confirmed=True).exists():
            return redirect("console:login_verify")
        return redirect("console:login_enrol")


@method_decorator([sensitive_post_parameters(), csrf_protect, never_cache], name="dispatch")
class LoginVerifyView(View):
    template_name = "console/login_verify.html"

    def dispatch(self, request, *args, **kwargs):
        user = _pending_user(request)
        if user is None:
            messages.info(request, "Sign in with your username and password first.")
            return redirect("console:login")
        self.pending = user
        if not StaffTotpDevice.objects.filter(user=user, confirmed=True).exists():
            return redirect("console:login_enrol")
        return apply_security_headers(super().dispatch(request, *args, **kwargs))

    def get(self, request):
        return render(request, self.template_name, {"form": TokenForm(), "pending": self.pending})

    def post(self, request):
        form = TokenForm(request.POST)
        if form.is_valid():
            for device in StaffTotpDevice.objects.filter(user=self.pending, confirmed=True):
                with transaction.atomic():
                    locked = StaffTotpDevice.objects.select_for_update().get(pk=device.pk)
                    if locked.verify_token(form.cleaned_data["token"]):
                        return _complete_sign_in(request, self.pending, locked)
            form.add_error("token", "That code is not valid. Wait for the next code and try again.")
        return render(request, self.template_name, {"form": form, "pending": self.pending})


@method_decorator([sensitive_post_parameters(), csrf_protect, never_cache], name="dispatch")
class LoginEnrolView(View):
    """First sign-in: make a TOTP device, show its QR code, confirm it with one code."""

    template_name = "console/login_enrol.html"

    def dispatch(self, request, *args, **kwargs):
        user = _pending_user(request)
        if user is None:
            messages.info(request, "Sign in with your username and password first.")
            return redirect("console:login")
        if StaffTotpDevice.objects.filter(user=user, confirmed=True).exists():
            # Someone who knows only the password must not enrol a device of their own.
            return redirect("console:login_verify")
        self.pending = user
        return apply_security_headers(super().dispatch(request, *args, **kwargs))

    def _device(self) -> StaffTotpDevice:
        device = (
            StaffTotpDevice.objects.filter(user=self.pending, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None:
            device = StaffTotpDevice.objects.create(
                user=self.pending, name=DEVICE_NAME, confirmed=False
            )
        return device

    def _render(self, request, form, device):
        secret = device.secret_b32
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "pending": self.pending,
                "qr_svg": mark_safe(qr_code_svg(device.config_url)),  # noqa: S308 - generated SVG
                "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            },
        )

    def get(self, request):
        return self._render(request, TokenForm(), self._device())

    def post(self, request):
        device = self._device()
        form = TokenForm(request.POST)
        if form.is_valid():
            with transaction.atomic():
                locked = StaffTotpDevice.objects.select_for_update().get(pk=device.pk)
                if locked.verify_token(form.cleaned_data["token"]):
                    locked.confirmed = True
                    locked.save(update_fields=["confirmed"])
                    messages.success(request, "Your authenticator app is set up.")
                    return _complete_sign_in(request, self.pending, locked)
            form.add_error(
                "token",
                "That code is not valid. Check the app shows this account and try the next code.",
            )
        return self._render(request, form, device)


@method_decorator([csrf_protect, never_cache], name="dispatch")
class LogoutView(View):
    def post(self, request):
        logout(request)
        messages.info(request, "You are signed out.")
        return redirect("console:login")


def csrf_failure(request, reason=""):
    """A form older than the session, or sent from elsewhere: say what to do instead of a bare 403."""
    response = render(request, "console/csrf_failure.html", status=403)
    return apply_security_headers(response)

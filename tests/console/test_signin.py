import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from portal.models import StaffTotpDevice
from portal.staff_session import LAST_SEEN_SESSION_KEY
from tests.console.conftest import PASSWORD, totp_now

pytestmark = pytest.mark.django_db


def _password_step(client, user, next_url=""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("console:login"), data)


def test_password_then_code_signs_in(make_staff, tenant):
    user = make_staff("Agent", tenant)
    client = Client()
    response = _password_step(client, user)
    assert response.status_code == 302 and response["Location"] == reverse("console:login_verify")
    assert SESSION_KEY not in client.session  # the password alone signs nobody in
    response = client.post(reverse("console:login_verify"), {"token": totp_now(user.totp)})
    assert response.status_code == 302 and response["Location"] == reverse("console:dashboard")
    assert client.get(reverse("console:dashboard")).status_code == 200


def test_password_alone_reaches_no_console_or_admin_page(make_staff, tenant):
    user = make_staff("Admin", tenant)
    user.is_staff = True
    user.save()
    client = Client()
    _password_step(client, user)
    response = client.get(reverse("console:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("console:login"))
    assert client.get("/admin/").status_code == 302  # the admin wants a verified device too


def test_wrong_code_is_refused_and_signs_nobody_in(make_staff, tenant):
    user = make_staff("Agent", tenant)
    client = Client()
    _password_step(client, user)
    good = totp_now(user.totp)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(reverse("console:login_verify"), {"token": wrong})
    assert response.status_code == 200
    assert b"not valid" in response.content
    assert SESSION_KEY not in client.session
    user.totp.refresh_from_db()
    assert user.totp.throttling_failure_count == 1


def test_wrong_password_goes_nowhere(make_staff, tenant):
    user = make_staff("Agent", tenant)
    client = Client()
    response = client.post(
        reverse("console:login"), {"username": user.username, "password": "nope"}
    )
    assert response.status_code == 200
    assert client.get(reverse("console:login_verify")).status_code == 302
    assert SESSION_KEY not in client.session


def test_first_sign_in_enrols_with_a_qr_code(make_staff, tenant):
    user = make_staff("Agent", tenant, enrolled=False)
    client = Client()
    response = _password_step(client, user)
    assert response["Location"] == reverse("console:login_enrol")
    page = client.get(reverse("console:login_enrol"))
    assert page.status_code == 200
    assert b"<svg" in page.content and b"QR code" in page.content
    device = StaffTotpDevice.objects.get(user=user)
    assert device.confirmed is False
    # Reloading the page keeps the same device: the code the app shows stays valid.
    client.get(reverse("console:login_enrol"))
    assert StaffTotpDevice.objects.filter(user=user).count() == 1
    response = client.post(reverse("console:login_enrol"), {"token": totp_now(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get(reverse("console:dashboard")).status_code == 200


def test_enrolment_is_closed_once_a_device_is_confirmed(make_staff, tenant):
    user = make_staff("Agent", tenant)
    client = Client()
    _password_step(client, user)
    response = client.get(reverse("console:login_enrol"))
    assert response.status_code == 302 and response["Location"] == reverse("console:login_verify")
    assert StaffTotpDevice.objects.filter(user=user).count() == 1


def test_pending_password_step_expires(make_staff, tenant, monkeypatch):
    user = make_staff("Agent", tenant)
    client = Client()
    _password_step(client, user)
    session = client.session
    session["console_pending_at"] = int(time.time()) - 3600
    session.save()
    response = client.post(reverse("console:login_verify"), {"token": totp_now(user.totp)})
    assert response.status_code == 302 and response["Location"] == reverse("console:login")
    assert SESSION_KEY not in client.session


def test_next_is_kept_across_both_steps(make_staff, tenant):
    user = make_staff("Agent", tenant)
    client = Client()
    _password_step(client, user, next_url=reverse("console:audit_log"))
    response = client.post(reverse("console:login_verify"), {"token": totp_now(user.totp)})
    assert response["Location"] == reverse("console:audit_log")


def test_foreign_next_is_ignored(make_staff, tenant):
    user = make_staff("Agent", tenant)
    client = Client()
    _password_step(client, user, next_url="https://evil.example/")
    response = client.post(reverse("console:login_verify"), {"token": totp_now(user.totp)})
    assert response["Location"] == reverse("console:dashboard")


def test_idle_session_is_signed_out(make_staff, tenant, console_client, settings):
    settings.CONSOLE_IDLE_TIMEOUT_SECONDS = 60
    user = make_staff("Agent", tenant)
    client = console_client(user)
    assert client.get(reverse("console:dashboard")).status_code == 200
    session = client.session
    session[LAST_SEEN_SESSION_KEY] = int(time.time()) - 61
    session.save()
    response = client.get(reverse("console:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("console:login"))
    assert SESSION_KEY not in client.session


def test_activity_keeps_the_session_alive(make_staff, tenant, console_client, settings):
    settings.CONSOLE_IDLE_TIMEOUT_SECONDS = 60
    user = make_staff("Agent", tenant)
    client = console_client(user)
    session = client.session
    session[LAST_SEEN_SESSION_KEY] = int(time.time()) - 50
    session.save()
    assert client.get(reverse("console:dashboard")).status_code == 200
    assert client.session[LAST_SEEN_SESSION_KEY] >= int(time.time()) - 1


def test_sign_out_is_post_only(make_staff, tenant, console_client):
    user = make_staff("Agent", tenant)
    client = console_client(user)
    assert client.get(reverse("console:logout")).status_code == 405
    assert SESSION_KEY in client.session
    response = client.post(reverse("console:logout"))
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_console_forms_require_csrf(make_staff, tenant):
    user = make_staff("Agent", tenant)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("console:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 403


def test_console_pages_send_a_strict_content_security_policy(make_staff, tenant, console_client):
    client = console_client(make_staff("Agent", tenant))
    response = client.get(reverse("console:dashboard"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert b"<script>" not in response.content


def test_repeated_wrong_passwords_pause_the_sign_in(make_staff, tenant):
    from portal.console.signin import PASSWORD_FAILURE_LIMIT

    user = make_staff("Agent", tenant)
    client = Client()
    for _ in range(PASSWORD_FAILURE_LIMIT):
        client.post(reverse("console:login"), {"username": user.username, "password": "wrong"})
    response = _password_step(client, user)  # even the right password waits now
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
    assert "console_pending_user" not in client.session


def test_session_ends_at_its_maximum_age_however_active(
    make_staff, tenant, console_client, settings
):
    from portal.staff_session import SIGNED_IN_AT_SESSION_KEY

    settings.SESSION_COOKIE_AGE = 3600
    client = console_client(make_staff("Agent", tenant))
    session = client.session
    session[SIGNED_IN_AT_SESSION_KEY] = int(time.time()) - 3601
    session[LAST_SEEN_SESSION_KEY] = int(time.time())
    session.save()
    response = client.get(reverse("console:dashboard"))
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_root_redirects_to_the_console():
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"] == reverse("console:dashboard")


def test_csrf_failure_page_says_what_to_do(make_staff, tenant, console_client):
    client = console_client(make_staff("Agent", tenant))
    client.handler.enforce_csrf_checks = True
    response = client.post(reverse("console:logout"))
    assert response.status_code == 403
    assert b"This form has expired" in response.content
    assert SESSION_KEY in client.session

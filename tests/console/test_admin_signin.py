"""The admin has no sign-in of its own: it sends everyone through the console sign-in."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client
from django.urls import reverse

from portal.console.signin import PENDING_USER_KEY
from portal.staff_session import LAST_SEEN_SESSION_KEY
from tests.console.conftest import PASSWORD, totp_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(make_staff, tenant):
    user = make_staff(None, tenant, username="root")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def _console_login_next(response) -> str:
    """The `next` of a redirect to the console sign-in (fails if it goes anywhere else)."""
    assert response.status_code == 302, response.status_code
    location = urlsplit(response["Location"])
    assert location.path == reverse("console:login"), response["Location"]
    return parse_qs(location.query).get("next", [""])[0]


def _sign_in(client, user, next_url: str):
    response = client.post(
        reverse("console:login"),
        {"username": user.username, "password": PASSWORD, "next": next_url},
    )
    assert response["Location"] == reverse("console:login_verify")
    return client.post(reverse("console:login_verify"), {"token": totp_now(user.totp)})


def test_admin_login_sends_to_the_console_sign_in_keeping_next():
    response = Client().get("/admin/login/", {"next": "/admin/portal/tenant/"})
    assert _console_login_next(response) == "/admin/portal/tenant/"
    assert _console_login_next(Client().get("/admin/login/")) == reverse("admin:index")


@pytest.mark.parametrize(
    "unsafe",
    [
        "https://evil.example/admin/",
        "//evil.example/admin/",
        "/console/",
        "/admin/login/",
        "javascript:alert(1)",
        "/\\evil.example/admin/",
    ],
)
def test_admin_login_drops_a_next_leading_outside_the_admin(unsafe):
    response = Client().get("/admin/login/", {"next": unsafe})
    assert _console_login_next(response) == reverse("admin:index")


def test_admin_login_answers_the_same_for_right_and_wrong_password(superuser):
    answers = []
    for password in (PASSWORD, "wrong password"):
        client = Client()
        response = client.post(
            "/admin/login/?next=/admin/",
            {
                "username": superuser.username,
                "password": password,
                "otp_token": "",
                "next": "/admin/",
            },
        )
        answers.append((response.status_code, response["Location"], response.content))
        assert SESSION_KEY not in client.session
        assert PENDING_USER_KEY not in client.session
    assert answers[0] == answers[1]
    assert _console_login_next(Client().post("/admin/login/", {"username": "x"})) == "/admin/"


def test_admin_pages_lead_anonymous_users_to_the_console_sign_in(superuser):
    client = Client()
    response = client.get("/admin/portal/tenant/", follow=True)
    first_hop, last_hop = response.redirect_chain[0][0], response.redirect_chain[-1][0]
    assert first_hop.startswith("/admin/login/")
    assert urlsplit(last_hop).path == reverse("console:login")
    assert response.status_code == 200 and b"Sign in to the console" in response.content


def test_superuser_reaches_the_admin_after_console_sign_in_with_totp(superuser):
    client = Client()
    next_url = _console_login_next(client.get("/admin/login/", {"next": "/admin/portal/tenant/"}))
    response = _sign_in(client, superuser, next_url)
    assert response.status_code == 302 and response["Location"] == "/admin/portal/tenant/"
    assert client.get("/admin/portal/tenant/").status_code == 200
    index = client.get("/admin/")
    assert index.status_code == 200 and b"Site administration" in index.content
    # Signed in: the admin's own login address just forwards to the admin.
    assert client.get("/admin/login/")["Location"] == reverse("admin:index")


def test_password_alone_does_not_open_the_admin(superuser):
    client = Client()
    client.post(
        reverse("console:login"),
        {"username": superuser.username, "password": PASSWORD, "next": "/admin/"},
    )
    response = client.get("/admin/", follow=True)
    assert urlsplit(response.redirect_chain[-1][0]).path == reverse("console:login")
    assert SESSION_KEY not in client.session


def test_staff_who_are_not_superusers_are_refused_without_a_loop(make_staff, tenant):
    admin_role = make_staff("Admin", tenant)
    admin_role.is_staff = True
    admin_role.save()
    client = Client()
    _sign_in(client, admin_role, "/admin/")
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert b"superuser" in response.content
    assert client.get(reverse("console:dashboard")).status_code == 200  # still signed in


def test_superuser_without_a_console_sign_in_is_refused(superuser):
    client = Client()
    client.force_login(superuser)  # a session that skipped the second factor
    response = client.get("/admin/", follow=True)
    assert urlsplit(response.redirect_chain[-1][0]).path == reverse("console:login")
    assert SESSION_KEY not in client.session


def test_admin_session_ends_with_the_console_idle_timeout(superuser, settings):
    settings.CONSOLE_IDLE_TIMEOUT_SECONDS = 60
    client = Client()
    _sign_in(client, superuser, "/admin/")
    assert client.get("/admin/").status_code == 200
    session = client.session
    session[LAST_SEEN_SESSION_KEY] = int(time.time()) - 61
    session.save()
    response = client.get("/admin/", follow=True)
    assert urlsplit(response.redirect_chain[-1][0]).path == reverse("console:login")
    assert SESSION_KEY not in client.session


def test_admin_activity_keeps_the_session_alive(superuser, settings):
    settings.CONSOLE_IDLE_TIMEOUT_SECONDS = 60
    client = Client()
    _sign_in(client, superuser, "/admin/")
    session = client.session
    session[LAST_SEEN_SESSION_KEY] = int(time.time()) - 50
    session.save()
    assert client.get("/admin/").status_code == 200
    assert client.session[LAST_SEEN_SESSION_KEY] >= int(time.time()) - 1


def test_admin_password_change_asks_for_no_old_password(superuser):
    """The admin's own password-change form would tell a right old password from a wrong one."""
    client = Client()
    _sign_in(client, superuser, "/admin/")
    response = client.get("/admin/password_change/")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:auth_user_password_change", args=[superuser.pk])
    before = get_user_model().objects.get(pk=superuser.pk).password
    for old in (PASSWORD, "wrong password"):
        posted = client.post(
            "/admin/password_change/",
            {
                "old_password": old,
                "new_password1": "N3w-passw0rd!x",
                "new_password2": "N3w-passw0rd!x",
            },
        )
        assert posted.status_code == 302 and posted["Location"] == response["Location"]
    assert get_user_model().objects.get(pk=superuser.pk).password == before

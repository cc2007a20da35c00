"""The search box's text travels sealed for one sign-in (portal/console/search_texts.py)."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from portal.console.search_texts import opened_search, sealed_search

SEARCH = reverse("console:account_search")


def test_a_sealed_text_opens_in_its_own_session_only():
    sealed = sealed_search(session_key="a" * 32, text="maria.garcia@example.com")
    assert "maria" not in sealed and "example" not in sealed
    assert re.fullmatch(r"[\w-]+", sealed)  # nothing a URL must escape
    assert opened_search(session_key="a" * 32, sealed=sealed) == "maria.garcia@example.com"
    assert opened_search(session_key="b" * 32, sealed=sealed) == ""
    assert opened_search(session_key=None, sealed=sealed) == ""


@pytest.mark.parametrize("sealed", ["", "not-a-token", "gAAAAA" + "x" * 80, "é"])
def test_anything_else_opens_to_nothing(sealed):
    assert opened_search(session_key="a" * 32, sealed=sealed) == ""


def test_a_sealed_text_lapses_with_the_session_cookie(settings):
    sealed = sealed_search(session_key="a" * 32, text="ann")
    with freeze_time(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)):
        assert opened_search(session_key="a" * 32, sealed=sealed) == ""


@pytest.mark.django_db
def test_the_results_link_works_for_its_sign_in_and_not_after_it(
    make_staff, console_client, tenant
):
    user = make_staff("Agent", tenant)
    agent = console_client(user)
    moved = agent.get(SEARCH, {"q": "Zed Person"})
    assert "zed" not in moved["Location"].lower()
    results = agent.get(moved["Location"])
    assert results.status_code == 200
    assert results.context["form"].data["q"] == "Zed Person"
    token = parse_qs(urlsplit(moved["Location"]).query)["s"][0]

    # Another sign-in of the same user has another session key: the token opens to nothing.
    elsewhere = console_client(user).get(SEARCH, {"s": token})
    assert elsewhere.status_code == 200
    assert elsewhere.context["form"].data.get("q", "") == ""

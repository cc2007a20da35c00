"""The account page's sign-in history names a second factor that did not verify."""

import pytest
from django.urls import reverse

from tests.security.test_signin_second_factor_events import VERIFY, api, challenge, member

pytestmark = pytest.mark.django_db

__all__ = ["api", "member"]  # fixtures used by name below


def test_the_account_page_history_says_second_factor_failed(
    api, tenant, member, make_staff, console_client
):
    token = challenge(api)
    api("put", VERIFY, {"authenticatorcode": "000000"}, secondfactorauthenticationtoken=token)
    agent = console_client(make_staff("Agent", tenant))
    page = agent.get(reverse("console:account_detail", args=[tenant.slug, member.uid]))
    body = page.content.decode()
    history = body[body.index('id="account-signins"') :]
    history = history[: history.index("</table>")]
    assert "second factor failed" in history
    assert "203.0.113.7" in history

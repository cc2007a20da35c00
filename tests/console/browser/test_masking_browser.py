"""Masked personal data in a real browser: an Agent's account page shows the person masked,
"Reveal" opens a dialog asking why, and its answer shows the values for that page view only;
axe finds nothing serious; screenshots at 1366x768 and 390x844."""

import pytest
from playwright.sync_api import expect

from portal.models import AuditEvent, ReasonPreset
from tests.console.browser.a11y import assert_no_serious_violations
from tests.console.browser.conftest import SCREENSHOTS
from tests.console.browser.steps import sign_in
from tests.factories import AccountFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
EMAIL = "maria.garcia@example.com"


def screen_shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_a_masked_account_page_and_its_reveal_dialog(page, live_server, make_staff, csp_violations):
    tenant = TenantFactory(name="Acme")
    preset = ReasonPreset.objects.create(
        tenant=tenant, label="Caller verified", text="Caller verified with two questions."
    )
    agent = make_staff("Agent", tenant, username="ann.agent")
    maria = AccountFactory(
        tenant=tenant, first_name="Maria", last_name="Garcia", email=EMAIL, phone_id="+14155550123"
    )
    url = f"{live_server.url}/console/accounts/{tenant.slug}/{maria.uid}/"
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, agent)
    page.goto(url)

    expect(page.get_by_role("heading", level=1, name="M••• G•••")).to_be_visible()
    expect(page.locator(".account-email")).to_have_text("ma•••@example.com")
    expect(page.locator("#account-phone")).to_contain_text("+1 415 •••• 123")
    assert EMAIL not in page.content() and "Maria" not in page.content()
    assert_no_serious_violations(page)
    screen_shot(page, "masked-account-1366x768")
    page.set_viewport_size(PHONE)
    screen_shot(page, "masked-account-390x844")
    page.set_viewport_size(LAPTOP)

    page.locator("#action-reveal").click()
    dialog = page.get_by_role("dialog", name="Reveal personal data — M••• G•••")
    expect(dialog).to_be_visible()
    expect(dialog.locator("textarea[name=reason]")).to_have_value(preset.text)
    dialog.get_by_label("Ticket reference").fill("SUP-77")
    assert_no_serious_violations(page)
    screen_shot(page, "reveal-dialog-1366x768")
    page.set_viewport_size(PHONE)
    screen_shot(page, "reveal-dialog-390x844")
    page.set_viewport_size(LAPTOP)

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        dialog.get_by_role("button", name="Reveal").click()
    assert answer.value.headers["cache-control"] == "no-store"
    expect(page.get_by_role("heading", level=1, name="Maria Garcia")).to_be_visible()
    expect(page.locator(".account-email")).to_have_text(EMAIL)
    expect(page.locator("#revealed-note")).to_be_visible()
    assert_no_serious_violations(page)
    screen_shot(page, "revealed-account-1366x768")
    event = AuditEvent.objects.get(action="account.personal_data_revealed")
    assert (event.subject_uid, event.reason, event.ticket) == (maria.uid, preset.text, "SUP-77")

    # The next page view is masked again.
    page.goto(url)
    expect(page.get_by_role("heading", level=1, name="M••• G•••")).to_be_visible()
    assert EMAIL not in page.content()
    assert csp_violations == []

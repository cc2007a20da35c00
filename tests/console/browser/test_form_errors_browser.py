"""After a refused submit, focus moves to the first error: the account search's date range
(static/console/form-errors.js), and the other full-page console forms alike."""

import re

import pytest
from playwright.sync_api import expect

from tests.console.browser.a11y import assert_no_serious_violations
from tests.console.browser.conftest import SCREENSHOTS
from tests.console.browser.steps import sign_in
from tests.factories import AccountFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RANGE_ERROR = "The end of the range is before its start."


def focused(page) -> dict:
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            return {id: e.id, tag: e.tagName, text: (e.textContent || '').trim(),
                    invalid: e.getAttribute('aria-invalid')};
        }"""
    )


def test_a_refused_search_puts_the_focus_on_the_date_range_error(
    page, live_server, make_staff, csp_violations
):
    tenant = TenantFactory(name="Acme")
    AccountFactory(tenant=tenant, first_name="Maria", last_name="Garcia")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, make_staff("Agent", tenant))
    page.goto(f"{live_server.url}/console/accounts/")
    page.locator("#id_created_from").fill("2026-03-10")
    page.locator("#id_created_to").fill("2026-03-01")
    page.locator("#id_q").click()
    page.get_by_role("button", name="Search", exact=True).click()

    alert = page.get_by_role("alert").filter(has_text=RANGE_ERROR).first
    expect(alert).to_be_visible()
    # The focus is on the error: the invalid field itself, or the message naming it.
    expect(page.locator(":focus")).to_have_count(1)
    where = focused(page)
    assert where["id"] == "id_created_to" or RANGE_ERROR in where["text"], where
    if where["id"] == "id_created_to":
        assert where["invalid"] == "true"
        expect(page.locator("#id_created_to")).to_have_attribute(
            "aria-describedby", re.compile(r"\S")
        )
    assert_no_serious_violations(page)
    page.screenshot(path=str(SCREENSHOTS / "search-refused-range-1366x768.png"))
    assert csp_violations == []


def test_a_full_page_refusal_puts_the_focus_on_its_first_error_not_on_autofocus(
    page, live_server, make_staff
):
    tenant = TenantFactory(name="Acme")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, make_staff("Agent", tenant))
    page.goto(f"{live_server.url}/console/accounts/?created_from=2026-03-10&created_to=2026-03-01")
    expect(page.get_by_role("alert").filter(has_text=RANGE_ERROR).first).to_be_visible()
    where = focused(page)
    assert where["id"] != "id_q", where  # the box's autofocus does not win over the error
    assert where["id"] == "id_created_to" or RANGE_ERROR in where["text"], where


def test_an_unrefused_page_keeps_its_own_focus(page, live_server, make_staff):
    tenant = TenantFactory(name="Acme")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, make_staff("Agent", tenant))
    page.goto(f"{live_server.url}/console/accounts/")
    expect(page.locator("#id_q")).to_be_focused()

"""The dashboard in Chromium: its figures say when they were counted, each card opens the
search it counts, a chart of one day reads as one bar, axe finds nothing serious, and both
sizes are photographed."""

import re

import pytest
from playwright.sync_api import expect

from portal.audit import Actor
from security.commands import AccountLock
from security.services import account_lock
from tests.console.browser.a11y import assert_no_serious_violations
from tests.console.browser.conftest import SCREENSHOTS
from tests.console.browser.steps import sign_in
from tests.factories import AccountFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"1366x768": {"width": 1366, "height": 768}, "390x844": {"width": 390, "height": 844}}


def test_the_dashboard_reads_well_and_its_cards_open_their_searches(
    page, live_server, make_staff, csp_violations
):
    tenant = TenantFactory(name="Acme Support")
    people = [AccountFactory(tenant=tenant, first_name=f"Person{i}") for i in range(5)]
    account_lock(
        AccountLock(reason="Suspicious sign-ins"),
        tenant=tenant,
        actor=Actor.system("t"),
        account=people[0],
    )
    sign_in(page, live_server, make_staff("Agent", tenant))
    page.goto(f"{live_server.url}/console/")
    accounts = page.locator("article").filter(has_text="Accounts").first
    expect(accounts.locator(".stat")).to_have_text("5")
    expect(accounts).to_contain_text(re.compile(r"as of \d\d:\d\d UTC"))
    # Every account was created today: one bar, not a filled box.
    bars = page.locator("figure.chart").filter(has_text="Sign-ups per day").locator("rect.bar")
    tall = [b for b in bars.all() if float(b.get_attribute("height")) > 0]
    assert len(tall) == 1 and float(tall[0].get_attribute("width")) <= 64
    for name, size in SIZES.items():
        page.set_viewport_size(size)
        assert_no_serious_violations(page)
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=True)
    page.set_viewport_size(SIZES["1366x768"])

    page.get_by_role("link", name=re.compile(r"Lockouts now")).click()
    expect(page).to_have_url(re.compile(r"/console/accounts/\?.*locked=yes"))
    expect(page.locator("#account-results tbody tr")).to_have_count(1)
    expect(page.locator("#account-results")).to_contain_text(people[0].uid[:8])
    assert csp_violations == []

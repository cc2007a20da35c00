"""The header search in Chromium: the `/` shortcut, the typeahead, the fast path from the
dashboard, result rows that read as people, the narrow layout, and axe on these screens."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm
from playwright.sync_api import expect

from portal import staff
from tests.console.browser.a11y import assert_no_serious_violations
from tests.console.browser.conftest import SCREENSHOTS
from tests.console.browser.steps import PHONE, Steps, sign_in
from tests.factories import AccountFactory, AccountLockoutFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 768}


def typeahead_options(page):
    return page.locator("#header-search-list [role=option][data-account]")


def shows_people_in_full(tenant):
    """These tests are about finding people: this tenant shows Agents personal data in full
    (masked readers get exact matches only: tests/console/test_masking.py)."""
    tenant.settings = {**tenant.settings, "masked_roles": []}
    tenant.save(update_fields=["settings"])
    return tenant


@pytest.fixture
def people(db):
    tenant = shows_people_in_full(TenantFactory(name="Acme Support"))
    maria = AccountFactory(
        tenant=tenant,
        first_name="Maria",
        last_name="Garcia",
        email="maria.garcia@example.com",
        last_login_date=datetime.now(UTC) - timedelta(hours=5),
    )
    AccountLockoutFactory(account=maria)
    marco = AccountFactory(
        tenant=tenant, first_name="Marco", last_name="Polo", email="marco.polo@example.com"
    )
    AccountFactory(tenant=tenant, first_name="Bob", last_name="Stone", email="bob@example.com")
    return {"tenant": tenant, "maria": maria, "marco": marco}


def account_url(live_server, tenant, account) -> str:
    return live_server.url + reverse("console:account_detail", args=[tenant.slug, account.uid])


def test_slash_focuses_the_search_and_the_typeahead_opens_a_match(
    page, live_server, make_staff, people, csp_violations
):
    tenant, marco = people["tenant"], people["marco"]
    sign_in(page, live_server, make_staff("Agent", tenant))
    page.goto(f"{live_server.url}/console/audit/")
    search = page.locator("#header-q")
    expect(search).not_to_be_focused()

    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("")

    page.keyboard.type("mar")
    options = typeahead_options(page)
    expect(options).to_have_count(2)
    expect(search).to_have_attribute("aria-expanded", "true")
    maria_option = options.filter(has_text="Maria Garcia")
    expect(maria_option).to_contain_text("maria.garcia@example.com")
    expect(maria_option).to_contain_text("Locked")
    expect(maria_option).to_contain_text("last sign-in")
    # The arrow keys walk the list.
    page.keyboard.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(search).to_have_attribute("aria-activedescendant", options.nth(0).get_attribute("id"))
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Escape")
    expect(page.locator("#header-search-list")).to_have_count(0)
    expect(search).to_have_attribute("aria-expanded", "false")

    # Enter with several matches and none picked: the full results.
    page.keyboard.type("c")  # "marc": one match again
    expect(typeahead_options(page)).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page).to_have_url(account_url(live_server, tenant, marco))

    # "/" typed into a field stays a character.
    page.goto(f"{live_server.url}/console/audit/")
    search = page.locator("#header-q")
    search.click()
    page.keyboard.type("a/b")
    expect(search).to_have_value("a/b")
    assert csp_violations == []


def test_enter_with_several_matches_opens_the_full_results(page, live_server, make_staff, people):
    sign_in(page, live_server, make_staff("Agent", people["tenant"]))
    page.keyboard.type("mar")
    expect(typeahead_options(page)).to_have_count(2)
    page.keyboard.press("Enter")
    # The results page: the typed text is posted and kept by a key, never in the URL.
    expect(page).to_have_url(re.compile(r"/console/accounts/\?s=[\w-]+$"))
    expect(page.locator("#account-results tbody tr")).to_have_count(2)


def test_fast_path_unlock_found_by_partial_email_reaches_the_account_in_two_steps(
    page, live_server, make_staff, people
):
    """Counted from the dashboard: type part of the email, Enter. (Unlock and its
    confirmation on the account page make it four.)"""
    tenant, maria = people["tenant"], people["maria"]
    sign_in(page, live_server, make_staff("Agent", tenant))
    expect(page.locator("#header-q")).to_be_focused()  # the dashboard's first task
    steps = Steps(page)

    steps.type("garcia@exa")
    expect(typeahead_options(page)).to_have_count(1)
    steps.press("Enter")

    expect(page).to_have_url(account_url(live_server, tenant, maria))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Maria Garcia")
    assert steps.count <= 2


def test_result_rows_fill_the_screen_and_each_row_opens_its_account(page, live_server, make_staff):
    tenant = shows_people_in_full(TenantFactory(name="Acme Support"))
    accounts = [
        AccountFactory(
            tenant=tenant, first_name="Zed", last_name=f"Person{i:02d}", email=f"zed{i}@example.com"
        )
        for i in range(30)
    ]
    for account in accounts[::4]:
        AccountLockoutFactory(account=account)
    sign_in(page, live_server, make_staff("Agent", tenant))
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/console/accounts/?q=zed")
    rows = page.locator("#account-results tbody tr")
    expect(rows).to_have_count(25)

    bottoms = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().bottom)")
    above_fold = sum(1 for bottom in bottoms if bottom <= DESKTOP["height"])
    assert above_fold >= 15, bottoms
    # No horizontal scrolling at 1366 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]

    # The copy button copies (and stays on the page); anywhere else on the row opens it.
    newest = accounts[-1]
    first = rows.nth(0)
    expect(first.get_by_role("link")).to_have_text("Zed Person29")
    first.get_by_role("button", name="Copy UID of Zed Person29").click()
    expect(page).to_have_url(re.compile(r"\?s=[\w-]+$"))
    # A click anywhere on the row (here the middle of its MFA cell) lands on the name's link.
    cell = first.locator("td").nth(4).bounding_box()
    page.mouse.click(cell["x"] + cell["width"] / 2, cell["y"] + cell["height"] / 2)
    expect(page).to_have_url(account_url(live_server, tenant, newest))


def test_narrow_screen_collapses_the_header_and_the_filters(page, live_server, make_staff, people):
    sign_in(page, live_server, make_staff("Agent", people["tenant"]))
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/console/accounts/?q=mar")
    menu = page.get_by_role("button", name="Menu")
    audit_link = page.get_by_role("link", name="Audit log")
    expect(audit_link).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(audit_link).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "search-menu-open-390x844.png"))
    menu.click()
    expect(audit_link).to_be_hidden()

    filters = page.get_by_role("button", name=re.compile(r"^Filters"))
    blocked = page.get_by_label("Blocked")
    expect(blocked).to_be_hidden()
    filters.click()
    expect(blocked).to_be_visible()
    expect(page.locator("#header-q")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_every_control_shows_a_focus_ring(page, live_server, make_staff, people):
    sign_in(page, live_server, make_staff("Agent", people["tenant"]))
    page.goto(f"{live_server.url}/console/accounts/?q=mar")
    seen = 0
    for _ in range(14):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth,"
            " document.activeElement.id || document.activeElement.textContent]; })()"
        )
        if outline[0] == "BODY":
            continue
        seen += 1
        assert outline[1] != "none" and outline[2] != "0px", outline
    assert seen >= 10


def test_dashboard_and_search_pass_axe_and_are_photographed(
    page, live_server, make_staff, people, csp_violations
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tenant = people["tenant"]
    for i in range(24):
        AccountFactory(
            tenant=tenant,
            first_name="Maren",
            last_name=f"Example{i:02d}",
            email_verified=i % 3 == 0,
            is_active=i % 7 != 0,
            last_login_date=datetime.now(UTC) - timedelta(days=i) if i % 2 else None,
        )
    sign_in(page, live_server, make_staff("Agent", tenant))
    screens = {
        "search-dashboard": f"{live_server.url}/console/",
        "search-results": f"{live_server.url}/console/accounts/?q=mar",
    }
    for size_name, size in (("1366x768", DESKTOP), ("390x844", PHONE)):
        page.set_viewport_size(size)
        for name, url in screens.items():
            page.goto(url)
            expect(page.locator("#header-q")).to_be_visible()
            assert_no_serious_violations(page)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size_name}.png"))
        # The typeahead open over the dashboard.
        page.goto(screens["search-dashboard"])
        page.locator("#header-q").fill("mar")
        expect(typeahead_options(page).first).to_be_visible()
        assert_no_serious_violations(page)
        page.screenshot(path=str(SCREENSHOTS / f"search-typeahead-{size_name}.png"))
    assert csp_violations == []


def test_an_admins_header_stays_one_row_at_1366(page, live_server, make_staff, people):
    admin = make_staff("Admin", people["tenant"])
    # A second tenant brings the tenant switcher (a select and a button) into the header.
    second = TenantFactory(name="Globex Corporation Europe")
    for perm in staff.TENANT_PERMISSIONS:
        assign_perm(f"portal.{perm}", admin, second)
    sign_in(page, live_server, admin)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/console/accounts/?q=mar")
    expect(page.get_by_role("link", name="Tenants")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "search-admin-header-1366x768.png"))
    expect(page.get_by_label("Tenant", exact=True)).to_be_visible()
    header = page.locator(".console-header").bounding_box()
    assert header["height"] < 70, header
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]

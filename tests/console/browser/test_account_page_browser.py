"""The account page in Chromium: the summary above the fold, nothing wider than the screen at
1366 and 390 px, the fast paths counted in steps, the timeline's htmx paging and filters, the
copy button, accessibility, and screenshots of both sizes."""

import pytest
from playwright.sync_api import expect

from portal.models import AuditEvent
from security.models import TotpFactor
from tests.console.browser.a11y import assert_no_serious_violations
from tests.console.browser.conftest import SCREENSHOTS
from tests.console.browser.steps import LAPTOP, PHONE, Steps, sign_in
from tests.console.test_account_actions import _make_session
from tests.console.test_account_page import busy_account
from tokens.models import TokenFamily

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def maria(make_staff):
    from tests.factories import TenantFactory

    # The fast paths count the action itself: nothing is held for a second person here
    # (test_approvals_browser.py walks a held action).
    tenant = TenantFactory(name="Acme Stores", settings={"approval_gates": []})
    lead = make_staff("Lead", tenant, username="lee.lead")
    account = busy_account(tenant, lead)
    return tenant, lead, account


def open_account(page, live_server, account):
    page.goto(f"{live_server.url}/console/accounts/{account.tenant.slug}/{account.uid}/")
    expect(page.locator("#account-uid")).to_have_text(account.uid)


def overflow_report(page) -> dict:
    """The page's width against the viewport's, and every card wider than itself."""
    return page.evaluate(
        """() => ({
            scrollWidth: document.documentElement.scrollWidth,
            viewport: window.innerWidth,
            cards: [...document.querySelectorAll('main article, main section, main nav')]
                .filter(e => e.scrollWidth > e.clientWidth + 1)
                .map(e => (e.id || e.className) + ' ' + e.scrollWidth + '>' + e.clientWidth),
        })"""
    )


def test_the_page_fits_1366_with_the_summary_above_the_fold(
    page, live_server, maria, shot, csp_violations
):
    _tenant, lead, account = maria
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, lead)
    open_account(page, live_server, account)
    summary = page.locator("#summary").bounding_box()
    assert summary is not None and summary["y"] + summary["height"] <= LAPTOP["height"]
    for element in ("#summary-status", "#summary-sessions", "#summary-last-signin"):
        expect(page.locator(element)).to_be_in_viewport()
    expect(page.locator("#summary-status")).to_contain_text("too many wrong passwords")
    report = overflow_report(page)
    assert report["scrollWidth"] <= LAPTOP["width"], report
    assert report["cards"] == [], report
    page.screenshot(path=str(SCREENSHOTS / "account-page-1366x768-fold.png"))
    shot(page, "account-page-1366x768")
    assert_no_serious_violations(page)
    # Open too: the Actions menu and an event's changes.
    page.locator("#timeline details.timeline-diff summary").first.click()
    page.locator("#actions-menu summary").click()
    expect(page.locator("#action-block")).to_be_visible()
    assert_no_serious_violations(page)
    assert csp_violations == []


def test_the_page_fits_390(page, live_server, maria, shot):
    _tenant, lead, account = maria
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, lead)
    open_account(page, live_server, account)
    report = overflow_report(page)
    assert report["scrollWidth"] <= PHONE["width"], report
    assert report["cards"] == [], report
    page.screenshot(path=str(SCREENSHOTS / "account-page-390x844-fold.png"))
    shot(page, "account-page-390x844")
    # The timeline's changes open inside its card without widening the page.
    page.locator("#timeline details.timeline-diff summary").first.click()
    assert overflow_report(page)["scrollWidth"] <= PHONE["width"]
    # The Actions menu opens within the screen.
    page.locator("#actions-menu summary").click()
    menu = page.locator("#actions-menu ul").bounding_box()
    assert menu is not None and menu["x"] >= 0 and menu["x"] + menu["width"] <= PHONE["width"]
    assert_no_serious_violations(page)


def test_the_actions_menu_holds_block_impersonate_and_delete(page, live_server, maria):
    _tenant, lead, account = maria
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, lead)
    open_account(page, live_server, account)
    expect(page.locator("#action-unlock")).to_be_visible()  # locked: Unlock comes first
    expect(page.locator("#action-block")).to_be_hidden()
    page.locator("#actions-menu summary").click()
    for name in ("block", "impersonate"):
        expect(page.locator(f"#action-{name}")).to_be_visible()


def test_reset_one_second_factor_from_the_account_page(page, live_server, maria):
    _tenant, lead, account = maria
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, lead)
    open_account(page, live_server, account)
    steps = Steps(page)
    steps.click(page.locator("#reset-totp"))
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_contain_text("Maria Garcia")
    page.screenshot(path=str(SCREENSHOTS / "account-page-dialog-reset-factor-1366x768.png"))
    steps.fill(dialog.get_by_label("Reason"), "Lost phone; identity checked on a call")
    steps.click(dialog.locator("#confirm-action"))
    expect(page.get_by_text("Factor reset.")).to_be_visible()
    expect(page.locator("#reset-totp")).to_have_count(0)
    expect(page.locator("#timeline")).to_contain_text("Second factor reset by agent lee.lead")
    assert not TotpFactor.objects.filter(account=account).exists()
    assert steps.count == 3


def test_revoke_all_sessions_from_the_account_page(page, live_server, maria):
    _tenant, lead, account = maria
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, lead)
    open_account(page, live_server, account)
    expect(page.locator("#account-sessions")).to_have_text("2")
    steps = Steps(page)
    steps.click(page.locator("#action-sessions_revoke_all"))
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    steps.fill(dialog.get_by_label("Reason"), "Password leaked: sign out everywhere")
    steps.click(dialog.locator("#confirm-action"))
    expect(page.locator("#account-sessions")).to_have_text("0")
    expect(page.locator("#summary-sessions")).to_contain_text("signed out everywhere")
    assert not TokenFamily.objects.filter(account=account, revoked_at__isnull=True).exists()
    assert steps.count == 3


def test_older_events_and_filters_load_in_place(page, live_server, maria):
    from django.db import transaction

    from portal import audit
    from portal.audit import Actor

    tenant, lead, account = maria
    with transaction.atomic():
        for i in range(55):
            audit.record(
                tenant=tenant,
                actor=Actor.system("import"),
                action="account.updated",
                subject_uid=account.uid,
                reason=f"bulk fix {i:02d}",
            )
    total = AuditEvent.objects.filter(tenant=tenant, subject_uid=account.uid).count()
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, lead)
    open_account(page, live_server, account)
    events = page.locator("#timeline-events > li.timeline-event")
    expect(events).to_have_count(50)
    url_before = page.url
    page.locator("#timeline-more a").click()
    expect(events).to_have_count(total)
    expect(page.locator("#timeline-more")).to_have_count(0)
    assert page.url == url_before  # loaded in place
    page.locator("#timeline-kind").select_option("signin")
    expect(page.locator("#timeline-events")).to_contain_text("Signed in")
    expect(page.locator("#timeline-events")).not_to_contain_text("bulk fix")
    expect(events).to_have_count(
        AuditEvent.objects.filter(
            tenant=tenant, subject_uid=account.uid, action__startswith="signin."
        ).count()
        + AuditEvent.objects.filter(
            tenant=tenant, subject_uid=account.uid, action="account.login_recorded"
        ).count()
    )


def test_the_copy_button_copies_the_uid(page, live_server, maria, context):
    _tenant, lead, account = maria
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, live_server, lead)
    open_account(page, live_server, account)
    page.get_by_role("button", name="Copy UID").click()
    expect(page.locator("#account-uid-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == account.uid


def test_more_sessions_than_the_summary_shows_link_to_the_list(page, live_server, maria):
    tenant, lead, account = maria
    for _ in range(3):
        _make_session(tenant, account)
    sign_in(page, live_server, lead)
    open_account(page, live_server, account)
    expect(page.locator("#summary-sessions li")).to_have_count(3)
    page.locator("#summary-sessions").get_by_role("link", name="2 more").click()
    expect(page.locator("#sessions")).to_be_in_viewport()

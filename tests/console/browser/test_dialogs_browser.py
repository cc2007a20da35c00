"""Confirmation dialogs in place (htmx), reason presets and the remembered ticket, and the
audit log, in a real browser: no page load before the confirm, focus inside the dialog,
Escape closes it, axe finds nothing serious, screenshots at 1366x768 and 390x844."""

import pytest
from django.db import transaction
from playwright.sync_api import expect

from portal import audit
from portal.audit import Actor
from portal.models import AuditEvent, ReasonPreset
from security.models import AccountLockout
from tests.console.browser.a11y import assert_no_serious_violations
from tests.console.browser.conftest import SCREENSHOTS
from tests.console.browser.steps import sign_in
from tests.factories import AccountFactory, AccountLockoutFactory, TenantFactory
from tokens.models import TokenFamily

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/128.0 Safari/537.36"
)


def screen_shot(page, name: str) -> None:
    """What the viewport shows (an open dialog covers the viewport, not the whole page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def open_account(page, live_server, account):
    page.goto(f"{live_server.url}/console/accounts/{account.tenant.slug}/{account.uid}/")
    expect(page.locator("#dialog-slot")).to_be_attached()
    # A mark on this document: it survives only while no page load happens.
    page.evaluate("document.documentElement.dataset.samePage = 'yes'")


def still_same_page(page) -> bool:
    return page.evaluate("document.documentElement.dataset.samePage === 'yes'")


def focus_is_inside_dialog(page) -> bool:
    return page.evaluate(
        "document.getElementById('action-dialog').contains(document.activeElement)"
    )


def _session(account, user_agent):
    from tokens.commands import SessionIssue
    from tokens.services.sessions import session_issue

    command = SessionIssue(device={"ip": "203.0.113.9", "user_agent": user_agent})
    session_issue(command, tenant=account.tenant, account=account, actor=Actor.account(account.uid))


def test_unlock_in_a_dialog_with_a_preset_and_the_ticket_remembered(
    page, live_server, make_staff, shot, csp_violations
):
    tenant = TenantFactory(name="Acme")
    preset = ReasonPreset.objects.create(
        tenant=tenant, label="Identity verified", text="Caller identity verified by phone."
    )
    agent = make_staff("Agent", tenant)
    maria = AccountLockoutFactory(
        account__tenant=tenant, account__first_name="Maria", account__last_name="Garcia"
    ).account
    other = AccountLockoutFactory(
        account__tenant=tenant, account__first_name="Tom", account__last_name="Other"
    ).account
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, agent)
    open_account(page, live_server, maria)

    page.locator("#action-unlock").click()
    # An Agent reads the person masked in the dialog's title (the tenant's default).
    dialog = page.get_by_role("dialog", name="Unlock account — M••• G•••")
    expect(dialog).to_be_visible()
    assert focus_is_inside_dialog(page)
    expect(dialog.get_by_text("Locked since")).to_be_visible()
    dialog.get_by_label("Reason preset").select_option(label=preset.label)
    expect(dialog.locator("textarea[name=reason]")).to_have_value(preset.text)
    dialog.get_by_label("Ticket reference").fill("SUP-2024")
    assert_no_serious_violations(page)
    screen_shot(page, "dialog-unlock-1366x768")
    page.set_viewport_size(PHONE)
    screen_shot(page, "dialog-unlock-390x844")
    page.set_viewport_size(LAPTOP)
    assert still_same_page(page)  # opened in place: no page load so far

    dialog.get_by_role("button", name="Unlock account").click()
    expect(page.get_by_text("Account unlocked.")).to_be_visible(timeout=30_000)
    assert not still_same_page(page)  # the confirm's answer reloads the account page
    assert not AccountLockout.objects.filter(account=maria).exists()
    event = AuditEvent.objects.get(subject_uid=maria.uid, action="account.unlocked")
    assert (event.reason, event.ticket) == (preset.text, "SUP-2024")

    # The next action of this sign-in offers the same ticket.
    open_account(page, live_server, other)
    page.locator("#action-unlock").click()
    expect(page.get_by_role("dialog").get_by_label("Ticket reference")).to_have_value("SUP-2024")
    assert csp_violations == []


def test_revoke_all_sessions_says_which_and_escape_closes_without_a_change(
    page, live_server, make_staff, shot
):
    tenant = TenantFactory(name="Acme")
    agent = make_staff("Agent", tenant)
    maria = AccountFactory(tenant=tenant, first_name="Maria", last_name="Garcia")
    _session(maria, FIREFOX_LINUX)
    _session(maria, CHROME_WINDOWS)
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, agent)
    open_account(page, live_server, maria)

    opener = page.locator("#action-sessions_revoke_all")
    opener.click()
    dialog = page.get_by_role("dialog", name="Revoke all sessions — M••• G•••")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("Ends 2 sessions:")).to_be_visible()
    expect(dialog.get_by_text("Firefox on Linux")).to_be_visible()
    assert focus_is_inside_dialog(page)
    page.keyboard.press("Escape")
    expect(page.locator("#action-dialog")).to_have_count(0)
    expect(opener).to_be_focused()  # focus goes back where it was
    assert still_same_page(page)
    assert TokenFamily.objects.filter(account=maria, revoked_at__isnull=True).count() == 2

    # Cancel closes too; a refused confirm keeps the dialog, with focus on the first error.
    opener.click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#action-dialog")).to_have_count(0)
    opener.click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Revoke all sessions").click()
    expect(dialog.get_by_role("alert")).to_contain_text(
        "Reason: This field is required", timeout=30_000
    )
    expect(dialog.locator("textarea[name=reason]")).to_be_focused()
    assert still_same_page(page)
    assert TokenFamily.objects.filter(account=maria, revoked_at__isnull=True).count() == 2
    assert_no_serious_violations(page)

    dialog.locator("textarea[name=reason]").fill("Phone stolen")
    dialog.get_by_role("button", name="Revoke all sessions").click()
    expect(page.get_by_text("All sessions revoked.")).to_be_visible(timeout=30_000)
    assert TokenFamily.objects.filter(account=maria, revoked_at__isnull=True).count() == 0

    page.set_viewport_size(PHONE)
    open_account(page, live_server, AccountFactory(tenant=tenant, first_name="Ana", last_name="Li"))
    page.get_by_role("button", name="Actions").click()
    page.locator("#action-block").click()
    expect(page.get_by_role("dialog", name="Block account — A••• L•••")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide at 390px"
    assert_no_serious_violations(page)
    screen_shot(page, "dialog-block-390x844")


def test_the_audit_log_reads_as_people_speak_and_opens_each_event(
    page, live_server, make_staff, shot, csp_violations
):
    # About the log's layout with long values: this tenant shows Viewers personal data in
    # full (tests/console/test_masking.py covers the masked log).
    tenant = TenantFactory(name="Acme", settings={"masked_roles": []})
    viewer = make_staff("Viewer", tenant, username="lee.lead")
    maria = AccountFactory(tenant=tenant, first_name="Maria", last_name="Garcia")
    with transaction.atomic():
        for n in range(55):
            audit.record(
                tenant=tenant,
                actor=Actor.staff(viewer),
                action="account.updated",
                subject_uid=maria.uid,
                reason=f"Corrected the name as the customer asked on the phone, call {n}",
                ticket=f"SUP-{1000 + n}",
                changes={
                    "FirstName": ["Mria", "Maria"],
                    "LastName": ["Garcia-Lopez-de-la-Fuente-y-Martinez", "Garcia"],
                },
            )
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, viewer)
    page.get_by_role("link", name="Audit log").click()
    table = page.locator("#audit-events")
    first = table.locator(":scope > tbody > tr").first
    expect(first.get_by_role("link", name="Profile edited")).to_be_visible()
    expect(first.get_by_text("agent lee.lead")).to_be_visible()
    expect(first.get_by_role("link", name="Maria Garcia")).to_be_visible()
    # Timestamps on one line; the Changes column wraps inside the page.
    when = first.locator("td.when")
    line_height = when.evaluate("cell => parseFloat(getComputedStyle(cell).lineHeight) || 20")
    assert when.bounding_box()["height"] < 2 * line_height + 16
    first.locator("td.changes summary").click()
    expect(first.locator("td.changes ins").first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= LAPTOP["width"], f"the audit log is {width}px wide"
    assert_no_serious_violations(page)
    screen_shot(page, "audit-log-1366x768")
    shot(page, "audit-log-1366-full")

    expect(table.locator(":scope > tbody > tr")).to_have_count(50)
    page.locator("#page-older").click()
    expect(table.locator(":scope > tbody > tr")).to_have_count(5)

    table.locator(":scope > tbody > tr").first.get_by_role("link", name="Profile edited").click()
    expect(page.get_by_role("heading", name="Profile edited by agent lee.lead")).to_be_visible()
    expect(page.locator("#audit-event ins").first).to_be_visible()
    assert_no_serious_violations(page)
    screen_shot(page, "audit-event-1366x768")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/console/audit/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the audit log is {width}px wide at 390px"
    assert_no_serious_violations(page)
    screen_shot(page, "audit-log-390x844")
    page.locator("#audit-events > tbody > tr").first.locator("td.changes summary").click()
    screen_shot(page, "audit-log-390x844-diff-open")
    assert csp_violations == []


def test_an_admin_manages_reason_presets(page, live_server, make_staff, shot, csp_violations):
    tenant = TenantFactory(name="Acme")
    admin = make_staff("Admin", tenant, username="admin.ada")
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, admin)
    page.goto(f"{live_server.url}/console/tenants/{tenant.slug}/")
    page.locator("#reason-presets-link").click()
    expect(page.get_by_role("heading", name="Reason presets")).to_be_visible()
    page.get_by_label("Label").fill("Lost phone")
    page.get_by_label("Reason").fill("Lost phone; identity checked on a video call.")
    page.locator("#preset-save").click()
    expect(page.get_by_text("Preset “Lost phone” added.")).to_be_visible()
    page.get_by_label("Label").fill("lost phone")
    page.get_by_label("Reason").fill("Again")
    page.locator("#preset-save").click()
    expect(page.locator("#id_label")).to_be_focused()  # focus goes to the first error
    expect(page.get_by_role("alert")).to_contain_text("already has a preset named")
    assert_no_serious_violations(page)
    screen_shot(page, "reason-presets-1366x768")
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the presets screen is {width}px wide at 390px"
    screen_shot(page, "reason-presets-390x844")
    assert list(ReasonPreset.objects.values_list("label", flat=True)) == ["Lost phone"]
    assert csp_violations == []

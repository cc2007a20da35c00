"""Guided recovery in a real browser: an agent opens a case for a locked-out holder, sends
a code to the verified address, records a document check, and schedules the reset behind
a cooling-off period; the holder opens the cancel link (which changes nothing) and cancels
with the page's button. Axe on every screen; screenshots at 1366x768 and 390x844."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import AccountEmail
from portal import crypto
from security.models import RecoveryCase, TotpFactor
from tests.console.browser.a11y import assert_no_serious_violations
from tests.console.browser.test_dialogs_browser import LAPTOP, PHONE, screen_shot
from tests.factories import AccountFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("eager_tasks")
def test_an_agent_walks_a_recovery_and_the_holder_cancels_it(
    page, browser, live_server, make_staff, csp_violations, settings
):
    from tests.console.browser.steps import sign_in

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_BASE_URL = live_server.url
    tenant = TenantFactory(
        name="Acme Stores",
        settings={
            "recovery_checks": ["code", "document"],
            "recovery_cooling_off_hours": 24,
            "approval_gates": [],
        },
    )
    agent = make_staff("Agent", tenant, username="ann.agent")
    maria = AccountFactory(
        tenant=tenant, first_name="Maria", last_name="Garcia", email="maria@example.com"
    )
    AccountEmail.objects.filter(account=maria).update(verified=True)
    TotpFactor.objects.create(
        tenant=tenant, account=maria, confirmed=True, secret_encrypted=crypto.encrypt("S" * 32)
    )

    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, agent)
    page.goto(f"{live_server.url}/console/accounts/{tenant.slug}/{maria.uid}/recovery/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Guided recovery")
    assert_no_serious_violations(page)
    screen_shot(page, "recovery-start-1366x768")
    page.set_viewport_size(PHONE)
    screen_shot(page, "recovery-start-390x844")
    page.set_viewport_size(LAPTOP)
    page.get_by_label("What the holder needs").select_option("factor.reset")
    page.get_by_label("Second factor to reset").select_option("totp")
    page.get_by_label("Reason").fill("Lost phone, locked out")
    page.get_by_label("Ticket").fill("SUP-31")
    page.get_by_role("button", name="Open the case").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Recovery case")
    case = RecoveryCase.objects.get()

    mail.outbox.clear()
    page.get_by_role("button", name="Send a code").click()
    expect(page.get_by_text("Code sent.")).to_be_visible()
    [sent] = mail.outbox
    assert sent.to == ["maria@example.com"]
    code = re.search(r"code: (\d{6})", sent.body).group(1)
    page.get_by_label("Code the holder reads back").fill(code)
    page.get_by_role("button", name="Check the code").click()
    expect(page.get_by_text("The code matches.")).to_be_visible()
    page.get_by_label("Reference of the document check").fill("DOC-2231")
    page.get_by_label("I checked the holder's identity document").check()
    page.get_by_role("button", name="Record the document check").click()
    expect(page.get_by_role("button", name="Schedule the change")).to_be_visible()
    assert_no_serious_violations(page)
    screen_shot(page, "recovery-case-1366x768")
    page.set_viewport_size(PHONE)
    screen_shot(page, "recovery-case-390x844")
    page.set_viewport_size(LAPTOP)

    mail.outbox.clear()
    page.get_by_role("button", name="Schedule the change").click()
    expect(page.locator("#recovery-status")).to_have_text("scheduled")
    screen_shot(page, "recovery-scheduled-1366x768")
    [notice] = mail.outbox
    assert notice.to == ["maria@example.com"]
    link = re.search(r"https?://\S+/recovery/cancel/\?token=\S+", notice.body).group(0)
    assert TotpFactor.objects.filter(account=maria).exists()

    # The holder, without any sign-in: opening the link changes nothing; the button does.
    holder = browser.new_context(viewport=PHONE, reduced_motion="reduce")
    holder_page = holder.new_page()
    holder_page.goto(link)
    expect(holder_page.get_by_role("heading", level=1)).to_contain_text("Cancel a change")
    case.refresh_from_db()
    assert case.status == RecoveryCase.SCHEDULED
    assert_no_serious_violations(holder_page)
    screen_shot(holder_page, "recovery-cancel-390x844")
    holder_page.set_viewport_size(LAPTOP)
    screen_shot(holder_page, "recovery-cancel-1366x768")
    holder_page.get_by_role("button", name="Cancel this change").click()
    expect(holder_page.get_by_role("heading", level=1)).to_have_text("The change is cancelled")
    assert_no_serious_violations(holder_page)
    screen_shot(holder_page, "recovery-cancelled-1366x768")
    holder.close()

    case.refresh_from_db()
    assert case.status == RecoveryCase.CANCELLED
    page.reload()
    expect(page.locator("#recovery-status")).to_have_text("cancelled")
    expect(page.locator(".recovery-history")).to_contain_text("recovery_case.cancelled")
    assert csp_violations == []

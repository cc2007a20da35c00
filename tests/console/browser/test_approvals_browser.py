"""Four-eyes approval in a real browser: an agent's factor reset is held, a lead approves it
from the queue, the command runs once, the account holder is told, and the audit trail shows
who asked, who approved and why. Screenshots at 1366x768 and 390x844."""

import pytest
from playwright.sync_api import expect

from approvals.models import ApprovalRequest
from portal.models import AuditEvent
from security.models import TotpFactor
from tests.console.browser.a11y import assert_no_serious_violations
from tests.console.browser.steps import sign_in, sign_in_fresh
from tests.console.browser.test_dialogs_browser import LAPTOP, PHONE, open_account, screen_shot
from tests.factories import AccountFactory, TenantFactory
from tokens.models import OutboxMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_held_factor_reset_is_approved_by_a_lead_and_the_customer_is_told(
    page, browser, live_server, make_staff, csp_violations, eager_tasks
):
    from django.core import mail

    mail.outbox.clear()
    tenant = TenantFactory(name="Acme Stores", settings={"support_contact": "help@acme.example"})
    agent = make_staff("Agent", tenant, username="ann.agent")
    lead = make_staff("Lead", tenant, username="lee.lead")
    maria = AccountFactory(
        tenant=tenant, first_name="Maria", last_name="Garcia", email="maria@example.com"
    )
    TotpFactor.objects.create(tenant=tenant, account=maria, confirmed=True, secret_encrypted="x")

    # The agent asks: the dialog says it waits for a second person.
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, agent)
    open_account(page, live_server, maria)
    page.locator("#reset-totp").click()
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("textarea[name=reason]").fill("Lost phone; identity checked on a call")
    dialog.get_by_label("Ticket reference").fill("SUP-77")
    dialog.locator("#confirm-action").click()
    expect(page.get_by_role("dialog", name="Sent for approval")).to_be_visible()
    screen_shot(page, "approval-sent-1366x768")
    request = ApprovalRequest.objects.get()
    assert (request.status, request.gate) == ("pending", "factor.reset")
    assert TotpFactor.objects.filter(account=maria).exists()

    # The lead decides from the queue.
    context, lead_page = sign_in_fresh(browser, live_server, lead)
    lead_page.get_by_role("link", name="Approvals").click()
    expect(lead_page.get_by_text("Maria Garcia")).to_be_visible()
    assert_no_serious_violations(lead_page)
    screen_shot(lead_page, "approval-queue-1366x768")
    lead_page.get_by_role("link", name=f"#{request.pk}").click()
    expect(lead_page.get_by_role("heading", level=1)).to_contain_text("Maria Garcia")
    expect(lead_page.get_by_text("mfa_factor.reset", exact=False)).to_be_visible()
    assert_no_serious_violations(lead_page)
    screen_shot(lead_page, "approval-request-1366x768")
    lead_page.set_viewport_size(PHONE)
    screen_shot(lead_page, "approval-request-390x844")
    lead_page.set_viewport_size(LAPTOP)
    lead_page.get_by_label("Note (optional)").fill("Call recording checked")
    lead_page.get_by_role("button", name="Approve and run").click()
    expect(lead_page.get_by_text("It ran.")).to_be_visible()
    expect(lead_page.locator("#approval-status")).to_have_text("executed")
    context.close()

    request.refresh_from_db()
    assert request.status == ApprovalRequest.EXECUTED
    assert not TotpFactor.objects.filter(account=maria).exists()
    approved = AuditEvent.objects.get(action="approval.approved")
    reset = AuditEvent.objects.get(action="mfa_factor.reset")
    assert (reset.actor_label, reset.caused_by, reset.reason) == (
        "ann.agent",
        approved.pk,
        "Lost phone; identity checked on a call",
    )
    assert approved.actor_label == "lee.lead"
    notice = OutboxMessage.objects.get(template="staffaction")
    assert notice.recipient == "maria@example.com"

    # What Maria received: the notice as delivered, in a page of its own.
    from tests.console.browser.test_support_controls_browser import show_notice

    notice_page, sent = show_notice(browser, "maria@example.com")
    expect(notice_page.locator("body")).to_contain_text("Support removed one of your sign-in")
    expect(notice_page.locator("body")).to_contain_text("contact support: help@acme.example")
    assert "ann.agent" not in sent.body and "lee.lead" not in sent.body
    assert_no_serious_violations(notice_page)
    screen_shot(notice_page, "approval-notice-1366x768")
    notice_page.close()

    # The audit trail on the account page: asked, approved, reset.
    open_account(page, live_server, maria)
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("lee.lead")
    expect(timeline).to_contain_text("ann.agent")
    screen_shot(page, "approval-trail-1366x768")
    assert csp_violations == []

"""Support controls in a real browser: a Lead's time-boxed grant for a ticket, the agent
acting under it until it is ended, break-glass with its admins' email; the timeline's
before/after with "Restore this value" and the read-only "as of" view; and the notice the
account holder receives. axe finds nothing serious; screenshots at 1366x768 and 390x844."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from freezegun import freeze_time
from playwright.sync_api import expect

from accounts.commands import AccountChanges, AccountCreate
from accounts.models import Account
from accounts.services import account_create, account_update
from portal.audit import Actor
from portal.models import AccessGrant, AuditEvent
from tests.console.browser.a11y import assert_no_serious_violations
from tests.console.browser.steps import sign_in, sign_in_fresh
from tests.console.browser.test_dialogs_browser import LAPTOP, PHONE, open_account, screen_shot
from tests.factories import AccountFactory, TenantFactory
from tokens.models import OutboxMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUPPORT = "help@acme.example"


def both_sizes(page, name: str) -> None:
    """Axe on the screen as it is, then a screenshot at each size."""
    assert_no_serious_violations(page)
    screen_shot(page, f"{name}-1366x768")
    page.set_viewport_size(PHONE)
    screen_shot(page, f"{name}-390x844")
    page.set_viewport_size(LAPTOP)


def run_action(page, name: str, reason: str, ticket: str = "") -> None:
    """Open action `name` from the account page (in its menu when not in the bar), confirm."""
    button = page.locator(f"#action-{name}")
    if not button.is_visible():
        page.locator("#actions-menu summary").click()
    button.click()
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("textarea[name=reason]").fill(reason)
    if ticket:
        dialog.get_by_label("Ticket reference").fill(ticket)
    dialog.locator("#confirm-action").click()
    expect(dialog).to_have_count(0, timeout=30_000)


def show_notice(browser, to: str):
    """The notice as delivered (the outbox sends it through the mail backend; the test asks
    for tasks inline, so it is this process's backend): its HTML body in a page of its own,
    as the holder's mail client shows it (the console's CSP does not apply there). Returns
    that page and the sent message."""
    sent = [message for message in mail.outbox if message.to == [to]]
    assert len(sent) == 1, [message.subject for message in mail.outbox]
    html = [body for body, kind in sent[0].alternatives if kind == "text/html"]
    assert len(html) == 1
    page = browser.new_page(viewport=LAPTOP, reduced_motion="reduce")
    page.set_content(html[0])
    return page, sent[0]


def test_a_lead_grants_time_boxed_access_and_ends_it_and_break_glass_tells_the_admins(
    page, browser, live_server, make_staff, csp_violations
):
    tenant = TenantFactory(
        name="Acme Stores", settings={"approval_gates": [], "break_glass_allowed": True}
    )
    lead = make_staff("Lead", tenant, username="lee.lead")
    # Agents who on their own may not act on (or even see) the tenant's accounts.
    agent = make_staff("Agent", tenant, perms=[], username="ann.agent")
    admin = make_staff("Admin", tenant, username="ada.admin")
    admin.email = "ada@staff.example"
    admin.save(update_fields=["email"])
    maria = AccountFactory(
        tenant=tenant, first_name="Maria", last_name="Garcia", email="maria@example.com"
    )

    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, lead)
    page.goto(f"{live_server.url}/console/access/")
    expect(page.get_by_text("No live grant.")).to_be_visible()
    grant_form = page.locator("form[aria-labelledby=grant]")
    grant_form.get_by_label("Staff member").select_option(label="ann.agent")
    grant_form.get_by_label("Account UIDs").fill(maria.uid)
    grant_form.get_by_label("Access").select_option("act")
    until = (timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    grant_form.get_by_label("Until (UTC)").fill(until.strftime("%Y-%m-%dT%H:%M"))
    grant_form.get_by_label("Ticket").fill("SUP-88")
    grant_form.get_by_label("Reason").fill("Customer on the phone about a disputed order")
    grant_form.get_by_role("button", name="Give access").click()
    expect(page.get_by_text("Access granted.")).to_be_visible()
    live = page.locator("table").first
    expect(live).to_contain_text("ann.agent")
    expect(live).to_contain_text("SUP-88")
    expect(live).to_contain_text(until.strftime("%Y-%m-%d %H:%M"))
    both_sizes(page, "access-grants")
    grant = AccessGrant.objects.get()
    assert (grant.user_id, grant.uids, grant.scope, grant.ends_at) == (
        agent.pk,
        [maria.uid],
        "act",
        until,
    )

    # The agent acts on that account under the grant.
    context, agent_page = sign_in_fresh(browser, live_server, agent)
    open_account(agent_page, live_server, maria)
    run_action(agent_page, "block", "Fraud reported by the holder", "SUP-88")
    maria.refresh_from_db()
    assert not maria.is_active
    blocked = AuditEvent.objects.get(action="account.blocked")
    assert (blocked.actor_label, blocked.subject_uid) == ("ann.agent", maria.uid)
    screen_shot(agent_page, "access-grant-agent-acts-1366x768")

    # The Lead ends it early; the agent is refused from then on.
    page.goto(f"{live_server.url}/console/access/")
    page.get_by_role("button", name="End now").click()
    expect(page.get_by_text("Grant ended.")).to_be_visible()
    expect(page.get_by_text("No live grant.")).to_be_visible()
    grant.refresh_from_db()
    assert grant.revoked_by_label == "lee.lead"
    refused = agent_page.goto(f"{live_server.url}/console/accounts/{tenant.slug}/{maria.uid}/")
    assert refused is not None and refused.status == 404
    screen_shot(agent_page, "access-grant-ended-1366x768")
    context.close()

    # Break-glass: an agent gives themselves short access, with a reason; the admins hear.
    mail.outbox.clear()
    glass_agent = make_staff("Agent", tenant, perms=["view_accounts"], username="gus.agent")
    context, glass_page = sign_in_fresh(browser, live_server, glass_agent)
    glass_page.goto(f"{live_server.url}/console/access/")
    glass = glass_page.locator("form[aria-labelledby=glass]")
    glass.get_by_label("Account UIDs").fill(maria.uid)
    glass.get_by_label("Access").select_option("act")
    glass.get_by_label("Minutes").fill("30")
    glass.get_by_label("Ticket").fill("SUP-90")
    glass.get_by_label("Reason (required; the admins are told)").fill(
        "Account takeover in progress; no Lead reachable"
    )
    glass_page.get_by_role("button", name="Take break-glass access").click()
    expect(glass_page.get_by_text("Break-glass access taken; the admins are told.")).to_be_visible()
    expect(glass_page.locator("table").first).to_contain_text("break-glass")
    both_sizes(glass_page, "break-glass")
    context.close()

    taken = AccessGrant.objects.get(break_glass=True)
    assert (taken.user_id, taken.uids) == (glass_agent.pk, [maria.uid])
    event = AuditEvent.objects.get(action="access_grant.break_glass")
    assert event.reason == "Account takeover in progress; no Lead reachable"
    told = [message for message in mail.outbox if message.to == ["ada@staff.example"]]
    assert len(told) == 1 and "gus.agent" in told[0].subject
    assert "Account takeover in progress" in told[0].body
    assert csp_violations == []


def test_a_restored_value_from_the_timeline_and_the_profile_as_of_then(
    page, live_server, make_staff, csp_violations
):
    tenant = TenantFactory(name="Acme Stores", settings={"approval_gates": []})
    setup = Actor.system("setup")
    with freeze_time("2026-12-01 10:00"):
        created = account_create(
            AccountCreate(values={"FirstName": "Ann", "LastName": "Lee", "UserName": "annlee"}),
            tenant=tenant,
            actor=setup,
        )
    with freeze_time("2026-12-02 10:00"):
        account_update(
            AccountChanges(values={"FirstName": "Anna"}),
            tenant=tenant,
            actor=setup,
            account=created,
        )
    account = Account.objects.get(pk=created.pk)
    changed = AuditEvent.objects.get(subject_uid=account.uid, action="account.updated")
    # A Lead reads people in full, so the values show as they are.
    lead = make_staff("Lead", tenant, username="lee.lead")

    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, lead)
    open_account(page, live_server, account)
    change = page.locator("#timeline li", has_text="account.updated").first
    change.locator("summary").click()
    expect(change.locator("table")).to_contain_text("Ann")
    expect(change.locator("table")).to_contain_text("Anna")
    change.scroll_into_view_if_needed()
    assert_no_serious_violations(page)
    screen_shot(page, "history-timeline-1366x768")

    change.get_by_role("link", name="Restore this value").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Restore FirstName")
    # Event's before and after, and what restoring sets back.
    expect(page.locator("del")).to_have_text("Ann")
    expect(page.locator("ins")).to_have_text("Anna")
    expect(page.locator("main strong").first).to_have_text("Ann")
    page.get_by_label("Reason").fill("The holder asked to undo the rename (SUP-12)")
    both_sizes(page, "history-restore")
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_text("FirstName restored.")).to_be_visible()

    account.refresh_from_db()
    assert account.first_name == "Ann"
    restored = (
        AuditEvent.objects.filter(subject_uid=account.uid, action="account.updated")
        .exclude(pk=changed.pk)
        .get()
    )
    assert restored.reason == "The holder asked to undo the rename (SUP-12)"
    assert restored.actor_label == "lee.lead"
    assert restored.diff["FirstName"] == ["Anna", "Ann"]
    expect(page.locator("#timeline")).to_contain_text("The holder asked to undo the rename")

    # The read-only profile as it was before the rename.
    page.goto(
        f"{live_server.url}/console/accounts/{tenant.slug}/{account.uid}/as-of/"
        "?at=2026-12-01T12:00:00"
    )
    rows = page.get_by_role("region", name="Fields as of that time")
    expect(rows.locator("tr", has_text="FirstName")).to_contain_text("Ann")
    expect(rows.locator("tr", has_text="FirstName")).not_to_contain_text("Anna")
    expect(page.locator("main form[method=post]")).to_have_count(0)
    both_sizes(page, "history-as-of")
    assert csp_violations == []


def test_the_customer_notice_after_a_staff_block(
    page, browser, live_server, make_staff, csp_violations, eager_tasks
):
    tenant = TenantFactory(
        name="Acme Stores", settings={"approval_gates": [], "support_contact": SUPPORT}
    )
    agent = make_staff("Agent", tenant, username="ann.agent")
    maria = AccountFactory(
        tenant=tenant, first_name="Maria", last_name="Garcia", email="maria@example.com"
    )
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, agent)
    open_account(page, live_server, maria)
    mail.outbox.clear()
    run_action(page, "block", "Fraud reported by the holder", "SUP-91")

    notice = OutboxMessage.objects.get(template="staffaction")
    assert (notice.recipient, notice.status) == ("maria@example.com", OutboxMessage.SENT)
    blocked_at = AuditEvent.objects.get(action="account.blocked").occurred_at
    notice_page, sent = show_notice(browser, "maria@example.com")
    assert sent.subject == "Support blocked the account: your Acme Stores account"
    body = notice_page.locator("body")
    expect(body).to_contain_text("Support blocked your account: it cannot sign in.")
    expect(body).to_contain_text(blocked_at.strftime("%Y-%m-%d %H:%M UTC"))
    expect(body).to_contain_text(f"contact support: {SUPPORT}")
    # The agent is not named unless the tenant chooses so.
    assert "ann.agent" not in notice_page.content() and "ann.agent" not in sent.body
    both_sizes(notice_page, "customer-notice")
    notice_page.close()
    assert csp_violations == []

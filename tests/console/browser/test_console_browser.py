import re

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from portal.models import ApiCredential, AuditEvent, StaffTotpDevice
from security.models import AccountLockout
from tests.console.browser.conftest import SCREENSHOTS
from tests.console.browser.steps import sign_in
from tests.console.conftest import PASSWORD, totp_now
from tests.factories import (
    AccountFactory,
    AccountLockoutFactory,
    ApiCredentialFactory,
    TenantFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_first_sign_in_enrols_totp_then_signs_in(
    page, live_server, make_staff, shot, csp_violations
):
    tenant = TenantFactory(name="Acme")
    user = make_staff("Agent", tenant, enrolled=False, username="newagent")
    page.goto(f"{live_server.url}/console/accounts/")
    shot(page, "01-sign-in")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
    expect(page.locator(".qr-box svg")).to_be_visible()
    shot(page, "02-enrol-qr")
    page.get_by_text("Can't scan? Enter the key by hand").click()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    device = StaffTotpDevice.objects.get(user=user)
    assert secret == __import__("base64").b32encode(device.bin_key).decode()
    page.get_by_label("Code from your authenticator app").fill(totp_now(device))
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page).to_have_url(re.compile(r"/console/accounts/$"))
    expect(page.get_by_text("Your authenticator app is set up.")).to_be_visible()
    assert StaffTotpDevice.objects.get(user=user).confirmed
    assert csp_violations == []


def test_wrong_code_keeps_the_door_shut(page, live_server, make_staff):
    tenant = TenantFactory()
    user = make_staff("Agent", tenant)
    page.goto(f"{live_server.url}/console/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    good = totp_now(user.totp)
    page.get_by_label("Code from your authenticator app").fill(f"{(int(good) + 7) % 1_000_000:06d}")
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page.get_by_text("That code is not valid.")).to_be_visible()
    page.goto(f"{live_server.url}/console/")
    expect(page).to_have_url(re.compile(r"/console/login/"))


def test_search_open_and_block_with_reason(page, live_server, make_staff, shot, csp_violations):
    tenant = TenantFactory(name="Acme")
    agent = make_staff("Agent", tenant, username="agent.smith")
    ann = AccountFactory(
        tenant=tenant,
        first_name="Ann",
        last_name="Lee",
        email="ann.lee@example.com",
        phone_id="+14155550100",
        username="annlee",
    )
    AccountFactory(
        tenant=tenant, first_name="Ann", last_name="Other", email="ann.other@example.com"
    )
    AccountFactory(tenant=tenant, first_name="Bob", last_name="Stone")
    sign_in(page, live_server, agent)
    shot(page, "03-dashboard")
    page.get_by_role("link", name="Accounts").click()
    page.get_by_label("Search accounts").fill("Ann")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("2 accounts found")).to_be_visible()
    shot(page, "04-search-results")
    # An Agent sees people masked (the tenant's default): the rows, the page, the dialog.
    page.get_by_role("link", name="A••• L•••").click()
    expect(page.get_by_role("heading", name="A••• L•••")).to_be_visible()
    expect(page.locator("#account-emails").get_by_text("an•••@example.com")).to_be_visible()
    assert "ann.lee@example.com" not in page.content()
    shot(page, "05-account-page")
    page.locator("#actions-menu summary").click()
    page.locator("#action-block").click()
    dialog = page.get_by_role("dialog", name="Block account — A••• L•••")
    dialog.locator("textarea[name=reason]").fill("Chargeback fraud reported by the bank")
    dialog.get_by_label("Ticket reference").fill("SUP-4242")
    page.screenshot(path=str(SCREENSHOTS / "06-block-confirm.png"))
    assert Account.objects.get(pk=ann.pk).is_active  # nothing ran before confirmation
    dialog.get_by_role("button", name="Block account").click()
    expect(page.get_by_text("Account blocked.")).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline.get_by_text("account.blocked")).to_be_visible()
    expect(
        timeline.locator("li", has_text="account.blocked").get_by_text(
            "Reason: Chargeback fraud reported by the bank"
        )
    ).to_be_visible()
    expect(page.locator("#account-flags").get_by_text("Blocked")).to_be_visible()
    shot(page, "07-account-blocked")
    assert not Account.objects.get(pk=ann.pk).is_active
    event = AuditEvent.objects.get(subject_uid=ann.uid, action="account.blocked")
    assert (event.ticket, event.actor_label) == ("SUP-4242", "agent.smith")
    page.get_by_role("link", name="Audit log").click()
    expect(
        page.locator("#audit-events").get_by_role("link", name="Account blocked")
    ).to_be_visible()
    shot(page, "08-audit-log")
    assert csp_violations == []


def test_live_search_updates_results_without_reload(page, live_server, make_staff):
    tenant = TenantFactory()
    agent = make_staff("Agent", tenant)
    for n in range(3):
        AccountFactory(tenant=tenant, first_name="Quinn", last_name=f"Number{n}")
    sign_in(page, live_server, agent)
    page.goto(f"{live_server.url}/console/accounts/")
    page.get_by_label("Search accounts").press_sequentially("Quinn", delay=30)
    expect(page.get_by_text("3 accounts found")).to_be_visible()
    # The address moves to the results by key: the typed text is in no URL.
    expect(page).to_have_url(re.compile(r"\?s=[\w-]+$"))
    assert "Quinn" not in page.url


def test_rotate_secret_shows_it_exactly_once(page, live_server, make_staff, shot, csp_violations):
    tenant = TenantFactory(name="Acme")
    old = ApiCredentialFactory(tenant=tenant, label="backend", scopes=["accounts"])
    other = ApiCredentialFactory(tenant=tenant, label="billing")
    admin = make_staff("Admin", tenant, username="admin.ada")
    sign_in(page, live_server, admin)
    page.get_by_role("link", name="Tenants").click()
    shot(page, "09-tenants")
    page.get_by_role("link", name="Acme").click()
    expect(page.get_by_role("heading", name="API secrets")).to_be_visible()
    shot(page, "10-tenant-detail")
    page.locator(f"#rotate-{old.pk}").click()
    expect(page.get_by_role("heading", name="Rotate an API secret")).to_be_visible()
    expect(page.get_by_label("Keep the old secret working for (hours)")).to_have_value("24")
    page.get_by_label("Keep the old secret working for (hours)").fill("0")
    expect(page.get_by_label("Reason")).to_have_attribute("required", "")
    page.get_by_label("Reason").fill("Secret pasted in a public channel")
    page.get_by_role("button", name="Review…").click()
    expect(page.get_by_text("Are you sure?")).to_be_visible()
    expect(page.locator("#rotate-deadline")).to_have_text("Revoked at once.")
    assert ApiCredential.objects.filter(tenant=tenant).count() == 2
    page.get_by_role("button", name=f"Yes, rotate …{old.secret_hint}").click()
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    shown = page.locator("#api-secret").inner_text().strip()
    new = ApiCredential.objects.filter(tenant=tenant).exclude(pk__in=[old.pk, other.pk]).get()
    assert shown == new.raw_secret()
    assert (new.label, new.scopes) == ("backend", ["accounts"])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy secret").click()
    expect(page.locator("#api-secret-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == shown
    shot(page, "11-secret-once")
    page.get_by_role("button", name="I have stored it").click()
    expect(page.get_by_role("heading", name="API secrets")).to_be_visible()
    assert shown not in page.content()
    expect(page.get_by_text(f"…{new.secret_hint}").first).to_be_visible()
    page.reload()
    assert shown not in page.content()
    old.refresh_from_db()
    other.refresh_from_db()
    assert old.revoked_at is not None
    assert (other.revoked_at, other.expires_at) == (None, None)
    assert (
        AuditEvent.objects.get(tenant=tenant, action="credential.revoked").reason
        == "Secret pasted in a public channel"
    )
    assert csp_violations == []


def test_removing_staff_access_asks_a_reason_and_a_confirmation(
    page, live_server, make_staff, csp_violations
):
    from portal import staff

    tenant = TenantFactory(name="Acme")
    admin = make_staff("Admin", tenant, username="admin.ada")
    agent = make_staff("Agent", tenant, username="agent.bo")
    sign_in(page, live_server, admin)
    page.goto(f"{live_server.url}/console/tenants/{tenant.slug}/")
    row = page.locator("#staff tr", has_text="agent.bo")
    row.get_by_text("Remove access…").click()
    row.get_by_label("Reason").fill("Left the support team")
    row.get_by_role("button", name="Review removal…").click()
    expect(page.get_by_text("Are you sure?")).to_be_visible()
    assert staff.staff_can(user=agent, tenant=tenant, permission="view_accounts")
    page.get_by_role("button", name="Yes, remove access").click()
    expect(page.get_by_text("Access of agent.bo to Acme revoked.")).to_be_visible()
    assert not staff.staff_can(user=agent, tenant=tenant, permission="view_accounts")
    assert (
        AuditEvent.objects.get(tenant=tenant, action="staff_access.revoked").reason
        == "Left the support team"
    )
    assert csp_violations == []


def test_agent_neither_sees_nor_reaches_tenant_admin(page, live_server, make_staff, shot):
    tenant = TenantFactory(name="Acme")
    agent = make_staff("Agent", tenant)
    sign_in(page, live_server, agent)
    expect(page.get_by_role("link", name="Tenants")).to_have_count(0)
    page.goto(f"{live_server.url}/console/tenants/")
    expect(page.get_by_role("heading", name="You can't do this here")).to_be_visible()
    expect(page.get_by_text("Ask an Admin")).to_be_visible()
    shot(page, "12-forbidden")
    page.goto(f"{live_server.url}/console/tenants/{tenant.slug}/")
    expect(page.get_by_role("heading", name="You can't do this here")).to_be_visible()


def test_unlock_with_a_reason_shows_in_the_timeline(page, live_server, make_staff, shot):
    tenant = TenantFactory(name="Acme")
    agent = make_staff("Agent", tenant)
    locked = AccountFactory(
        tenant=tenant,
        first_name="Lou",
        last_name="Locked",
        email="lou@example.com",
    )
    AccountLockoutFactory(account=locked, locked_type="failed_login")
    sign_in(page, live_server, agent)
    page.get_by_role("link", name="Accounts").click()
    page.get_by_label("Search accounts").fill("lou@example.com")
    page.get_by_role("button", name="Search").click()
    expect(
        page.get_by_role("heading", name="L••• L•••")
    ).to_be_visible()  # one hit opens the account (an Agent reads the name masked)
    page.get_by_role("button", name="Unlock account…").click()
    dialog = page.get_by_role("dialog", name="Unlock account — L••• L•••")
    dialog.locator("textarea[name=reason]").fill("Identity confirmed on a call")
    dialog.get_by_role("button", name="Unlock account").click()
    expect(page.get_by_text("Account unlocked.")).to_be_visible()
    entry = page.locator("#timeline li", has_text="account.unlocked")
    expect(entry.get_by_text("Reason: Identity confirmed on a call")).to_be_visible()
    expect(page.get_by_role("button", name="Unlock account…")).to_have_count(0)
    shot(page, "13-account-unlocked")
    assert not AccountLockout.objects.filter(account=locked).exists()

"""The agent's fast paths, counted from the dashboard in Chromium: unlock an account found
by part of its email, reset one second factor, revoke all sessions. A step is what the agent
does: typing into the header search, a key that submits, a click. Each path is at most four:
type part of the email, Enter (the one match opens), the action, confirm (the tenant's first
reason preset comes picked)."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import AuditEvent, ReasonPreset
from security.models import AccountLockout, TotpFactor
from tests.console.browser.a11y import assert_no_serious_violations
from tests.console.browser.conftest import SCREENSHOTS
from tests.console.browser.steps import LAPTOP, Steps, sign_in
from tests.console.test_account_page import busy_account
from tests.factories import AccountFactory, TenantFactory
from tokens.models import TokenFamily

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TARGET_STEPS = 4
PRESET_TEXT = "Identity checked on a call to the number on file."


@pytest.fixture
def maria(make_staff):
    """A locked account with an authenticator app and two sessions, among namesakes; the
    tenant has reason presets and holds no action for approval."""
    tenant = TenantFactory(name="Acme Stores", settings={"approval_gates": []})
    ReasonPreset.objects.create(tenant=tenant, label="Identity checked", text=PRESET_TEXT)
    ReasonPreset.objects.create(tenant=tenant, label="Made by mistake", text="Made by mistake.")
    lead = make_staff("Lead", tenant, username="lee.lead")
    account = busy_account(tenant, lead)
    AccountFactory(tenant=tenant, first_name="Mario", last_name="Garcon", email="mario@example.com")
    return tenant, lead, account


def sign_in_to_the_dashboard(page, live_server, user):
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, user)
    # The dashboard's first task: the header search has the focus.
    expect(page.locator("#header-q")).to_be_focused()


def find_by_partial_email(page, steps, account):
    steps.type("garcia@exa")
    expect(page.locator("#header-search-list [role=option][data-account]")).to_have_count(1)
    steps.press("Enter")
    expect(page.locator("#account-uid")).to_have_text(account.uid)


def confirm_in_dialog(page, steps, button_name):
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("textarea[name=reason]")).to_have_value(PRESET_TEXT)
    steps.click(dialog.get_by_role("button", name=button_name))


def test_unlock_an_account_found_by_partial_email_in_four_steps(
    page, live_server, maria, csp_violations
):
    tenant, lead, account = maria
    assert AccountLockout.objects.filter(account=account).exists()
    sign_in_to_the_dashboard(page, live_server, lead)
    steps = Steps(page)

    find_by_partial_email(page, steps, account)
    unlock = page.locator("#action-unlock")
    expect(unlock).to_have_class(re.compile(r"\bprimary-action\b"))  # the state's first action
    steps.click(unlock)
    dialog = page.locator("#action-dialog")
    expect(dialog.get_by_label("Reason preset")).to_have_value(
        str(ReasonPreset.objects.get(tenant=tenant, text=PRESET_TEXT).pk)
    )
    assert_no_serious_violations(page)
    page.screenshot(path=str(SCREENSHOTS / "fast-path-unlock-dialog-1366x768.png"))
    confirm_in_dialog(page, steps, "Unlock account")

    expect(page.get_by_text("Account unlocked.")).to_be_visible(timeout=30_000)
    assert not AccountLockout.objects.filter(account=account).exists()
    event = AuditEvent.objects.get(subject_uid=account.uid, action="account.unlocked")
    assert event.reason == PRESET_TEXT
    assert steps.count <= TARGET_STEPS, steps.count
    assert csp_violations == []


def test_reset_one_second_factor_in_four_steps(page, live_server, maria):
    _tenant, lead, account = maria
    sign_in_to_the_dashboard(page, live_server, lead)
    steps = Steps(page)

    find_by_partial_email(page, steps, account)
    steps.click(page.locator("#reset-totp"))
    confirm_in_dialog(page, steps, "Reset factor")

    expect(page.get_by_text("Factor reset.")).to_be_visible(timeout=30_000)
    expect(page.locator("#reset-totp")).to_have_count(0)
    assert not TotpFactor.objects.filter(account=account).exists()
    event = AuditEvent.objects.get(subject_uid=account.uid, action="mfa_factor.reset")
    assert event.reason == PRESET_TEXT
    assert steps.count <= TARGET_STEPS, steps.count


def test_revoke_all_sessions_in_four_steps(page, live_server, maria):
    _tenant, lead, account = maria
    assert TokenFamily.objects.filter(account=account, revoked_at__isnull=True).count() == 2
    sign_in_to_the_dashboard(page, live_server, lead)
    steps = Steps(page)

    find_by_partial_email(page, steps, account)
    expect(page.locator("#account-sessions")).to_have_text("2")
    steps.click(page.locator("#action-sessions_revoke_all"))
    confirm_in_dialog(page, steps, "Revoke all sessions")

    expect(page.locator("#account-sessions")).to_have_text("0", timeout=30_000)
    assert not TokenFamily.objects.filter(account=account, revoked_at__isnull=True).exists()
    assert steps.count <= TARGET_STEPS, steps.count

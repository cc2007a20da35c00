"""Account-page actions, roles and custom-object type screens in a real browser."""

import pytest
from playwright.sync_api import expect

from accounts.commands import IdentityLink
from accounts.models import Account
from portal import crypto
from portal.audit import Actor
from portal.models import AuditEvent
from security.commands import BackupCodesGenerate
from tests.console.browser.steps import sign_in
from tests.factories import AccountFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


def open_account(page, live_server, account):
    page.goto(f"{live_server.url}/console/accounts/{account.tenant.slug}/{account.uid}/")
    expect(page.locator("#account-uid")).to_have_text(account.uid)


def give_reason_and_confirm(page, reason, button, ticket=""):
    """Confirm in the action's dialog (opened in place by the account page)."""
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("textarea[name=reason]").fill(reason)
    if ticket:
        dialog.get_by_label("Ticket reference").fill(ticket)
    dialog.locator("#confirm-action").click()
    expect(dialog).to_have_count(0, timeout=30_000)


def timeline_entry(page, action):
    return page.locator("#timeline li", has_text=action).first


def _session(tenant, account):
    from tokens.commands import SessionIssue
    from tokens.services.sessions import session_issue

    command = SessionIssue(
        device={"ip": "203.0.113.9", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"}
    )
    return session_issue(command, tenant=tenant, account=account, actor=Actor.account(account.uid))


def _totp(tenant, account):
    from security.models import TotpFactor

    TotpFactor.objects.create(
        tenant=tenant,
        account=account,
        secret_encrypted=crypto.encrypt("JBSWY3DPEHPK3PXP"),
        confirmed=True,
    )


def test_reset_a_factor(page, live_server, make_staff, csp_violations):
    from security.models import TotpFactor

    tenant = TenantFactory(name="Acme", settings={"approval_gates": []})
    agent = make_staff("Agent", tenant)
    account = AccountFactory(tenant=tenant, first_name="Tom", last_name="Totp")
    _totp(tenant, account)
    sign_in(page, live_server, agent)
    open_account(page, live_server, account)
    page.locator("#reset-totp").click()
    expect(page.get_by_label("Factor to reset")).to_have_value("totp")
    give_reason_and_confirm(page, "Lost phone, identity checked on video call", "reset factor")
    expect(page.get_by_text("Factor reset.")).to_be_visible()
    expect(
        timeline_entry(page, "mfa_factor.reset").get_by_text(
            "Reason: Lost phone, identity checked on video call"
        )
    ).to_be_visible()
    expect(page.locator("#reset-totp")).to_have_count(0)
    assert not TotpFactor.objects.filter(account=account).exists()
    assert csp_violations == []


def test_assign_a_role(page, live_server, make_staff):
    from roles.commands import RoleInput, RolesCreate
    from roles.services import roles_create

    tenant = TenantFactory(name="Acme")
    roles_create(
        RolesCreate(roles=[RoleInput("support", ("read",)), RoleInput("billing", ("refund",))]),
        tenant=tenant,
        actor=Actor.system("t"),
    )
    lead = make_staff("Lead", tenant)
    account = AccountFactory(tenant=tenant, first_name="Rae", last_name="Roles")
    sign_in(page, live_server, lead)
    open_account(page, live_server, account)
    page.locator("#action-roles_assign").click()
    page.get_by_label("billing").check()
    give_reason_and_confirm(page, "Joined the finance team", "assign roles")
    expect(page.get_by_text("Roles assigned.")).to_be_visible()
    expect(page.locator("#account-roles").get_by_text("billing")).to_be_visible()
    expect(timeline_entry(page, "account_roles.assigned")).to_be_visible()
    from roles.selectors import account_role_names

    assert account_role_names(account=account) == ["billing"]


def test_revoke_sessions(page, live_server, make_staff):
    from tokens.models import TokenFamily

    tenant = TenantFactory(name="Acme")
    agent = make_staff("Agent", tenant)
    account = AccountFactory(tenant=tenant, first_name="Sid", last_name="Sessions")
    _session(tenant, account)
    _session(tenant, account)
    sign_in(page, live_server, agent)
    open_account(page, live_server, account)
    expect(page.locator("#account-sessions")).to_have_text("2")
    expect(page.locator("#sessions").get_by_text("203.0.113.9").first).to_be_visible()
    page.locator("#sessions").get_by_role("link", name="Revoke").first.click()
    give_reason_and_confirm(page, "Unknown device reported by the owner", "revoke session")
    expect(page.get_by_text("Session revoked.")).to_be_visible()
    expect(page.locator("#account-sessions")).to_have_text("1")
    page.locator("#action-sessions_revoke_all").click()
    give_reason_and_confirm(page, "Password leaked: sign out everywhere", "revoke all sessions")
    expect(page.get_by_text("All sessions revoked.")).to_be_visible()
    expect(page.locator("#account-sessions")).to_have_text("0")
    expect(
        timeline_entry(page, "session.all_revoked").get_by_text(
            "Reason: Password leaked: sign out everywhere"
        )
    ).to_be_visible()
    assert not TokenFamily.objects.filter(account=account, revoked_at__isnull=True).exists()


def test_edit_a_profile_field_with_a_reason(page, live_server, make_staff):
    tenant = TenantFactory(name="Acme")
    agent = make_staff("Agent", tenant)
    account = AccountFactory(tenant=tenant, first_name="Jon", last_name="Smith")
    sign_in(page, live_server, agent)
    open_account(page, live_server, account)
    page.locator("#action-edit_profile").click()
    dialog = page.locator("#action-dialog")
    # An Agent starts from the masked values; a field left as shown keeps its value.
    expect(dialog.get_by_label("First name")).to_have_value("J•••")
    expect(dialog.get_by_label("Last name")).to_have_value("S•••")
    dialog.get_by_label("First name").fill("Jonathan")
    assert Account.objects.get(pk=account.pk).first_name == "Jon"
    give_reason_and_confirm(page, "Legal name on the passport", "save profile", ticket="SUP-77")
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    expect(page.locator("#profile-first-name")).to_have_text("J•••")
    entry = timeline_entry(page, "account.updated")
    expect(entry.get_by_text("Reason: Legal name on the passport")).to_be_visible()
    expect(entry.get_by_text("SUP-77")).to_be_visible()
    saved = Account.objects.get(pk=account.pk)
    assert (saved.first_name, saved.last_name) == ("Jonathan", "Smith")


def test_delete_an_account_with_typed_confirmation(page, live_server, make_staff):
    tenant = TenantFactory(name="Acme", settings={"approval_gates": []})
    admin = make_staff("Admin", tenant)
    account = AccountFactory(tenant=tenant, first_name="Del", last_name="Eted")
    sign_in(page, live_server, admin)
    open_account(page, live_server, account)
    page.locator("#actions-menu summary").click()
    page.locator("#action-delete").click()
    dialog = page.locator("#action-dialog")
    dialog.get_by_label("Type the account's UID to confirm").fill("not-the-uid")
    dialog.locator("textarea[name=reason]").fill("Erasure request")
    dialog.locator("#confirm-action").click()
    expect(dialog.get_by_role("alert")).to_contain_text(
        "That is not this account's UID", timeout=30_000
    )
    assert Account.objects.filter(pk=account.pk).exists()
    dialog.get_by_label("Type the account's UID to confirm").fill(account.uid)
    dialog.locator("#confirm-action").click()
    expect(page.get_by_text("Account deleted.")).to_be_visible()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    assert not Account.objects.filter(pk=account.pk).exists()
    assert AuditEvent.objects.filter(
        subject_uid=account.uid, action="account.deleted", reason="Erasure request"
    ).exists()


def test_add_a_role_context_with_a_typed_expiry(page, live_server, make_staff, csp_violations):
    from roles.commands import RoleInput, RolesCreate
    from roles.models import RoleContext
    from roles.services import roles_create

    tenant = TenantFactory(name="Acme")
    roles_create(
        RolesCreate(roles=[RoleInput("store-manager", ("orders.manage",))]),
        tenant=tenant,
        actor=Actor.system("seed"),
    )
    lead = make_staff("Lead", tenant, username="lead.li")
    account = AccountFactory(tenant=tenant)
    sign_in(page, live_server, lead)
    open_account(page, live_server, account)
    page.locator("#action-context_add").click()
    dialog = page.locator("#action-dialog")
    expect(dialog.get_by_role("heading", name="Add role context")).to_be_visible()
    expect(dialog.get_by_label("Remove roles")).to_have_count(0)
    dialog.locator("#id_context").fill("store-berlin")
    dialog.get_by_label("Create a new context").check()
    dialog.get_by_label("store-manager").check()
    dialog.get_by_label("Expires at (UTC)").fill("2031-01-02T03:04")
    dialog.get_by_label("Never expires").check()
    dialog.locator("textarea[name=reason]").fill("Seasonal cover")
    dialog.locator("#confirm-action").click()
    expect(dialog.get_by_role("alert")).to_contain_text("not both", timeout=30_000)
    assert not RoleContext.objects.filter(account=account).exists()
    dialog.get_by_label("Never expires").uncheck()
    dialog.locator("#confirm-action").click()
    expect(page.get_by_text("Role context added.")).to_be_visible()
    stored = RoleContext.objects.get(account=account, name="store-berlin")
    assert stored.expiration.isoformat() == "2031-01-02T03:04:00+00:00"
    expect(page.locator("#account-contexts")).to_contain_text("2031-01-02 03:04")
    assert csp_violations == []


def test_screenshots_of_account_roles_and_custom_object_screens(
    page, live_server, make_staff, shot, csp_violations
):
    from accounts.services import account_identity_link
    from customobjects.commands import ObjectTypeCreate, RecordCreate
    from customobjects.services import object_type_create, record_create
    from roles.commands import (
        AccountRolesAssign,
        ContextGrant,
        RoleContextGrant,
        RoleInput,
        RolesCreate,
    )
    from roles.services import account_roles_assign, role_contexts_upsert, roles_create
    from security.services import backup_codes_generate
    from tokens.commands import VerificationEmailSend
    from tokens.services.multipurpose import verification_email_send

    system = Actor.system("seed")
    tenant = TenantFactory(name="Acme")
    admin = make_staff("Admin", tenant, username="admin.ada")
    account = AccountFactory(
        tenant=tenant,
        first_name="Maria",
        last_name="Garcia",
        username="mgarcia",
        email="maria.garcia@example.com",
        phone_id="+14155550123",
        phone_id_verified=True,
        email_verified=True,
    )
    from accounts.models import AccountEmail

    AccountEmail.objects.filter(account=account).update(verified=True)
    AccountEmail.objects.create(
        tenant=tenant, account=account, type="Secondary", value="maria@work.example"
    )
    account_identity_link(
        IdentityLink(provider="google", provider_id="1093847561"),
        tenant=tenant,
        actor=system,
        account=account,
    )
    _session(tenant, account)
    _session(tenant, account)
    _totp(tenant, account)
    backup_codes_generate(BackupCodesGenerate(), tenant=tenant, actor=system, account=account)
    roles_create(
        RolesCreate(
            roles=[
                RoleInput("support", ("tickets.read", "tickets.write")),
                RoleInput("billing", ("refund", "invoice.read")),
                RoleInput("store-manager", ("orders.manage",)),
            ]
        ),
        tenant=tenant,
        actor=system,
    )
    account_roles_assign(
        AccountRolesAssign(roles=["support", "billing"]),
        tenant=tenant,
        actor=system,
        account=account,
    )
    role_contexts_upsert(
        RoleContextGrant(
            contexts=[
                ContextGrant(
                    name="store-berlin",
                    roles=("store-manager",),
                    additional_permissions=("inventory",),
                )
            ]
        ),
        tenant=tenant,
        actor=system,
        account=account,
    )
    orders = object_type_create(
        ObjectTypeCreate(
            name="Orders", schema={"type": "object", "properties": {"total": {"type": "number"}}}
        ),
        tenant=tenant,
        actor=system,
    )
    object_type_create(
        ObjectTypeCreate(name="Preferences", limits={"max_records_per_account": 1}),
        tenant=tenant,
        actor=system,
    )
    record_create(
        RecordCreate(data={"total": 42.5, "items": 3}),
        tenant=tenant,
        actor=system,
        object_type=orders,
        account=account,
    )
    from django.db import transaction

    with transaction.atomic():
        verification_email_send(
            VerificationEmailSend(email="maria@work.example"),
            tenant=tenant,
            account=account,
            actor=system,
        )
    for _ in range(3):
        other = AccountFactory(tenant=tenant)
        account_roles_assign(
            AccountRolesAssign(roles=["support"]), tenant=tenant, actor=system, account=other
        )

    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, admin)
    open_account(page, live_server, account)
    expect(page.locator("#records").get_by_text("Orders")).to_be_visible()
    shot(page, "20-account-page-full")
    page.screenshot(path=str(_path("21-account-page-laptop")))
    page.locator("#roles").get_by_role("link", name="Edit").click()
    dialog = page.locator("#action-dialog")
    expect(dialog.get_by_label("Role context")).to_have_value("store-berlin")
    page.screenshot(path=str(_path("24-edit-role-context")))
    page.goto(f"{live_server.url}/console/roles/?context=store-berlin")
    expect(page.get_by_role("heading", name="Roles in Acme")).to_be_visible()
    shot(page, "22-roles")
    page.goto(f"{live_server.url}/console/custom-objects/")
    expect(page.get_by_role("heading", name="Custom-object types in Acme")).to_be_visible()
    shot(page, "23-custom-object-types")
    assert csp_violations == []


def _path(name):
    from tests.console.browser.conftest import SCREENSHOTS

    return SCREENSHOTS / f"{name}.png"

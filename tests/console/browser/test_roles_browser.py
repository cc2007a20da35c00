"""The roles screens in Chromium: the roles list, a role's page, the role contexts, one
context's page and the "expiring in 7 days" view, plus the tenants and jobs screens; each
with axe and screenshots at 1366x768 and 390x844, nothing wider than the screen. Then the
fast path "give a role in a context until a date", counted from the dashboard, and the
context dialogs and name typeahead at work."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal.audit import Actor
from roles.models import RoleContext
from tests.console.browser.a11y import assert_no_serious_violations
from tests.console.browser.conftest import SCREENSHOTS
from tests.console.browser.steps import LAPTOP, PHONE, Steps, sign_in
from tests.console.test_account_actions import _make_role
from tests.console.test_role_context_screens import give_context, give_role
from tests.factories import AccountFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"1366x768": LAPTOP, "390x844": PHONE}


def width_report(page) -> dict:
    return page.evaluate(
        """() => ({
            scrollWidth: document.documentElement.scrollWidth,
            viewport: window.innerWidth,
            cards: [...document.querySelectorAll('main article, main section')]
                .filter(e => e.scrollWidth > e.clientWidth + 1)
                .map(e => (e.id || e.className) + ' ' + e.scrollWidth + '>' + e.clientWidth),
        })"""
    )


@pytest.fixture
def stores(make_staff):
    tenant = TenantFactory(name="Acme Stores", settings={"approval_gates": []})
    lead = make_staff("Lead", tenant, username="lee.lead")
    _make_role(tenant, "store_manager", ("orders.manage", "inventory.count"))
    _make_role(tenant, "support", ("tickets.read", "tickets.write"))
    _make_role(tenant, "billing", ("refund",))
    people = {
        first: AccountFactory(
            tenant=tenant,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}@example.com",
        )
        for first, last in (
            ("Maria", "Garcia"),
            ("Ken", "Adams"),
            ("Lena", "Novak"),
            ("Omar", "Haddad"),
            ("Priya", "Raman"),
        )
    }
    now = datetime.now(UTC)
    give_context(tenant, people["Maria"], "store-berlin", expiration=now + timedelta(days=3))
    give_context(tenant, people["Ken"], "store-berlin", expiration=now + timedelta(days=60))
    give_context(tenant, people["Lena"], "store-paris", expiration=now + timedelta(days=5))
    give_context(tenant, people["Omar"], "store-paris")
    give_context(tenant, people["Priya"], "store-rome", expiration=now - timedelta(days=2))
    give_role(tenant, people["Ken"], "support")
    give_role(tenant, people["Omar"], "billing")
    return {"tenant": tenant, "lead": lead, "people": people}


SCREENS = [
    ("roles", "/console/roles/", "Roles"),
    ("role-detail", "/console/role/store_manager/", "Role store_manager"),
    ("role-contexts", "/console/role-contexts/", "Role contexts"),
    ("role-context", "/console/role-contexts/store-berlin/", "Role context store-berlin"),
    ("role-contexts-expiring", "/console/role-contexts-expiring/", "Expiring in 7 days"),
]


def test_roles_screens_fit_pass_axe_and_are_photographed(page, live_server, stores, csp_violations):
    sign_in(page, live_server, stores["lead"])
    for size_name, size in SIZES.items():
        page.set_viewport_size(size)
        for name, path, heading in SCREENS:
            page.goto(live_server.url + path)
            expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
            report = width_report(page)
            assert report["scrollWidth"] <= size["width"], (name, report)
            assert report["cards"] == [], (name, report)
            assert_no_serious_violations(page)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size_name}.png"), full_page=True)
    # What the screens say, with names.
    page.set_viewport_size(LAPTOP)
    page.goto(live_server.url + "/console/roles/")
    expect(page.locator("#role-store_manager .role-count")).to_contain_text("4 accounts")
    page.goto(live_server.url + "/console/role/store_manager/")
    expect(page.locator("#role-holder-table")).to_contain_text("Maria Garcia")
    page.goto(live_server.url + "/console/role-contexts-expiring/")
    rows = page.locator("#expiring-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Maria Garcia")
    expect(rows.nth(1)).to_contain_text("Lena Novak")
    assert csp_violations == []


def test_tenants_and_jobs_screens_pass_axe_and_are_photographed(
    page, live_server, make_staff, stores, csp_violations
):
    from jobs.commands import JobCreate
    from jobs.services import job_create

    tenant = stores["tenant"]
    admin = make_staff("Admin", tenant, username="ada.admin")
    job = job_create(
        JobCreate(
            action="unblock",
            uids=(stores["people"]["Maria"].uid,),
            reason="Check who would be unblocked",
            dry_run=True,
        ),
        tenant=tenant,
        actor=Actor.staff(admin),
    )
    screens = [
        ("tenants", "/console/tenants/", "Tenants"),
        ("tenant-detail", f"/console/tenants/{tenant.slug}/", tenant.name),
        ("jobs", "/console/jobs/", "Bulk jobs"),
        ("job-detail", f"/console/jobs/{job.pk}/", f"Bulk job #{job.pk}"),
    ]
    sign_in(page, live_server, admin)
    for size_name, size in SIZES.items():
        page.set_viewport_size(size)
        for name, path, heading in screens:
            page.goto(live_server.url + path)
            expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
            report = width_report(page)
            assert report["scrollWidth"] <= size["width"], (name, report)
            assert_no_serious_violations(page)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size_name}.png"), full_page=True)
    assert csp_violations == []


def test_fast_path_give_a_role_in_a_context_until_a_date_in_six_steps(
    page, live_server, stores, csp_violations
):
    """Counted from the dashboard: Roles, the context's Add holder, the account, the date,
    the reason, confirm. The roles every holder has in the context come ticked."""
    tenant, people = stores["tenant"], stores["people"]
    newcomer = AccountFactory(
        tenant=tenant, first_name="Sofia", last_name="Rossi", email="sofia.rossi@example.com"
    )
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, stores["lead"])
    steps = Steps(page)

    steps.click(page.get_by_role("link", name="Roles", exact=True))
    steps.click(page.locator("#add-holder-store-berlin"))
    dialog = page.locator("#action-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Add a holder to store-berlin")
    expect(dialog.get_by_label("store_manager")).to_be_checked()
    steps.fill(dialog.get_by_label("Account"), "sofia.rossi@example.com")
    steps.fill(dialog.get_by_label("Expires at (UTC)"), "2031-03-04T05:06")
    steps.fill(dialog.get_by_label("Reason"), "Covers the Berlin store this spring")
    page.screenshot(path=str(SCREENSHOTS / "role-context-add-holder-1366x768.png"))
    assert_no_serious_violations(page)
    steps.click(dialog.locator("#confirm-action"))

    expect(page.get_by_text("now holds store-berlin")).to_be_visible()
    stored = RoleContext.objects.get(account=newcomer, name="store-berlin")
    assert stored.expiration == datetime(2031, 3, 4, 5, 6, tzinfo=UTC)
    assert [r.name for r in stored.roles.all()] == ["store_manager"]
    assert steps.count <= 6, steps.count
    # Nothing else changed: the other holders keep theirs.
    assert RoleContext.objects.filter(name="store-berlin").count() == 3
    assert RoleContext.objects.get(account=people["Maria"], name="store-berlin").expiration
    assert csp_violations == []


def test_extend_and_revoke_from_the_context_page(page, live_server, stores, csp_violations):
    people = stores["people"]
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, stores["lead"])
    page.goto(live_server.url + "/console/role-contexts/store-berlin/")

    page.get_by_role("link", name="Extend store-berlin of Maria Garcia").click()
    dialog = page.locator("#action-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Extend store-berlin — Maria Garcia")
    dialog.get_by_label("Expires at (UTC)").fill("2001-01-01T00:00")
    dialog.get_by_label("Reason").fill("Stays on until the autumn")
    dialog.locator("#confirm-action").click()
    expect(dialog.get_by_role("alert")).to_contain_text("in the past")
    expect(dialog.get_by_label("Expires at (UTC)")).to_be_focused()
    assert_no_serious_violations(page)
    page.screenshot(path=str(SCREENSHOTS / "role-context-extend-refused-1366x768.png"))
    dialog.get_by_label("Expires at (UTC)").fill("2031-10-01T00:00")
    dialog.locator("#confirm-action").click()
    expect(page.get_by_text("New expiry of store-berlin saved for Maria Garcia.")).to_be_visible()
    assert RoleContext.objects.get(
        account=people["Maria"], name="store-berlin"
    ).expiration == datetime(2031, 10, 1, tzinfo=UTC)

    page.get_by_role("link", name="Revoke store-berlin from Ken Adams").click()
    dialog = page.locator("#action-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Revoke store-berlin — Ken Adams")
    dialog.get_by_label("Reason").fill("Moved to another store")
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / "role-context-revoke-390x844.png"))
    dialog.locator("#confirm-action").click()
    expect(page.get_by_text("store-berlin revoked from Ken Adams.")).to_be_visible()
    assert not RoleContext.objects.filter(account=people["Ken"], name="store-berlin").exists()
    expect(page.locator("#context-holders tbody tr")).to_have_count(1)
    assert csp_violations == []


def test_the_account_page_suggests_context_names_and_asks_before_creating_one(
    page, live_server, stores, csp_violations
):
    account = stores["people"]["Lena"]
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, stores["lead"])
    page.goto(f"{live_server.url}/console/accounts/{stores['tenant'].slug}/{account.uid}/")
    page.locator("#action-context_add").click()
    dialog = page.locator("#action-dialog")
    name = dialog.get_by_label("Role context")
    expect(dialog).to_be_visible()
    # Typed as a person types (one input event per key), so a key typed while htmx still
    # wires the just-opened dialog is followed by others it does see.
    name.press_sequentially("ber", delay=100)
    # The suggestions narrow to what was typed (htmx refreshes the datalist).
    expect(dialog.locator("datalist option")).to_have_count(1)
    expect(dialog.locator("datalist option")).to_have_attribute("value", "store-berlin")
    name.fill("store-berln")
    dialog.get_by_label("store_manager").check()
    dialog.get_by_label("Never expires").check()
    dialog.locator("textarea[name=reason]").fill("Helps in Berlin")
    dialog.locator("#confirm-action").click()
    expect(dialog.get_by_role("alert")).to_contain_text("No role context is named store-berln")
    assert not RoleContext.objects.filter(account=account, name="store-berln").exists()
    assert_no_serious_violations(page)
    name.fill("store-berlin")
    dialog.locator("#confirm-action").click()
    expect(page.get_by_text("Role context added.")).to_be_visible()
    assert RoleContext.objects.filter(account=account, name="store-berlin").exists()
    assert csp_violations == []

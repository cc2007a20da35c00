"""The grouped tenant settings at a laptop's 1366x768: a refused save puts the error summary
in view with the focus on it, its links lead to the fields, and the typed values stay."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import AuditEvent
from tests.console.browser.steps import sign_in
from tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refused_save_shows_the_summary_and_leads_to_the_field(
    page, live_server, make_staff, shot, csp_violations
):
    tenant = TenantFactory(name="Acme")
    admin = make_staff("Admin", tenant, username="admin.ada")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, admin)
    page.goto(f"{live_server.url}/console/tenants/{tenant.slug}/")
    expect(page.get_by_role("group", name="Retention")).to_be_visible()
    page.get_by_label("Password minimum length").fill("40")
    page.get_by_label("Password maximum length").fill("20")
    page.get_by_label("Job reports kept (days)").fill("400")
    page.get_by_role("button", name="Save settings").click()

    summary = page.get_by_role("alert").filter(has_text="Nothing was saved")
    expect(summary).to_be_in_viewport()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("2 problems")
    shot(page, "tenant-settings-refused")
    summary.get_by_role("link", name=re.compile(r"^Job reports kept")).click()
    field = page.get_by_label("Job reports kept (days)")
    expect(field).to_be_in_viewport()
    expect(field).to_have_value("400")
    expect(page.get_by_label("Password minimum length")).to_have_value("40")
    tenant.refresh_from_db()
    assert tenant.settings == {}
    assert not AuditEvent.objects.filter(tenant=tenant, action="tenant.updated").exists()
    assert csp_violations == []

"""Removing a staff member's access to a tenant is confirmed first and needs a reason, which
the audit event carries; without them nothing changes."""

import pytest
from django.urls import reverse

from portal import staff
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_staff, tenant):
    return make_staff("Admin", tenant)


@pytest.fixture
def admin_client(admin, console_client):
    return console_client(admin)


@pytest.fixture
def agent(make_staff, tenant):
    return make_staff("Agent", tenant, perms=["view_accounts", "manage_accounts"])


def held(user, tenant):
    return sorted(
        p
        for p in staff.TENANT_PERMISSIONS
        if staff.staff_can(user=user, tenant=tenant, permission=p)
    )


def remove(client, tenant, user, **fields):
    data = {"user": user.username, "reason": "left the support team", "confirmed": "True", **fields}
    return client.post(
        reverse("console:staff_revoke", args=[tenant.slug]),
        {k: v for k, v in data.items() if v is not None},
    )


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_removal_without_a_reason_changes_nothing(admin_client, tenant, agent, reason):
    before = held(agent, tenant), AuditEvent.objects.count()
    response = remove(admin_client, tenant, agent, reason=reason)
    assert response.status_code == 400
    assert "reason" in response.content.decode().lower()
    assert (held(agent, tenant), AuditEvent.objects.count()) == before


def test_removal_without_confirmation_asks_and_changes_nothing(admin_client, tenant, agent):
    before = held(agent, tenant), AuditEvent.objects.count()
    response = remove(admin_client, tenant, agent, confirmed=None)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Are you sure?" in page and agent.username in page and "left the support team" in page
    assert 'name="confirmed" value="True"' in page
    assert (held(agent, tenant), AuditEvent.objects.count()) == before


def test_confirmed_removal_with_a_reason_is_audited(admin_client, tenant, agent):
    response = remove(admin_client, tenant, agent)
    assert response.status_code == 302
    assert held(agent, tenant) == []
    event = AuditEvent.objects.get(tenant=tenant, action="staff_access.revoked")
    assert event.reason == "left the support team"
    assert event.diff["user"] == [agent.username, agent.username]


def test_the_tenant_screen_asks_for_a_reason_before_removing(admin_client, tenant, agent):
    page = admin_client.get(reverse("console:tenant_detail", args=[tenant.slug])).content.decode()
    form = page.split('id="staff"', 1)[1]
    assert f'value="{agent.username}"' in form and 'name="reason"' in form


def test_an_unknown_staff_member_changes_nothing(admin_client, tenant, agent):
    before = AuditEvent.objects.count()
    response = admin_client.post(
        reverse("console:staff_revoke", args=[tenant.slug]),
        {"user": "nobody", "reason": "r", "confirmed": "True"},
    )
    assert response.status_code in (302, 400)
    assert AuditEvent.objects.count() == before
    assert held(agent, tenant) == ["manage_accounts", "view_accounts"]

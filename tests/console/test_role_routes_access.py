"""The access matrix of the roles screens: who may read each route and who may write through
it; a refused write changes nothing."""

import pytest
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent
from roles.models import RoleContext
from tests.console.test_account_actions import _make_role
from tests.console.test_role_context_screens import give_context
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant):
    _make_role(tenant, "store_manager")
    ann = AccountFactory(tenant=tenant, email="ann@ex.com")
    AccountFactory(tenant=tenant, email="bea@ex.com")
    give_context(tenant, ann, "store-berlin")
    return {"tenant": tenant, "ann": ann}


def reads(world) -> list[str]:
    return [
        reverse("console:roles"),
        reverse("console:role_detail", args=["store_manager"]),
        reverse("console:role_context_list"),
        reverse("console:role_context_expiring"),
        reverse("console:role_context_names") + "?q=store",
        reverse("console:role_context_detail", args=["store-berlin"]),
    ]


def writes(world) -> list[tuple[str, dict]]:
    ann = world["ann"].uid
    action = lambda op: reverse("console:role_context_action", args=["store-berlin", op])  # noqa: E731
    return [
        (
            action("extend") + f"?account={ann}",
            {"account": ann, "never_expires": "on", "reason": "r"},
        ),
        (action("revoke") + f"?account={ann}", {"account": ann, "reason": "r"}),
        (
            action("add_holder"),
            {
                "holder": "bea@ex.com",
                "roles": ["store_manager"],
                "never_expires": "on",
                "reason": "r",
            },
        ),
    ]


def snapshot(world):
    return (
        AuditEvent.objects.count(),
        sorted(
            RoleContext.objects.filter(tenant=world["tenant"]).values_list(
                "account_id", "name", "expiration", "modified"
            )
        ),
    )


def test_anonymous_is_sent_to_sign_in(world):
    client = Client()
    before = snapshot(world)
    for url in reads(world) + [u for u, _ in writes(world)]:
        response = client.get(url)
        assert response.status_code == 302 and "/console/login/" in response["Location"], url
    for url, data in writes(world):
        response = client.post(url, data)
        assert response.status_code == 302 and "/console/login/" in response["Location"], url
    assert snapshot(world) == before


def test_a_user_without_a_console_role_is_refused(world, make_staff, console_client):
    client = console_client(make_staff(None, world["tenant"]))
    for url in reads(world):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", ["Viewer", "Agent"])
def test_viewers_and_agents_read_but_cannot_write(world, make_staff, console_client, role):
    client = console_client(make_staff(role, world["tenant"]))
    for url in reads(world):
        assert client.get(url).status_code == 200, url
    before = snapshot(world)
    for url, data in writes(world):
        assert client.get(url).status_code == 403, url
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "Manage roles" in response.content.decode()
    assert snapshot(world) == before


def test_a_lead_without_the_manage_roles_permission_cannot_write(world, make_staff, console_client):
    lead = make_staff("Lead", world["tenant"], perms=["view_accounts", "manage_accounts"])
    client = console_client(lead)
    before = snapshot(world)
    for url, data in writes(world):
        assert client.post(url, data).status_code == 403, url
    assert snapshot(world) == before


@pytest.mark.parametrize("role", ["Lead", "Admin"])
def test_leads_and_admins_read_and_open_every_write(world, make_staff, console_client, role):
    client = console_client(make_staff(role, world["tenant"]))
    for url in reads(world):
        assert client.get(url).status_code == 200, url
    for url, _data in writes(world):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["Viewer", "Lead", "Admin"])
def test_staff_of_another_tenant_see_nothing_of_this_one(
    world, make_staff, console_client, other_tenant, role
):
    client = console_client(make_staff(role, other_tenant))
    assert client.get(reverse("console:role_detail", args=["store_manager"])).status_code == 404
    assert (
        client.get(reverse("console:role_context_detail", args=["store-berlin"])).status_code == 404
    )
    names = client.get(reverse("console:role_context_names"), {"q": "store", "format": "json"})
    assert names.json() == {"names": []}
    for page in ("console:roles", "console:role_context_list", "console:role_context_expiring"):
        assert b"store-berlin" not in client.get(reverse(page)).content
    before = snapshot(world)
    for url, data in writes(world):
        assert client.post(url, data).status_code in (403, 404), url
    assert snapshot(world) == before

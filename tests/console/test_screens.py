"""Roles and custom-object type screens, search filters, static files with DEBUG off."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from customobjects.models import CustomObjectType
from portal.audit import Actor
from portal.models import AuditEvent
from roles.models import Role
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(make_staff, console_client, tenant):
    def make(role="Agent", perms=None):
        return console_client(make_staff(role, tenant, perms))

    return make


def _roles_state(tenant):
    return sorted(
        (r.name, tuple(r.permissions)) for r in Role.objects.filter(tenant=tenant)
    ), AuditEvent.objects.count()


# Roles ---------------------------------------------------------------------------------------


def test_a_lead_creates_changes_and_deletes_roles(client_for, tenant, lr):
    lead = client_for("Lead")
    write = lambda op, **data: lead.post(reverse("console:role_write", args=[op]), data)  # noqa: E731
    assert write("create", name="support", permissions="read, write").status_code == 302
    api_roles = lr.get("/identity/v2/manage/role").json()["data"]
    assert [(r["Name"], r["Permissions"]) for r in api_roles] == [
        ("support", {"read": True, "write": True})
    ]
    write("add_permissions", name="support", permissions="refund")
    write("remove_permissions", name="support", permissions="write")
    assert Role.objects.get(tenant=tenant, name="support").permissions == ["read", "refund"]
    before = _roles_state(tenant)
    write("delete", name="support", confirm_name="wrong")
    assert _roles_state(tenant) == before
    write("delete", name="support", confirm_name="support")
    assert not Role.objects.filter(tenant=tenant).exists()
    actions = list(
        AuditEvent.objects.filter(tenant=tenant, action__startswith="role.").values_list(
            "action", flat=True
        )
    )
    assert sorted(set(actions)) == ["role.created", "role.deleted", "role.permissions_changed"]


def test_an_invalid_or_taken_role_name_is_refused_as_by_the_api(client_for, tenant):
    lead = client_for("Lead")
    lead.post(reverse("console:role_write", args=["create"]), {"name": "support"})
    before = _roles_state(tenant)
    response = lead.post(reverse("console:role_write", args=["create"]), {"name": "support"})
    assert "Refused" in lead.get(response["Location"]).content.decode()
    lead.post(reverse("console:role_write", args=["create"]), {"name": "bad name!"})
    assert _roles_state(tenant) == before


def test_an_agent_sees_roles_but_cannot_change_them(client_for, tenant):
    from roles.commands import RoleInput, RolesCreate
    from roles.services import roles_create

    roles_create(
        RolesCreate(roles=[RoleInput("support", ("read",))]), tenant=tenant, actor=Actor.system("t")
    )
    agent = client_for("Agent")
    page = agent.get(reverse("console:roles")).content.decode()
    assert "support" in page and "Create role" not in page and "Delete role" not in page
    before = _roles_state(tenant)
    for op, data in (
        ("create", {"name": "x"}),
        ("delete", {"name": "support", "confirm_name": "support"}),
        ("add_permissions", {"name": "support", "permissions": "p"}),
    ):
        assert agent.post(reverse("console:role_write", args=[op]), data).status_code == 403
    assert _roles_state(tenant) == before


def test_roles_screen_lists_holders_and_accounts_per_context(client_for, tenant, other_tenant):
    from roles.commands import (
        AccountRolesAssign,
        ContextGrant,
        RoleContextGrant,
        RoleInput,
        RolesCreate,
    )
    from roles.services import account_roles_assign, role_contexts_upsert, roles_create

    actor = Actor.system("t")
    roles_create(RolesCreate(roles=[RoleInput("editor", ("edit",))]), tenant=tenant, actor=actor)
    roles_create(
        RolesCreate(roles=[RoleInput("hidden-role", ())]), tenant=other_tenant, actor=actor
    )
    ann, bob = AccountFactory(tenant=tenant), AccountFactory(tenant=tenant)
    account_roles_assign(
        AccountRolesAssign(roles=["editor"]), tenant=tenant, actor=actor, account=ann
    )
    role_contexts_upsert(
        RoleContextGrant(
            contexts=[
                ContextGrant(
                    name="shop-9", roles=("editor",), expiration=timezone.now() - timedelta(days=1)
                )
            ]
        ),
        tenant=tenant,
        actor=actor,
        account=bob,
    )
    viewer = client_for("Viewer")
    page = viewer.get(reverse("console:roles")).content.decode()
    assert "1 account" in page and "shop-9" in page and "hidden-role" not in page
    holders = viewer.get(reverse("console:role_detail", args=["editor"])).content.decode()
    assert ann.uid in holders and bob.uid in holders
    page = viewer.get(reverse("console:role_context_detail", args=["shop-9"])).content.decode()
    table = page.split('id="context-holders"')[1]
    assert bob.uid in table and "expired" in table


# Custom-object types ---------------------------------------------------------------------------


def test_an_admin_creates_edits_and_deletes_types(client_for, tenant, lr):
    admin = client_for("Admin")
    write = lambda *args, **data: admin.post(reverse("console:object_type_write", args=args), data)  # noqa: E731
    response = write(
        "create",
        name="Orders",
        schema='{"type": "object"}',
        max_records_per_account="5",
        reason="new checkout",
    )
    assert response.status_code == 302
    object_type = CustomObjectType.objects.get(tenant=tenant)
    assert (object_type.name, object_type.schema, object_type.max_records_per_account) == (
        "Orders",
        {"type": "object"},
        5,
    )
    event = AuditEvent.objects.get(tenant=tenant, action="customobject_type.created")
    assert event.reason == "new checkout"
    assert (
        write(
            object_type.pk,
            "edit",
            name="Orders",
            schema="",
            max_records_per_account="7",
            max_bytes=str(object_type.max_bytes),
            max_depth=str(object_type.max_depth),
            reason="more",
        ).status_code
        == 302
    )
    object_type.refresh_from_db()
    assert (object_type.schema, object_type.max_records_per_account) == (None, 7)
    write(object_type.pk, "delete", confirm_name="Nope", reason="x")
    assert CustomObjectType.objects.filter(pk=object_type.pk).exists()
    write(object_type.pk, "delete", confirm_name="Orders", reason="retired")
    assert not CustomObjectType.objects.filter(pk=object_type.pk).exists()


def test_type_errors_are_shown_and_change_nothing(client_for, tenant):
    admin = client_for("Admin")
    count = AuditEvent.objects.count()
    for data in (
        {"name": "T", "schema": "{not json", "reason": "r"},
        {"name": "T", "schema": '{"type": "nonsense"}', "reason": "r"},
        {"name": "T", "max_bytes": "999999999999", "reason": "r"},
        {"name": "T"},
    ):
        response = admin.post(reverse("console:object_type_write", args=["create"]), data)
        assert response.status_code == 400, data
    assert not CustomObjectType.objects.exists() and AuditEvent.objects.count() == count


def test_a_type_holding_records_is_kept_unless_forced(client_for, tenant):
    from customobjects.commands import ObjectTypeCreate, RecordCreate
    from customobjects.services import object_type_create, record_create

    object_type = object_type_create(
        ObjectTypeCreate(name="Orders"), tenant=tenant, actor=Actor.system("t")
    )
    record_create(
        RecordCreate(data={"a": 1}),
        tenant=tenant,
        actor=Actor.system("t"),
        object_type=object_type,
        account=AccountFactory(tenant=tenant),
    )
    admin = client_for("Admin")
    url = reverse("console:object_type_write", args=[object_type.pk, "delete"])
    response = admin.post(url, {"confirm_name": "Orders", "reason": "r"})
    assert "still holds 1 records" in admin.get(response["Location"]).content.decode()
    assert CustomObjectType.objects.filter(pk=object_type.pk).exists()
    admin.post(url, {"confirm_name": "Orders", "reason": "r", "force": "on"})
    assert not CustomObjectType.objects.filter(pk=object_type.pk).exists()


def test_only_admins_reach_the_types_screen(client_for, tenant, other_tenant):
    from customobjects.commands import ObjectTypeCreate
    from customobjects.services import object_type_create

    theirs = object_type_create(
        ObjectTypeCreate(name="Theirs"), tenant=other_tenant, actor=Actor.system("t")
    )
    lead = client_for("Lead")
    assert lead.get(reverse("console:object_types")).status_code == 403
    assert (
        lead.post(
            reverse("console:object_type_write", args=["create"]), {"name": "X", "reason": "r"}
        ).status_code
        == 403
    )
    assert "Custom objects" not in lead.get(reverse("console:dashboard")).content.decode()
    admin = client_for("Admin")
    assert "Theirs" not in admin.get(reverse("console:object_types")).content.decode()
    response = admin.post(
        reverse("console:object_type_write", args=[theirs.pk, "delete"]),
        {"confirm_name": "Theirs", "reason": "r", "force": "on"},
    )
    assert response.status_code == 404
    assert (
        CustomObjectType.objects.filter(pk=theirs.pk).exists()
        and not CustomObjectType.objects.filter(tenant=tenant).exists()
    )


# Search filters --------------------------------------------------------------------------------


def _count(response) -> int:
    import re

    if response.status_code == 302:  # a single hit opens the account
        return 1 if "/console/accounts/" in response["Location"] else 0
    match = re.search(rb"<strong>(\d+)</strong> accounts? found", response.content)
    return int(match.group(1)) if match else 0


def test_search_filters_has_mfa_role_and_created_range(client_for, tenant):
    from roles.commands import AccountRolesAssign, RoleInput, RolesCreate
    from roles.services import account_roles_assign, roles_create
    from security.models import TotpFactor

    agent = client_for("Agent")
    with_mfa, with_role, old = (AccountFactory(tenant=tenant, first_name="Kim") for _ in range(3))
    TotpFactor.objects.create(tenant=tenant, account=with_mfa, secret_encrypted="x", confirmed=True)
    roles_create(RolesCreate(roles=[RoleInput("vip", ())]), tenant=tenant, actor=Actor.system("t"))
    account_roles_assign(
        AccountRolesAssign(roles=["vip"]), tenant=tenant, actor=Actor.system("t"), account=with_role
    )
    Account.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=40))
    search = lambda **p: agent.get(  # noqa: E731
        agent.post(reverse("console:account_search"), {"q": "Kim", **p})["Location"]
    )
    assert _count(search()) == 3
    assert _count(search(has_mfa="yes")) == 1 and _count(search(has_mfa="no")) == 2
    assert _count(search(role="vip")) == 1
    since = (timezone.now() - timedelta(days=2)).date().isoformat()
    assert _count(search(created_from=since)) == 2
    assert _count(search(created_to=since)) == 1
    bad = search(created_from="2030-01-02", created_to="2030-01-01")
    assert b"before its start" in bad.content
    # Filters alone, without a query, list matching accounts too.
    assert _count(agent.get(reverse("console:account_search"), {"role": "vip"})) == 1


def test_search_is_sortable(client_for, tenant):
    agent = client_for("Agent")
    zulu = AccountFactory(tenant=tenant, first_name="Sam", last_name="Zulu").uid
    alpha = AccountFactory(tenant=tenant, first_name="Sam", last_name="Alpha").uid
    results = agent.post(reverse("console:account_search"), {"q": "Sam"})["Location"]
    up = agent.get(results + "&sort=name").content.decode()
    down = agent.get(results + "&sort=-name").content.decode()
    # Sorted on the full names, whether or not the reader sees them masked.
    assert up.index(alpha) < up.index(zulu) and down.index(zulu) < down.index(alpha)


def test_console_search_uses_the_accounts_filterset():
    from accounts.filters import AccountFilter
    from portal.console import filters
    from portal.console.views import accounts as views

    # The has-MFA and role filters live in the accounts filterset, so the API has them too.
    assert views.AccountFilter is AccountFilter
    assert {"has_mfa", "role"} <= set(AccountFilter.base_filters)
    assert not hasattr(filters, "ConsoleAccountFilter")


def test_role_changes_record_reason_and_ticket(client_for, tenant):
    lead = client_for("Lead")
    write = lambda op, **data: lead.post(reverse("console:role_write", args=[op]), data)  # noqa: E731
    page = lead.get(reverse("console:roles")).content.decode()
    assert 'name="reason"' in page and 'name="ticket"' in page
    steps = [
        ("create", {"name": "support", "permissions": "read"}, "role.created"),
        (
            "add_permissions",
            {"name": "support", "permissions": "refund"},
            "role.permissions_changed",
        ),
        (
            "remove_permissions",
            {"name": "support", "permissions": "read"},
            "role.permissions_changed",
        ),
        ("delete", {"name": "support", "confirm_name": "support"}, "role.deleted"),
    ]
    for n, (op, data, action) in enumerate(steps):
        assert write(op, reason=f"why {n}", ticket=f"SUP-{n}", **data).status_code == 302
        event = AuditEvent.objects.filter(action=action).order_by("-id").first()
        assert (event.reason, event.ticket) == (f"why {n}", f"SUP-{n}"), op
    assert not Role.objects.filter(tenant=tenant).exists()


# Static files ----------------------------------------------------------------------------------


def test_static_files_are_served_with_debug_off(settings):
    settings.DEBUG = False
    response = Client().get("/static/console/console.css")
    assert response.status_code == 200
    assert b".account-grid" in b"".join(response.streaming_content)
    assert Client().get("/static/vendor/htmx/htmx-2.0.11.min.js").status_code == 200


def test_unknown_type_operations_are_not_found(client_for, tenant):
    admin = client_for("Admin")
    for args in (["delete"], ["edit"], ["explode"]):
        assert (
            admin.post(
                reverse("console:object_type_write", args=args), {"confirm_name": "x"}
            ).status_code
            == 404
        )
    assert admin.post(reverse("console:role_write", args=["explode"]), {}).status_code == 404

"""Every console view: anonymous users go to sign-in, staff without the tenant get 403/404,
and a Viewer's write attempts are refused with nothing changed."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.commands import AccountDelete
from accounts.models import Account
from approvals.commands import ApprovalRequestCreate
from approvals.services import approval_request
from portal.audit import Actor
from portal.models import ApiCredential, AuditEvent
from security.commands import RecoveryCaseOpen
from security.services.recovery import recovery_case_open
from tests.factories import AccountFactory, ApiCredentialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant):
    account = AccountFactory(tenant=tenant, email="ann@example.com")
    credential = ApiCredentialFactory(tenant=tenant)
    approval = approval_request(
        ApprovalRequestCreate(
            gate="account.delete",
            command=AccountDelete(reason="r").to_json(seal=True),
            account_uid=account.uid,
            reason="r",
        ),
        tenant=tenant,
        actor=Actor.credential(credential),
    )
    case = recovery_case_open(
        RecoveryCaseOpen(purpose="factor.reset", factor="totp", reason="r"),
        tenant=tenant,
        actor=Actor.credential(credential),
        account=account,
    )
    return {
        "tenant": tenant,
        "account": account,
        "credential": credential,
        "approval": approval,
        "recovery": case,
    }


def _urls(world):
    t, a, c = world["tenant"], world["account"], world["credential"]
    approval = reverse("console:approval_detail", args=[t.slug, world["approval"].pk])
    recovery = reverse("console:recovery_start", args=[t.slug, a.uid])
    case = reverse("console:recovery_case", args=[t.slug, world["recovery"].pk])
    return {
        "get": [
            reverse("console:dashboard"),
            reverse("console:account_search") + "?q=ann",
            reverse("console:account_detail", args=[t.slug, a.uid]),
            reverse("console:account_action", args=[t.slug, a.uid, "block"]),
            reverse("console:account_reveal", args=[t.slug, a.uid]),
            reverse("console:audit_log"),
            reverse("console:audit_export"),
            reverse("console:tenant_list"),
            reverse("console:tenant_detail", args=[t.slug]),
            reverse("console:approvals"),
            approval,
            recovery,
            case,
        ],
        "post": [
            (approval, {"decision": "approve"}),
            (approval, {"decision": "deny"}),
            (approval, {"decision": "collect"}),
            (recovery, {"purpose": "factor.reset", "factor": "totp", "reason": "r"}),
            (case, {"step": "document", "reference": "D-1", "confirmed": "on"}),
            (case, {"step": "proceed"}),
            (case, {"step": "close", "reason": "r"}),
            (reverse("console:tenant_switch"), {"tenant": t.pk}),
            (
                reverse("console:account_action", args=[t.slug, a.uid, "block"]),
                {"reason": "r", "confirmed": "True"},
            ),
            (
                reverse("console:account_action", args=[t.slug, a.uid, "unlock"]),
                {"reason": "r", "confirmed": "True"},
            ),
            (reverse("console:tenant_list"), {"name": "Evil"}),
            (reverse("console:tenant_settings", args=[t.slug]), {"lockout_threshold": 1}),
            (reverse("console:credential_create", args=[t.slug]), {"label": "x"}),
            (reverse("console:credential_rotate", args=[t.slug]), {"overlap_hours": 0}),
            (reverse("console:credential_revoke", args=[t.slug, c.pk]), {"reason": "r"}),
            (
                reverse("console:staff_grant", args=[t.slug]),
                {"user": "x", "permissions": ["view_accounts"]},
            ),
            (reverse("console:staff_revoke", args=[t.slug]), {"user": "x"}),
        ],
    }


def _snapshot(world):
    t = world["tenant"]
    t.refresh_from_db()
    return (
        AuditEvent.objects.count(),
        list(
            Account.objects.filter(tenant=t).values_list(
                "uid", "is_active", "login_lockout__locked_type"
            )
        ),
        list(ApiCredential.objects.values_list("pk", "revoked_at", "expires_at")),
        dict(t.settings),
        ApiCredential.objects.count(),
    )


def test_anonymous_is_sent_to_sign_in(world):
    client = Client()
    urls = _urls(world)
    for url in urls["get"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("console:login")), url
    before = _snapshot(world)
    for url, data in urls["post"]:
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("console:login")), url
    assert _snapshot(world) == before


@pytest.mark.parametrize("role", ["Viewer", "Agent", "Lead", "Admin"])
def test_staff_without_the_tenant_sees_nothing_of_it(
    world, make_staff, console_client, other_tenant, role
):
    user = make_staff(role, other_tenant)  # granted another tenant only
    client = console_client(user)
    t, a = world["tenant"], world["account"]
    # Lists show their own tenant, never this one.
    detail = reverse("console:account_detail", args=[t.slug, a.uid]).encode()
    search = client.get(client.post(reverse("console:account_search"), {"q": a.uid})["Location"])
    assert search.status_code == 200 and detail not in search.content
    assert b"No account matches" in search.content
    audit_page = client.get(reverse("console:audit_log") + "?subject_uid=" + a.uid)
    assert audit_page.status_code == 200 and b"No audit event matches" in audit_page.content
    for url in (
        reverse("console:account_detail", args=[t.slug, a.uid]),
        reverse("console:account_action", args=[t.slug, a.uid, "block"]),
        reverse("console:account_reveal", args=[t.slug, a.uid]),
        reverse("console:tenant_detail", args=[t.slug]),
    ):
        assert client.get(url).status_code in (403, 404), url
    reveal = reverse("console:account_reveal", args=[t.slug, a.uid])
    assert client.post(reveal, {"reason": "r"}).status_code in (403, 404)
    before = _snapshot(world)
    for url, data in _urls(world)["post"]:
        if url == reverse("console:tenant_list"):
            continue  # creating a new tenant does not touch this one (see Admin tests)
        if url == reverse("console:tenant_switch"):
            assert client.post(url, data).status_code == 404
            continue
        assert client.post(url, data).status_code in (403, 404), url
    assert _snapshot(world) == before


def test_staff_with_no_tenant_at_all_get_a_403_that_says_what_to_do(
    world, make_staff, console_client
):
    client = console_client(make_staff("Agent"))
    assert client.get(reverse("console:dashboard")).status_code == 200  # the empty state
    for url in (
        reverse("console:account_search"),
        reverse("console:audit_log"),
        reverse("console:audit_export"),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"Ask an Admin" in response.content


def test_user_without_a_role_is_refused(world, make_staff, console_client):
    client = console_client(make_staff(None, world["tenant"]))
    response = client.get(reverse("console:dashboard"))
    assert response.status_code == 403
    assert b"Viewer, Agent, Lead or Admin" in response.content


def test_viewer_cannot_write_and_nothing_changes(world, make_staff, console_client):
    viewer = make_staff("Viewer", world["tenant"])  # every tenant permission, but the Viewer role
    client = console_client(viewer)
    t, a = world["tenant"], world["account"]
    assert client.get(reverse("console:account_detail", args=[t.slug, a.uid])).status_code == 200
    before = _snapshot(world)
    for url, data in _urls(world)["post"]:
        if url == reverse("console:tenant_switch"):
            continue
        response = client.post(url, data)
        assert response.status_code == 403, url
    assert _snapshot(world) == before


def test_viewer_sees_no_action_buttons(world, make_staff, console_client):
    client = console_client(make_staff("Viewer", world["tenant"]))
    t, a = world["tenant"], world["account"]
    page = client.get(reverse("console:account_detail", args=[t.slug, a.uid]))
    assert b"action-block" not in page.content
    assert b"can view this account but not act on it" in page.content
    assert b'href="/console/tenants/"' not in page.content


def test_agent_without_manage_permission_cannot_act(world, make_staff, console_client):
    agent = make_staff("Agent", world["tenant"], perms=["view_accounts"])
    client = console_client(agent)
    t, a = world["tenant"], world["account"]
    page = client.get(reverse("console:account_detail", args=[t.slug, a.uid]))
    assert page.status_code == 200 and b"action-block" not in page.content
    before = _snapshot(world)
    response = client.post(
        reverse("console:account_action", args=[t.slug, a.uid, "block"]),
        {"reason": "r", "confirmed": "True"},
    )
    assert response.status_code == 403
    assert b"Act on accounts" in response.content
    assert _snapshot(world) == before


def test_agent_does_not_see_or_reach_tenant_admin(world, make_staff, console_client):
    client = console_client(make_staff("Agent", world["tenant"]))
    page = client.get(reverse("console:dashboard"))
    assert b'href="/console/tenants/"' not in page.content
    assert client.get(reverse("console:tenant_list")).status_code == 403
    assert (
        client.get(reverse("console:tenant_detail", args=[world["tenant"].slug])).status_code == 403
    )


def test_admin_without_administer_permission_cannot_manage_the_tenant(
    world, make_staff, console_client
):
    admin = make_staff("Admin", world["tenant"], perms=["view_accounts", "manage_accounts"])
    client = console_client(admin)
    t = world["tenant"]
    assert client.get(reverse("console:tenant_detail", args=[t.slug])).status_code == 403
    before = _snapshot(world)
    response = client.post(
        reverse("console:credential_rotate", args=[t.slug]), {"overlap_hours": 0}
    )
    assert response.status_code == 403
    assert _snapshot(world) == before


def test_unknown_account_or_action_is_404(world, make_staff, console_client):
    client = console_client(make_staff("Agent", world["tenant"]))
    t, a = world["tenant"], world["account"]
    assert client.get(reverse("console:account_detail", args=[t.slug, "nope"])).status_code == 404
    assert (
        client.get(reverse("console:account_action", args=[t.slug, a.uid, "explode"])).status_code
        == 404
    )


def test_not_found_inside_the_console_keeps_the_shell(world, make_staff, console_client):
    client = console_client(make_staff("Agent", world["tenant"]))
    response = client.get(reverse("console:account_detail", args=[world["tenant"].slug, "missing"]))
    assert response.status_code == 404
    assert b"ask an Admin for access" in response.content and b"Audit log" in response.content


def test_tenant_switch_never_redirects_off_site(world, make_staff, console_client):
    client = console_client(make_staff("Agent", world["tenant"]))
    response = client.post(
        reverse("console:tenant_switch"),
        {"tenant": world["tenant"].pk, "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("console:dashboard")

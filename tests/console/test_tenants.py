import pytest
from django.urls import reverse

from portal import staff
from portal.models import ApiCredential, AuditEvent, Tenant
from tests.factories import ApiCredentialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_staff, tenant):
    return make_staff("Admin", tenant)


@pytest.fixture
def admin_client(admin, console_client):
    return console_client(admin)


def test_admin_sees_the_tenants_screen(admin_client, tenant):
    page = admin_client.get(reverse("console:tenant_list"))
    assert page.status_code == 200 and tenant.name.encode() in page.content
    detail = admin_client.get(reverse("console:tenant_detail", args=[tenant.slug]))
    assert detail.status_code == 200
    assert b"API secrets" in detail.content and b"Staff access" in detail.content


def test_create_tenant_shows_its_secret_once_and_grants_the_creator(admin_client, admin):
    response = admin_client.post(reverse("console:tenant_list"), {"name": "Globex"})
    assert response.status_code == 200
    tenant = Tenant.objects.get(name="Globex")
    credential = ApiCredential.objects.get(tenant=tenant)
    raw = credential.raw_secret()
    assert raw.encode() in response.content
    assert response["Cache-Control"] == "no-store"
    assert staff.staff_can(user=admin, tenant=tenant, permission="administer_tenant")
    detail = admin_client.get(reverse("console:tenant_detail", args=[tenant.slug]))
    assert raw.encode() not in detail.content
    assert credential.secret_hint.encode() in detail.content
    assert AuditEvent.objects.filter(tenant=tenant, action="tenant.created").exists()


def test_rotate_shows_the_new_secret_exactly_once(admin_client, tenant):
    old = ApiCredentialFactory(tenant=tenant)
    response = admin_client.post(
        reverse("console:credential_rotate", args=[tenant.slug]),
        {"credential": old.pk, "overlap_hours": 0, "reason": "leaked", "confirmed": "True"},
    )
    assert response.status_code == 200
    new = ApiCredential.objects.filter(tenant=tenant).exclude(pk=old.pk).get()
    assert new.raw_secret().encode() in response.content
    old.refresh_from_db()
    assert old.revoked_at is not None
    page = admin_client.get(reverse("console:tenant_detail", args=[tenant.slug]))
    assert new.raw_secret().encode() not in page.content
    assert old.raw.encode() not in page.content


def test_rotate_with_overlap_keeps_the_old_secret_until_then(admin_client, tenant):
    old = ApiCredentialFactory(tenant=tenant)
    admin_client.post(
        reverse("console:credential_rotate", args=[tenant.slug]),
        {"credential": old.pk, "overlap_hours": 24, "reason": "yearly", "confirmed": "True"},
    )
    old.refresh_from_db()
    assert old.revoked_at is None and old.expires_at is not None


def test_create_and_revoke_a_secret(admin_client, tenant):
    response = admin_client.post(
        reverse("console:credential_create", args=[tenant.slug]),
        {"label": "billing", "scopes": ["accounts"]},
    )
    credential = ApiCredential.objects.get(tenant=tenant, label="billing")
    assert credential.scopes == ["accounts"]
    assert credential.raw_secret().encode() in response.content
    missing_reason = admin_client.post(
        reverse("console:credential_revoke", args=[tenant.slug, credential.pk]), {}
    )
    assert missing_reason.status_code == 302
    credential.refresh_from_db()
    assert credential.revoked_at is None
    admin_client.post(
        reverse("console:credential_revoke", args=[tenant.slug, credential.pk]),
        {"reason": "leaked"},
    )
    credential.refresh_from_db()
    assert credential.revoked_at is not None
    assert AuditEvent.objects.get(tenant=tenant, action="credential.revoked").reason == "leaked"


def test_credential_of_another_tenant_is_not_found(admin_client, tenant, other_tenant):
    theirs = ApiCredentialFactory(tenant=other_tenant)
    response = admin_client.post(
        reverse("console:credential_revoke", args=[tenant.slug, theirs.pk]), {"reason": "x"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_settings_are_saved_through_the_service(admin_client, tenant):
    url = reverse("console:tenant_settings", args=[tenant.slug])
    data = {name: tenant.setting(name) for name in ("access_token_lifetime_minutes",)}
    from portal.models import TENANT_SETTING_DEFAULTS

    data = dict(TENANT_SETTING_DEFAULTS)
    data.update(lockout_threshold=3, reason="policy")
    response = admin_client.post(url, data)
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.settings == {"lockout_threshold": 3}
    event = AuditEvent.objects.get(tenant=tenant, action="tenant.updated")
    assert event.diff == {"lockout_threshold": [None, 3]} and event.reason == "policy"


def test_invalid_settings_change_nothing(admin_client, tenant):
    from portal.models import TENANT_SETTING_DEFAULTS

    data = dict(TENANT_SETTING_DEFAULTS)
    data["lockout_threshold"] = "-5"
    response = admin_client.post(reverse("console:tenant_settings", args=[tenant.slug]), data)
    assert response.status_code == 400
    tenant.refresh_from_db()
    assert tenant.settings == {}


def test_grant_and_revoke_staff_access(admin_client, make_staff, tenant):
    agent = make_staff("Agent")
    url = reverse("console:staff_grant", args=[tenant.slug])
    admin_client.post(url, {"user": agent.username, "permissions": ["manage_accounts"]})
    assert staff.staff_can(user=agent, tenant=tenant, permission="manage_accounts")
    assert staff.staff_can(user=agent, tenant=tenant, permission="view_accounts")
    page = admin_client.get(reverse("console:tenant_detail", args=[tenant.slug]))
    assert agent.username.encode() in page.content
    admin_client.post(
        reverse("console:staff_revoke", args=[tenant.slug]),
        {"user": agent.username, "reason": "moved team", "confirmed": "True"},
    )
    assert not staff.staff_can(user=agent, tenant=tenant, permission="view_accounts")
    assert (
        AuditEvent.objects.get(tenant=tenant, action="staff_access.revoked").reason == "moved team"
    )
    assert AuditEvent.objects.filter(tenant=tenant, action__startswith="staff_access.").count() == 2


def test_admin_cannot_revoke_their_own_access(admin_client, admin, tenant):
    response = admin_client.post(
        reverse("console:staff_revoke", args=[tenant.slug]), {"user": admin.username}
    )
    assert response.status_code == 403
    assert staff.staff_can(user=admin, tenant=tenant, permission="administer_tenant")


def test_tenant_switcher_changes_the_current_tenant(
    make_staff, console_client, tenant, other_tenant
):
    user = make_staff("Agent", tenant)
    staff.staff_access_grant(
        tenant=other_tenant, actor=staff.Actor.system(), user=user, permissions=["view_accounts"]
    )
    client = console_client(user)
    client.post(reverse("console:tenant_switch"), {"tenant": other_tenant.pk})
    page = client.get(reverse("console:dashboard"))
    assert f"<h1>{other_tenant.name}</h1>".encode() in page.content

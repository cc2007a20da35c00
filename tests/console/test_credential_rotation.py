"""Rotating an API secret from the tenant screen: one credential at a time, keeping its label
and sections, the old secret working until an overlap the admin chooses; confirmed, with a
reason written to the audit log; the new secret shown once."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from portal.models import ApiCredential, AuditEvent
from tests.factories import ApiCredentialFactory
from tests.portal.conftest import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(make_staff, console_client, tenant):
    return console_client(make_staff("Admin", tenant))


@pytest.fixture
def creds(tenant):
    """Three live secrets of one tenant, two of them scoped."""
    return {
        "backend": ApiCredentialFactory(
            tenant=tenant, label="backend", scopes=["native", "accounts"]
        ),
        "billing": ApiCredentialFactory(tenant=tenant, label="billing", scopes=[]),
        "reports": ApiCredentialFactory(tenant=tenant, label="reports", scopes=["roles"]),
    }


def rotate_url(tenant):
    return reverse("console:credential_rotate", args=[tenant.slug])


def rotate(client, tenant, target, **fields):
    data = {
        "credential": target.pk,
        "overlap_hours": 2,
        "reason": "annual rotation",
        "ticket": "SEC-9",
        "confirmed": "True",
    }
    data.update(fields)
    return client.post(rotate_url(tenant), {k: v for k, v in data.items() if v is not None})


def snapshot(tenant):
    return (
        sorted(
            ApiCredential.objects.filter(tenant=tenant).values_list(
                "pk", "label", "scopes", "expires_at", "revoked_at"
            )
        ),
        AuditEvent.objects.count(),
    )


def tenant_call(tenant, secret):
    return APIClient().get(f"/api/v1/tenant?apikey={tenant.api_key}&apisecret={secret}")


def new_credential(tenant, creds):
    return (
        ApiCredential.objects.filter(tenant=tenant)
        .exclude(pk__in=[c.pk for c in creds.values()])
        .get()
    )


def test_rotating_one_secret_leaves_the_other_secrets_of_the_tenant_alone(
    admin_client, tenant, creds
):
    before = timezone.now()
    response = rotate(admin_client, tenant, creds["backend"])
    assert response.status_code == 200, response.content
    for name in ("billing", "reports"):
        creds[name].refresh_from_db()
        assert (creds[name].expires_at, creds[name].revoked_at) == (None, None), name
    old = creds["backend"]
    old.refresh_from_db()
    assert old.revoked_at is None
    assert before + timedelta(hours=2) <= old.expires_at <= timezone.now() + timedelta(hours=2)
    new = new_credential(tenant, creds)
    assert (new.label, new.scopes, new.expires_at, new.revoked_at) == (
        "backend",
        ["native", "accounts"],
        None,
        None,
    )
    assert ApiCredential.objects.filter(tenant=tenant).count() == 4


def test_the_reason_and_ticket_are_in_the_audit_events(admin_client, tenant, creds):
    rotate(admin_client, tenant, creds["backend"], reason="key found in a public repo")
    new = new_credential(tenant, creds)
    created = AuditEvent.objects.get(tenant=tenant, action="credential.created")
    assert (created.reason, created.ticket, created.actor_type) == (
        "key found in a public repo",
        "SEC-9",
        "staff",
    )
    assert created.diff["credential"] == [None, str(new.pk)]
    assert created.diff["replaces"] == [None, str(creds["backend"].pk)]
    changed = AuditEvent.objects.get(tenant=tenant, action="credential.expiry_changed")
    assert changed.reason == "key found in a public repo"
    assert changed.diff["credential"] == [str(creds["backend"].pk), str(creds["backend"].pk)]
    raw = new.raw_secret()
    assert not AuditEvent.objects.filter(diff__icontains=raw).exists()


def test_the_old_secret_authenticates_until_the_overlap_and_not_after(admin_client, tenant, creds):
    old = creds["backend"]
    assert tenant_call(tenant, old.raw).status_code == 200
    response = rotate(admin_client, tenant, old, overlap_hours=2)
    new_raw = new_credential(tenant, creds).raw_secret()
    assert new_raw.encode() in response.content
    assert tenant_call(tenant, old.raw).status_code == 200
    assert tenant_call(tenant, new_raw).status_code == 200
    with freeze_time(timezone.now() + timedelta(hours=1, minutes=59)):
        assert tenant_call(tenant, old.raw).status_code == 200
    with freeze_time(timezone.now() + timedelta(hours=2, minutes=1)):
        assert_problem(tenant_call(tenant, old.raw), "credential.api_secret_invalid", 401)
        assert tenant_call(tenant, new_raw).status_code == 200


def test_zero_overlap_revokes_the_old_secret_at_once(admin_client, tenant, creds):
    rotate(admin_client, tenant, creds["backend"], overlap_hours=0)
    creds["backend"].refresh_from_db()
    assert creds["backend"].revoked_at is not None
    refused = tenant_call(tenant, creds["backend"].raw)
    assert_problem(refused, "credential.api_secret_invalid", 401)
    assert (
        AuditEvent.objects.get(tenant=tenant, action="credential.revoked").reason
        == "annual rotation"
    )
    creds["billing"].refresh_from_db()
    assert creds["billing"].revoked_at is None and creds["billing"].expires_at is None


def test_the_new_secret_is_shown_once_with_a_copy_button(admin_client, tenant, creds):
    response = rotate(admin_client, tenant, creds["backend"])
    raw = new_credential(tenant, creds).raw_secret()
    page = response.content.decode()
    assert raw in page
    assert response["Cache-Control"] == "no-store"
    assert 'data-copy="api-secret"' in page and "console/copy.js" in page
    assert "backend" in page
    detail = admin_client.get(reverse("console:tenant_detail", args=[tenant.slug])).content.decode()
    assert raw not in detail
    assert creds["backend"].raw not in detail


def test_a_post_without_confirmation_shows_what_will_happen_and_changes_nothing(
    admin_client, tenant, creds
):
    before = snapshot(tenant)
    response = rotate(admin_client, tenant, creds["backend"], confirmed=None)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Are you sure?" in page and "annual rotation" in page
    assert f"…{creds['backend'].secret_hint}" in page and "backend" in page
    assert 'name="confirmed" value="True"' in page
    assert snapshot(tenant) == before


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_post_without_a_reason_changes_nothing(admin_client, tenant, creds, reason):
    before = snapshot(tenant)
    response = rotate(admin_client, tenant, creds["backend"], reason=reason)
    assert response.status_code == 400
    assert "reason" in response.content.decode().lower()
    assert snapshot(tenant) == before


@pytest.mark.parametrize("overlap", ["-1", "abc", str(24 * 90 + 1)])
def test_a_bad_overlap_is_refused_and_changes_nothing(admin_client, tenant, creds, overlap):
    before = snapshot(tenant)
    assert rotate(admin_client, tenant, creds["backend"], overlap_hours=overlap).status_code == 400
    assert snapshot(tenant) == before


def test_the_rotate_page_offers_a_default_overlap(admin_client, tenant, creds):
    page = admin_client.get(
        rotate_url(tenant) + f"?credential={creds['backend'].pk}"
    ).content.decode()
    assert 'name="overlap_hours"' in page and 'value="24"' in page
    assert 'name="reason"' in page


def test_a_revoked_or_foreign_secret_cannot_be_rotated(admin_client, tenant, other_tenant, creds):
    revoked = ApiCredentialFactory(tenant=tenant, label="old", revoked_at=timezone.now())
    theirs = ApiCredentialFactory(tenant=other_tenant, label="theirs")
    before = snapshot(tenant), snapshot(other_tenant)
    assert rotate(admin_client, tenant, revoked).status_code == 400
    assert rotate(admin_client, tenant, theirs).status_code == 400
    assert rotate(admin_client, tenant, creds["backend"], credential="nope").status_code == 400
    assert (snapshot(tenant), snapshot(other_tenant)) == before


def test_replaying_the_confirmation_does_not_rotate_twice(admin_client, tenant, creds):
    review = rotate(admin_client, tenant, creds["backend"], confirmed=None)
    reviewed = review.context["reviewed"]
    assert reviewed
    assert rotate(admin_client, tenant, creds["backend"], reviewed=reviewed).status_code == 200
    count = ApiCredential.objects.filter(tenant=tenant).count()
    again = rotate(admin_client, tenant, creds["backend"], reviewed=reviewed)
    assert again.status_code == 409
    assert ApiCredential.objects.filter(tenant=tenant).count() == count

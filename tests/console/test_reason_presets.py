"""Reason presets: a tenant's admins list, add, edit and remove them on a console screen;
every change goes through its service and records one event; nobody else may change them."""

import pytest
from django.urls import reverse

from portal import staff
from portal.audit import Actor
from portal.errors import InvalidInput
from portal.models import AuditEvent, ReasonPreset
from portal.reason_presets import (
    PRESETS_PER_TENANT,
    ReasonPresetCreate,
    ReasonPresetUpdate,
    reason_preset_create,
    reason_preset_update,
)

pytestmark = pytest.mark.django_db


def presets_url(tenant):
    return reverse("console:reason_presets", args=[tenant.slug])


def edit_url(preset):
    return reverse("console:reason_preset_edit", args=[preset.tenant.slug, preset.pk])


def delete_url(preset):
    return reverse("console:reason_preset_delete", args=[preset.tenant.slug, preset.pk])


def snapshot():
    return (
        sorted(ReasonPreset.objects.values_list("tenant_id", "label", "text")),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def admin(make_staff, console_client, tenant):
    return console_client(make_staff("Admin", tenant))


@pytest.fixture
def preset(tenant):
    return ReasonPreset.objects.create(tenant=tenant, label="Lost phone", text="Lost phone.")


def test_an_admin_lists_the_tenants_presets_only(admin, tenant, other_tenant, preset):
    ReasonPreset.objects.create(tenant=other_tenant, label="Foreign", text="Not here.")
    html = admin.get(presets_url(tenant)).content.decode()
    assert "Lost phone" in html and "Foreign" not in html
    tenant_page = admin.get(reverse("console:tenant_detail", args=[tenant.slug])).content.decode()
    assert presets_url(tenant) in tenant_page


def test_an_admin_adds_a_preset_with_one_event(admin, tenant):
    response = admin.post(
        presets_url(tenant), {"label": "Fraud", "text": "  Reported fraud by the owner. "}
    )
    assert response.status_code == 302
    preset = ReasonPreset.objects.get(tenant=tenant)
    assert (preset.label, preset.text) == ("Fraud", "Reported fraud by the owner.")
    [event] = AuditEvent.objects.filter(action="reason_preset.created")
    assert event.tenant_id == tenant.pk and event.actor_type == "staff"
    assert event.diff == {
        "preset": preset.pk,
        "label": [None, "Fraud"],
        "text": [None, "Reported fraud by the owner."],
    }


def test_an_admin_edits_a_preset(admin, preset):
    response = admin.post(edit_url(preset), {"label": "Lost phone", "text": "Lost it, checked."})
    assert response.status_code == 302
    preset.refresh_from_db()
    assert preset.text == "Lost it, checked."
    event = AuditEvent.objects.get(action="reason_preset.updated")
    assert event.diff == {"preset": preset.pk, "text": ["Lost phone.", "Lost it, checked."]}
    assert admin.get(edit_url(preset)).status_code == 200


def test_an_admin_removes_a_preset(admin, preset):
    response = admin.post(delete_url(preset))
    assert response.status_code == 302
    assert not ReasonPreset.objects.exists()
    event = AuditEvent.objects.get(action="reason_preset.deleted")
    assert event.diff["label"] == ["Lost phone", None]


def test_a_duplicate_or_empty_preset_is_refused_with_errors_and_changes_nothing(admin, preset):
    before = snapshot()
    response = admin.post(presets_url(preset.tenant), {"label": "lost PHONE", "text": "Again."})
    assert response.status_code == 400
    html = response.content.decode()
    assert "already has a preset named" in html
    assert (
        'id="id_label_error"' in html
        and 'aria-describedby="id_label_helptext id_label_error"' in html
    )
    assert 'role="alert"' in html
    response = admin.post(presets_url(preset.tenant), {"label": "", "text": ""})
    assert response.status_code == 400
    assert snapshot() == before


def test_an_unchanged_edit_is_refused(admin, preset):
    before = snapshot()
    response = admin.post(edit_url(preset), {"label": "Lost phone", "text": "Lost phone."})
    assert response.status_code == 400
    assert "Nothing changed" in response.content.decode()
    assert snapshot() == before


def test_another_tenants_preset_is_not_found(admin, tenant, other_tenant):
    theirs = ReasonPreset.objects.create(tenant=other_tenant, label="Theirs", text="Theirs.")
    before = snapshot()
    # Through our tenant's URL, their preset does not exist.
    assert (
        admin.get(reverse("console:reason_preset_edit", args=[tenant.slug, theirs.pk])).status_code
        == 404
    )
    admin.post(reverse("console:reason_preset_delete", args=[tenant.slug, theirs.pk]))
    # Their tenant itself is not ours to see.
    assert admin.get(presets_url(other_tenant)).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("role", ["Viewer", "Agent", "Lead"])
def test_only_admins_manage_presets(make_staff, console_client, tenant, preset, role):
    client = console_client(make_staff(role, tenant))
    before = snapshot()
    assert client.get(presets_url(tenant)).status_code == 403
    assert client.post(presets_url(tenant), {"label": "New", "text": "New."}).status_code == 403
    assert client.post(edit_url(preset), {"label": "X", "text": "Y"}).status_code == 403
    assert client.post(delete_url(preset)).status_code == 403
    assert snapshot() == before


def test_an_admin_without_the_administer_permission_may_not(
    make_staff, console_client, tenant, preset
):
    perms = [p for p in staff.TENANT_PERMISSIONS if p != "administer_tenant"]
    client = console_client(make_staff("Admin", tenant, perms))
    before = snapshot()
    assert client.post(presets_url(tenant), {"label": "New", "text": "New."}).status_code == 403
    assert client.post(delete_url(preset)).status_code == 403
    assert snapshot() == before


def test_the_service_keeps_a_tenant_under_its_limit(tenant):
    actor = Actor.system("test")
    ReasonPreset.objects.bulk_create(
        ReasonPreset(tenant=tenant, label=f"p{n}", text="t") for n in range(PRESETS_PER_TENANT)
    )
    with pytest.raises(InvalidInput):
        reason_preset_create(
            ReasonPresetCreate(label="one more", text="t"), tenant=tenant, actor=actor
        )
    assert ReasonPreset.objects.filter(tenant=tenant).count() == PRESETS_PER_TENANT


def test_the_service_refuses_another_tenants_preset(tenant, other_tenant):
    theirs = ReasonPreset.objects.create(tenant=other_tenant, label="Theirs", text="Theirs.")
    with pytest.raises(InvalidInput):
        reason_preset_update(
            ReasonPresetUpdate(preset_id=theirs.pk, label="Mine", text="Mine."),
            tenant=tenant,
            actor=Actor.system("test"),
        )
    theirs.refresh_from_db()
    assert theirs.label == "Theirs"

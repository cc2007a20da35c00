import csv
import io
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal import audit
from portal.audit import Actor
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def _event(tenant, action="tenant.updated", *, actor="alice", uid="", reason=""):
    with transaction.atomic():
        return audit.record(
            tenant=tenant,
            actor=Actor("staff", "1", actor),
            action=action,
            subject_uid=uid,
            reason=reason,
        )


@pytest.fixture
def viewer_client(make_staff, console_client, tenant):
    return console_client(make_staff("Viewer", tenant))


def test_audit_log_lists_only_the_current_tenant(viewer_client, tenant, other_tenant):
    _event(tenant, reason="ours")
    _event(other_tenant, reason="theirs")
    response = viewer_client.get(reverse("console:audit_log"))
    assert response.status_code == 200
    assert b"ours" in response.content and b"theirs" not in response.content
    assert b"<strong>1</strong> event" in response.content


def test_audit_log_filters(viewer_client, tenant):
    _event(tenant, "credential.created", actor="alice", uid="u-1", reason="rsn-first")
    _event(tenant, "credential.revoked", actor="bob", uid="u-2", reason="rsn-second")
    old = AuditEvent.objects.create(
        tenant=tenant,
        action="tenant.updated",
        actor_type="staff",
        actor_label="carol",
        reason="old-one",
        occurred_at=timezone.now() - timedelta(days=10),
    )
    url = reverse("console:audit_log")
    by_actor = viewer_client.get(url, {"actor": "bob"}).content
    assert b"rsn-second" in by_actor and b"rsn-first" not in by_actor
    by_uid = viewer_client.get(url, {"subject_uid": "u-1"}).content
    assert b"rsn-first" in by_uid and b"rsn-second" not in by_uid
    by_action = viewer_client.get(url, {"action": "credential.revoked"}).content
    assert b"rsn-second" in by_action and b"rsn-first" not in by_action
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    recent = viewer_client.get(url, {"since": since}).content
    assert b"old-one" not in recent and b"rsn-first" in recent
    until = (old.occurred_at + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    older = viewer_client.get(url, {"until": until}).content
    assert b"old-one" in older and b"rsn-first" not in older


def test_csv_export_streams_the_filtered_rows(viewer_client, tenant, other_tenant):
    _event(tenant, "credential.created", actor="alice", reason="=HYPERLINK(evil)")
    _event(tenant, "credential.revoked", actor="bob", reason="kept")
    _event(other_tenant, "credential.revoked", actor="bob", reason="foreign")
    response = viewer_client.get(reverse("console:audit_export"), {"action": "credential.revoked"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["occurred_at", "action", "actor_type"]
    assert [r[6] for r in rows[1:]] == ["kept"]
    everything = viewer_client.get(reverse("console:audit_export"))
    all_rows = list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode())))
    assert len(all_rows) == 3
    assert "'=HYPERLINK(evil)" in [r[6] for r in all_rows]  # no formula reaches a spreadsheet

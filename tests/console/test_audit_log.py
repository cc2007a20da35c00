import csv
import io
import re
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


def _account(tenant, **names):
    from tests.factories import AccountFactory

    return AccountFactory(tenant=tenant, **names)


def test_the_log_reads_as_people_speak(viewer_client, tenant):
    maria = _account(tenant, first_name="Maria", last_name="Garcia")
    with transaction.atomic():
        audit.record(
            tenant=tenant,
            actor=Actor("staff", "7", "lee.lead"),
            action="account.blocked",
            subject_uid=maria.uid,
            reason="Chargeback",
            ticket="SUP-4",
        )
    html = viewer_client.get(reverse("console:audit_log")).content.decode()
    assert ">Account blocked</a>" in html
    assert "agent lee.lead" in html
    # A Viewer reads the account's name masked (the tenant's default) ...
    assert f'title="{maria.uid}">M••• G•••</a>' in html and "Maria Garcia" not in html
    # ... and in full where the tenant masks no role.
    tenant.settings = {**tenant.settings, "masked_roles": []}
    tenant.save(update_fields=["settings"])
    html = viewer_client.get(reverse("console:audit_log")).content.decode()
    assert f'title="{maria.uid}">Maria Garcia</a>' in html
    assert '<th scope="col" class="when">When (UTC)</th>' in html


def test_each_event_opens_a_detail_view_with_its_full_diff(viewer_client, tenant, other_tenant):
    # About the detail view itself: the tenant shows this Viewer personal data in full
    # (tests/console/test_masking.py covers the masked diff).
    tenant.settings = {**tenant.settings, "masked_roles": []}
    tenant.save(update_fields=["settings"])
    maria = _account(tenant, first_name="Maria", last_name="Garcia")
    with transaction.atomic():
        event = audit.record(
            tenant=tenant,
            actor=Actor("staff", "7", "lee.lead"),
            action="account.updated",
            subject_uid=maria.uid,
            reason="Name typo",
            changes={"FirstName": ["Mria", "Maria"], "LastName": ["Garcia", "García"]},
        )
    log = viewer_client.get(reverse("console:audit_log")).content.decode()
    detail_url = reverse("console:audit_event", args=[event.pk])
    assert detail_url in log
    assert "2 fields: FirstName, LastName" in log  # the diff, folded in the row
    html = viewer_client.get(detail_url).content.decode()
    assert "Profile edited by agent lee.lead" in html
    assert "<del>Mria</del>" in html and "<ins>Maria</ins>" in html and "<ins>García</ins>" in html
    assert "Name typo" in html and maria.uid in html
    foreign = _event(other_tenant, reason="theirs")
    assert viewer_client.get(reverse("console:audit_event", args=[foreign.pk])).status_code == 404


def test_the_log_filters_by_kind(viewer_client, tenant):
    _event(tenant, "account.blocked", reason="a-status")
    _event(tenant, "credential.created", reason="an-admin-change")
    url = reverse("console:audit_log")
    status = viewer_client.get(url, {"kind": "status"}).content.decode()
    assert "a-status" in status and "an-admin-change" not in status
    other = viewer_client.get(url, {"kind": "other"}).content.decode()
    assert "an-admin-change" in other and "a-status" not in other
    bad = viewer_client.get(url, {"kind": "nonsense"})
    assert bad.status_code == 200 and "a-status" not in bad.content.decode()


def test_the_log_pages_beyond_50_with_a_cursor(viewer_client, tenant):
    start = timezone.now() - timedelta(hours=1)
    for n in range(120):
        AuditEvent.objects.create(
            tenant=tenant,
            action="tenant.updated",
            actor_type="staff",
            actor_label="alice",
            reason=f"r{n:03d}",
            occurred_at=start + timedelta(seconds=n // 2),  # ties: the id orders them
        )
    url = reverse("console:audit_log")
    seen, page, pages = [], viewer_client.get(url).content.decode(), 1
    while True:
        seen += re.findall(r"\br(\d{3})\b", page)
        older = re.search(
            r'older=([\w-]+)" role="button" class="secondary outline" id="page-older"', page
        )
        if not older:
            break
        page = viewer_client.get(url, {"older": older.group(1)}).content.decode()
        pages += 1
    assert pages == 3
    assert seen == [f"{n:03d}" for n in reversed(range(120))]  # every event once, in order
    assert "<strong>120</strong> events" in page
    # And back: "newer" from the last page shows the 50 before it.
    newer = re.search(
        r'newer=([\w-]+)" role="button" class="secondary outline" id="page-newer"', page
    )
    newer = newer.group(1)
    back = re.findall(r"\br(\d{3})\b", viewer_client.get(url, {"newer": newer}).content.decode())
    assert back == [f"{n:03d}" for n in reversed(range(20, 70))]


def test_a_broken_cursor_shows_the_newest_page(viewer_client, tenant):
    _event(tenant, reason="newest-one")
    response = viewer_client.get(reverse("console:audit_log"), {"older": "not-a-cursor!"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "newest-one" in html and "not valid any more" in html

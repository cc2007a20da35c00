"""A bulk import records one event per account, marked imported (accounts/importing/):
each account's `account.created` points to its batch's `account.imported`, so the account's
history starts where it was imported."""

import json

import pytest
from django.core.management import call_command

from accounts.models import Account
from portal import events
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def _import(tenant, tmp_path, lines, *args):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    call_command("accounts_import", str(path), "--tenant", tenant.slug, "--no-progress", *args)


def test_each_imported_account_records_its_own_creation_marked_imported(tenant, tmp_path):
    lines = [
        {"Uid": f"imp-{i}", "Email": f"u{i}@example.com", "FirstName": f"U{i}"} for i in range(5)
    ]
    _import(tenant, tmp_path, [*lines, {"Email": "not an address"}], "--batch-size", "3")

    batches = list(
        AuditEvent.objects.filter(tenant=tenant, action="account.imported").order_by("id")
    )
    created = list(
        AuditEvent.objects.filter(tenant=tenant, action="account.created").order_by("id")
    )
    assert [e.diff["imported"] for e in batches] == [3, 2]
    assert sorted(e.subject_uid for e in created) == [f"imp-{i}" for i in range(5)]
    assert all(e.imported for e in created) and not any(e.imported for e in batches)
    # Each account's event points to the batch that wrote it.
    assert [e.caused_by for e in created] == [batches[0].pk] * 3 + [batches[1].pk] * 2
    first = next(e for e in created if e.subject_uid == "imp-0")
    assert first.diff["Email"] == [None, ["Primary:u0@example.com"]]
    assert first.diff["FirstName"] == [None, "U0"]
    assert first.actor_type == AuditEvent.ACTOR_SYSTEM
    assert first.schema_version == events.SCHEMA_VERSION
    assert Account.objects.filter(tenant=tenant).count() == 5


def test_subscribers_see_imported_events_as_imported(tenant, tmp_path):
    seen = []

    def handler(event):
        seen.append((event.subject_uid, event.imported))

    events.subscribe("account.created", handler, phase=events.IN_TRANSACTION)
    try:
        _import(tenant, tmp_path, [{"Uid": "imp-a", "Email": "a@example.com"}])
    finally:
        events.unsubscribe("account.created", handler)
    assert seen == [("imp-a", True)]


def test_a_dry_run_records_no_event(tenant, tmp_path):
    _import(tenant, tmp_path, [{"Uid": "imp-d", "Email": "d@example.com"}], "--dry-run")
    assert not AuditEvent.objects.filter(tenant=tenant).exists()

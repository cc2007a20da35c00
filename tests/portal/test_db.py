"""portal.db.insert_new: an INSERT compiled once per model writes the same row that
save() writes, and whatever it does not cover goes through save()."""

import pytest
from django.db import connection
from django.db.models.functions import Now
from django.db.models.signals import pre_save
from django.test.utils import CaptureQueriesContext

from portal.db import insert_new
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

COLUMNS = (
    "tenant_id",
    "action",
    "actor_type",
    "actor_id",
    "actor_label",
    "subject_uid",
    "reason",
    "ticket",
    "diff",
    "request_id",
    "ip",
    "user_agent",
)


def _event(tenant, **overrides) -> AuditEvent:
    values = {
        "tenant": tenant,
        "action": "account.updated",
        "actor_type": "system",
        "actor_id": "tests",
        "actor_label": "Tests",
        "subject_uid": "u-1",
        "reason": "why",
        "ticket": "T-1",
        "diff": {"FirstName": ["a", "b"], "nested": {"n": [1, None]}},
        "request_id": "r-1",
        "ip": "2001:db8::1",
        "user_agent": "agent",
    }
    return AuditEvent(**{**values, **overrides})


def _row(pk) -> dict:
    return AuditEvent.objects.filter(pk=pk).values(*COLUMNS, "occurred_at").get()


def test_the_row_equals_the_one_save_writes_in_one_statement(tenant):
    saved = _event(tenant)
    saved.save()
    for _ in range(2):  # the first call compiles, the second reuses the statement
        inserted = _event(tenant)
        with CaptureQueriesContext(connection) as queries:
            assert insert_new(inserted, own_save_only_guards_updates=True) is inserted
        assert len(queries.captured_queries) == 1
        assert inserted.pk is not None and inserted.pk != saved.pk
        assert inserted._state.adding is False and inserted._state.db == "default"
        expected, got = _row(saved.pk), _row(inserted.pk)
        assert got.pop("occurred_at") is not None and expected.pop("occurred_at") is not None
        assert got == expected


def test_models_with_receivers_go_through_save(tenant):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    pre_save.connect(receiver, sender=AuditEvent)
    try:
        event = insert_new(_event(tenant), own_save_only_guards_updates=True)
    finally:
        pre_save.disconnect(receiver, sender=AuditEvent)
    assert seen == [event] and event.pk is not None


def test_an_expression_value_goes_through_save_and_compiles_nothing(tenant, monkeypatch):
    from portal import db

    monkeypatch.setattr(db, "_INSERTS", {})  # the expression comes first in this process
    event = insert_new(_event(tenant, occurred_at=Now()), own_save_only_guards_updates=True)
    assert _row(event.pk)["occurred_at"] is not None
    assert db._INSERTS == {}
    plain = _event(tenant)
    with CaptureQueriesContext(connection) as queries:
        insert_new(plain, own_save_only_guards_updates=True)
    assert len(queries.captured_queries) == 1
    assert _row(plain.pk)["occurred_at"] == plain.occurred_at


def test_an_instance_with_its_key_set_is_not_inserted_again(tenant):
    event = insert_new(_event(tenant), own_save_only_guards_updates=True)
    with pytest.raises(TypeError, match="append-only"):
        insert_new(
            event, own_save_only_guards_updates=True
        )  # save() refuses: audit events are never updated


def _refresh_row(tenant):
    from portal.audit import Actor
    from tests.factories import AccountFactory
    from tokens.models import RefreshToken
    from tokens.services import sessions

    account = AccountFactory(tenant=tenant)
    sessions.session_issue(tenant=tenant, account=account, actor=Actor.account(account.uid))
    return RefreshToken.objects.get(account=account)


def test_update_saved_writes_the_named_columns_only_in_one_statement(tenant):
    from django.utils import timezone

    from portal.db import update_saved
    from tokens.models import RefreshToken

    row = _refresh_row(tenant)
    for text in ("sealed-1", "sealed-2"):  # compiled on the first call, reused after
        RefreshToken.objects.filter(pk=row.pk).update(revoked_at=None)
        row.rotated_at, row.successor_encrypted = timezone.now(), text
        row.revoked_at = timezone.now()  # not named: must stay as stored
        with CaptureQueriesContext(connection) as queries:
            update_saved(row, ("rotated_at", "successor_encrypted"))
        assert len(queries.captured_queries) == 1
        stored = RefreshToken.objects.get(pk=row.pk)
        assert (stored.rotated_at, stored.successor_encrypted, stored.revoked_at) == (
            row.rotated_at,
            text,
            None,
        )


def test_update_saved_of_a_vanished_row_fails_like_save(tenant):
    from django.db import DatabaseError

    from portal.db import update_saved
    from tokens.models import RefreshToken

    row = _refresh_row(tenant)
    RefreshToken.objects.filter(pk=row.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        update_saved(row, ("successor_encrypted",))


def test_a_models_own_save_is_not_bypassed(tenant):
    from portal.db import update_saved

    event = insert_new(_event(tenant), own_save_only_guards_updates=True)
    with pytest.raises(TypeError, match="append-only"):
        update_saved(event, ("reason",))

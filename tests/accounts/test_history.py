"""The profile as of a past time, folded from events, and restoring a value an event changed."""

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from accounts.commands import AccountChanges, AccountCreate
from accounts.history import profile_as_of, restore_changes
from accounts.models import Account
from accounts.services import account_create, account_update
from portal.audit import Actor
from portal.errors import DomainError
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db
AGENT = Actor("staff", "7", "lee.lead")


@pytest.fixture
def history(tenant):
    """Ann Lee, renamed Anna on the 2nd and Anne on the 3rd, with a custom field added."""
    with freeze_time("2026-12-01 10:00"):
        account = account_create(
            AccountCreate(
                values={"FirstName": "Ann", "LastName": "Lee", "UserName": "ann"},
                custom_fields={"plan": "gold"},
            ),
            tenant=tenant,
            actor=AGENT,
        )
    with freeze_time("2026-12-02 10:00"):
        account_update(
            AccountChanges(values={"FirstName": "Anna"}),
            tenant=tenant,
            actor=AGENT,
            account=account,
        )
    with freeze_time("2026-12-03 10:00"):
        account_update(
            AccountChanges(values={"FirstName": "Anne"}, custom_fields={"seats": 5}),
            tenant=tenant,
            actor=AGENT,
            account=Account.objects.get(pk=account.pk),
        )
    return account


def test_the_profile_as_of_a_time_is_what_the_events_left(tenant, history):
    uid = history.uid
    then = profile_as_of(tenant=tenant, uid=uid, moment=datetime(2026, 12, 2, 12, tzinfo=UTC))
    assert then["FirstName"] == "Anna" and then["LastName"] == "Lee"
    first = profile_as_of(tenant=tenant, uid=uid, moment=datetime(2026, 12, 1, 12, tzinfo=UTC))
    assert first["FirstName"] == "Ann" and first["_events"] == 1
    before = profile_as_of(tenant=tenant, uid=uid, moment=datetime(2026, 11, 30, tzinfo=UTC))
    assert before == {"_events": 0}


def test_restoring_a_value_runs_the_reverse_change_as_its_own_event(tenant, history):
    renamed = (
        AuditEvent.objects.filter(subject_uid=history.uid, action="account.updated")
        .order_by("id")
        .last()
    )
    command = restore_changes(
        tenant=tenant,
        uid=history.uid,
        event_id=renamed.pk,
        field="FirstName",
        reason="customer asked to undo",
        ticket="SUP-5",
    )
    assert command.values == {"FirstName": "Anna"}
    account_update(command, tenant=tenant, actor=AGENT, account=Account.objects.get(pk=history.pk))
    assert Account.objects.get(pk=history.pk).first_name == "Anna"
    restored = AuditEvent.objects.filter(subject_uid=history.uid).order_by("id").last()
    assert restored.action == "account.updated" and restored.reason == "customer asked to undo"
    assert restored.diff["FirstName"] == ["Anne", "Anna"]


def test_restoring_custom_fields_removes_what_the_change_added(tenant, history):
    renamed = (
        AuditEvent.objects.filter(subject_uid=history.uid, action="account.updated")
        .order_by("id")
        .last()
    )
    command = restore_changes(
        tenant=tenant, uid=history.uid, event_id=renamed.pk, field="CustomFields", reason="undo"
    )
    assert command.custom_fields_removed == ("seats",)


def test_a_restore_of_nothing_or_without_a_reason_is_refused(tenant, history, other_tenant):
    renamed = (
        AuditEvent.objects.filter(subject_uid=history.uid, action="account.updated")
        .order_by("id")
        .last()
    )
    for kwargs in (
        {"event_id": renamed.pk, "field": "Email", "reason": "x"},  # not in that change
        {"event_id": renamed.pk, "field": "FirstName", "reason": " "},
        {"event_id": 10**9, "field": "FirstName", "reason": "x"},
    ):
        with pytest.raises(DomainError):
            restore_changes(tenant=tenant, uid=history.uid, **kwargs)
    with pytest.raises(DomainError) as caught:
        restore_changes(
            tenant=other_tenant, uid=history.uid, event_id=renamed.pk, field="FirstName", reason="x"
        )
    assert caught.value.code == "restore.source_not_found"

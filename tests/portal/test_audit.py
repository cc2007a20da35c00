"""The audit log is append-only and records through one function."""

import pytest
from django.db import connection, transaction

from portal import audit
from portal.audit import Actor
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def _event(tenant, **changes):
    with transaction.atomic():
        return audit.record(
            tenant=tenant,
            actor=Actor.system("test"),
            action="tenant.updated",
            subject_uid="u1",
            reason="why",
            ticket="T-1",
            changes=changes or {"name": ["a", "b"]},
        )


def test_record_writes_one_row_with_context(tenant):
    before = AuditEvent.objects.count()
    event = _event(tenant)
    assert AuditEvent.objects.count() == before + 1
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.actor_type, stored.actor_label) == (
        "tenant.updated",
        "system",
        "test",
    )
    assert (stored.subject_uid, stored.reason, stored.ticket) == ("u1", "why", "T-1")
    assert stored.diff == {"name": ["a", "b"]}


def test_api_request_context_reaches_the_row(lr, tenant):
    from portal import context

    token = context.activate(
        context.RequestContext(request_id="req-1", ip="10.0.0.1", user_agent="sdk")
    )
    try:
        event = _event(tenant)
    finally:
        context.deactivate(token)
    assert (event.request_id, event.ip, event.user_agent) == ("req-1", "10.0.0.1", "sdk")


def test_orm_refuses_queryset_update_and_delete(tenant):
    event = _event(tenant)
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == "why"


def test_orm_refuses_instance_save_and_delete(tenant):
    event = _event(tenant)
    event.reason = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == "why"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE portal_auditevent SET reason = 'x' WHERE id = %s",
        "DELETE FROM portal_auditevent WHERE id = %s",
    ],
)
def test_postgres_trigger_refuses_raw_update_and_delete(tenant, statement):
    from django.db import DatabaseError

    event = _event(tenant)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == "why"


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_raises(tenant):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError, match="transaction"):
        audit.record(tenant=tenant, actor=Actor.system(), action="tenant.updated")
    assert AuditEvent.objects.count() == before


def test_unregistered_action_raises(tenant):
    with pytest.raises(ValueError, match="unregistered"), transaction.atomic():
        audit.record(tenant=tenant, actor=Actor.system(), action="tenant.exploded")


def test_register_refuses_badly_named_actions():
    with pytest.raises(ValueError):
        audit.register({"exploded": "no entity"})


def test_secret_keys_are_redacted_at_any_depth(tenant):
    event = _event(
        tenant,
        password=["old", "new"],
        Client_Secret=["a", "b"],
        reset_token=[None, "t"],
        nested={"PasswordHash": "h", "city": "Oslo", "list": [{"otp": "123456"}]},
        access_token_lifetime_minutes=[60, 30],
        name=["a", "b"],
    )
    stored = AuditEvent.objects.get(pk=event.pk).diff
    text = str(stored)
    for secret in ("old", "new", "'t'", "'h'", "123456"):
        assert secret not in text
    assert stored["password"] == audit.REDACTED and stored["Client_Secret"] == audit.REDACTED
    assert stored["nested"]["city"] == "Oslo" and stored["nested"]["list"] == [
        {"otp": audit.REDACTED}
    ]
    assert stored["access_token_lifetime_minutes"] == [60, 30]
    assert stored["name"] == ["a", "b"]


def test_diff_lists_only_changed_fields():
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {"b": [2, 3], "c": [None, 4]}


def test_actor_constructors(credential, django_user_model):
    user = django_user_model.objects.create_user("agent", password="x")
    assert Actor.staff(user) == Actor("staff", str(user.pk), "agent")
    assert Actor.credential(credential) == Actor("credential", str(credential.pk), "test")
    assert Actor.account("u1") == Actor("account", "u1", "u1")

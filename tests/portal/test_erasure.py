"""Erasure (portal/erasure.py): a deleted account's events lose their personal values in the
deletion's transaction, whichever door deleted it; the tombstone stays, one
`account.erased` points to it, the feed and webhooks show the rows as erased, and on
PostgreSQL the trigger lets only that shape of update through."""

import json

import pytest
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from accounts import services
from accounts.commands import AccountChanges, UidChange
from accounts.models import Account
from portal import audit, events, retention
from portal.audit import Actor
from portal.erasure import ERASED, AccountEventsErase, account_events_erase
from portal.errors import InvalidInput
from portal.models import AuditEvent
from tests.accounts.conftest import GOOD_PASSWORD
from webhooks import formats

pytestmark = pytest.mark.django_db

A = "/identity/v2/manage/account"
EMAIL = "ingrid.personal@example.com"
PHONE = "+14155552671"
FIRST, LAST = "Ingridsdottir", "Vestergaard"
CUSTOM = "loyalty-7733"
HOME_IP, DEVICE = "203.0.113.77", "Ingrid's Firefox 131 on Linux"
# What must be left nowhere in the event table once the account is deleted.
PERSONAL = (EMAIL, "ingrid.personal", "5552671", FIRST, LAST, "Ingrid", CUSTOM, HOME_IP, DEVICE)


def everything_recorded() -> str:
    """The whole event table (every tenant, every column) as one text to search."""
    return json.dumps(list(AuditEvent.objects.values()), default=str)


def leftovers() -> list[str]:
    text = everything_recorded()
    return [value for value in PERSONAL if value in text]


def sign_in(tenant, password: str):
    return APIClient().post(
        f"/identity/v2/auth/login?apikey={tenant.api_key}",
        {"email": EMAIL, "password": password},
        format="json",
        HTTP_USER_AGENT=DEVICE,
        REMOTE_ADDR=HOME_IP,
    )


@pytest.fixture
def ingrid(lr, tenant) -> str:
    """An account with a history: created, edited, a phone, failed and good sign-ins."""
    created = lr.post(
        A,
        {
            "Email": [{"Type": "Primary", "Value": EMAIL}],
            "Password": GOOD_PASSWORD,
            "FirstName": "Ingrid",
            "CustomFields": {"loyalty": CUSTOM},
        },
    )
    assert created.status_code == 200, created.content
    uid = created.json()["Uid"]
    updated = lr.put(f"{A}/{uid}", {"FirstName": FIRST, "LastName": LAST, "PhoneId": PHONE})
    assert updated.status_code == 200, updated.content
    assert sign_in(tenant, "Wrong-password-1").status_code != 200
    assert sign_in(tenant, GOOD_PASSWORD).status_code == 200
    assert len(leftovers()) == len(PERSONAL)  # the history holds every one of them
    return uid


def tombstone_of(uid: str) -> AuditEvent:
    return AuditEvent.objects.get(action="account.deleted", subject_uid=uid)


def assert_erased_history(tenant, uid: str, *, deleter_type: str) -> None:
    assert leftovers() == []
    tomb = tombstone_of(uid)
    assert (tomb.actor_type, tomb.diff, tomb.erased_at) == (deleter_type, {}, None)
    [erased] = AuditEvent.objects.filter(action="account.erased", subject_uid=uid)
    assert erased.caused_by == tomb.pk and erased.actor_type == deleter_type
    life = AuditEvent.objects.filter(tenant=tenant, subject_uid=uid, id__lt=tomb.pk)
    assert life.count() == erased.diff["events"] > 4
    assert not life.filter(erased_at__isnull=True).exists()
    # Type, time, actor and staff-written text stay; keys say what changed.
    updated = life.get(action="account.updated")
    assert updated.diff["FirstName"] == [ERASED, ERASED]
    assert updated.diff["LastName"][1] == ERASED and not updated.diff["LastName"][0]
    assert updated.actor_type == AuditEvent.ACTOR_CREDENTIAL
    failed = life.get(action="signin.failed")
    assert (failed.ip, failed.user_agent) == (None, "")


def test_a_loginradius_delete_erases_the_accounts_personal_values_everywhere(lr, tenant, ingrid):
    response = lr.delete(f"{A}/{ingrid}")
    assert response.json() == {"IsDeleted": True, "RecordsDeleted": 1}
    assert not Account.objects.filter(uid=ingrid).exists()
    assert_erased_history(tenant, ingrid, deleter_type=AuditEvent.ACTOR_CREDENTIAL)


def test_a_native_delete_erases_them_too(lr, tenant, ingrid):
    path = f"/api/v1/accounts/{ingrid}"
    etag = lr.get(path)["ETag"]
    response = lr.client.delete(
        f"{path}?apikey={tenant.api_key}",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
        HTTP_IF_MATCH=etag,
        HTTP_X_REASON="erasure request SUP-1",
    )
    assert response.status_code == 204, response.content
    assert_erased_history(tenant, ingrid, deleter_type=AuditEvent.ACTOR_CREDENTIAL)
    assert tombstone_of(ingrid).reason == "erasure request SUP-1"  # staff text stays


def test_other_accounts_and_the_deleters_own_context_are_left_alone(lr, tenant, ingrid):
    other = lr.post(
        A, {"Email": [{"Type": "Primary", "Value": "other@example.com"}], "FirstName": "Olaf"}
    ).json()["Uid"]
    lr.delete(f"{A}/{ingrid}")
    other_events = AuditEvent.objects.filter(subject_uid=other)
    assert other_events.exists() and not other_events.filter(erased_at__isnull=False).exists()
    assert "other@example.com" in everything_recorded() and "Olaf" in everything_recorded()
    # The back end that edited the account keeps its own address on its events.
    updated = AuditEvent.objects.get(subject_uid=ingrid, action="account.updated")
    assert updated.ip == "127.0.0.1"


def test_the_feed_and_webhooks_show_erased_rows_as_erased(lr, tenant, ingrid):
    lr.delete(f"{A}/{ingrid}")
    feed = lr.get("/api/v1/events", {"uid": ingrid, "page_size": 200})
    assert feed.status_code == 200, feed.content
    results = feed.json()["results"]
    rows = {row["type"]: row for row in results}
    assert rows["account.updated"]["erased"] is True
    assert rows["account.updated"]["changes"]["FirstName"] == [ERASED, ERASED]
    assert rows["account.deleted"]["erased"] is False
    erased_rows = [row for row in results if row["erased"]]
    assert rows["account.erased"]["changes"] == {"events": len(erased_rows)}
    # Every event before the tombstone; the deletion's own record (the tombstone, the
    # sessions it ended, account.erased) is not.
    tomb = rows["account.deleted"]["id"]
    assert [row["id"] for row in erased_rows] == [row["id"] for row in results if row["id"] < tomb]
    assert {row["type"] for row in results if row["id"] > tomb} == {
        "session.all_revoked",
        "account.erased",
    }
    updated = AuditEvent.objects.get(subject_uid=ingrid, action="account.updated")
    standard = json.loads(formats.body_of(formats.STANDARD, updated))
    assert standard["data"]["erased"] is True
    loginradius = json.loads(formats.body_of(formats.LOGINRADIUS, updated))
    assert loginradius["Data"]["FirstName"] == ERASED and loginradius["Data"]["Uid"] == ingrid
    for body in (standard, loginradius):
        assert not [value for value in PERSONAL if value in json.dumps(body)]


def test_the_uids_an_account_had_before_are_erased_too(lr, tenant, ingrid):
    account = Account.objects.get(uid=ingrid)
    services.account_uid_update(
        UidChange(new_uid="ingrid-renamed"), tenant=tenant, actor=Actor.system("t"), account=account
    )
    account.refresh_from_db()
    services.account_update(
        AccountChanges(values={"MiddleName": "Ingridsmiddle"}),
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
    )
    lr.delete(f"{A}/ingrid-renamed")
    assert leftovers() == [] and "Ingridsmiddle" not in everything_recorded()
    assert not AuditEvent.objects.filter(subject_uid=ingrid, erased_at__isnull=True).exists()


def test_a_command_naming_no_deletion_is_refused_and_erases_nothing(tenant, ingrid):
    created = AuditEvent.objects.get(subject_uid=ingrid, action="account.created")
    before = everything_recorded()
    with pytest.raises(InvalidInput):
        account_events_erase(
            AccountEventsErase(uid=ingrid, deleted_event_id=created.pk),
            tenant=tenant,
            actor=Actor.system("t"),
        )
    assert everything_recorded() == before


def test_erasing_again_changes_nothing_and_records_nothing(lr, tenant, ingrid):
    lr.delete(f"{A}/{ingrid}")
    before = everything_recorded()
    with transaction.atomic():
        again = account_events_erase(
            AccountEventsErase(uid=ingrid, deleted_event_id=tombstone_of(ingrid).pk),
            tenant=tenant,
            actor=Actor.system("t"),
        )
    assert again is None and everything_recorded() == before


# --- The trigger lets only the erasure's shape of update through (PostgreSQL) -------------


def _event(tenant) -> AuditEvent:
    with transaction.atomic():
        return audit.record(
            tenant=tenant,
            actor=Actor.account("u-9"),
            action="account.updated",
            subject_uid="u-9",
            changes={"FirstName": ["A", "Bea"]},
        )


def _update(sql: str, params: list, *, mode: str | None) -> None:
    with transaction.atomic():
        if mode is None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
            return
        with retention.audit_maintenance(mode), connection.cursor() as cursor:
            cursor.execute(sql, params)


ERASE = (
    "UPDATE portal_auditevent SET diff = %s::jsonb, ip = NULL, user_agent = '', "
    "erased_at = now() WHERE id = %s"
)
ERASED_DIFF = json.dumps({"FirstName": [ERASED, ERASED]})


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("sql", "params", "mode"),
    [
        pytest.param(ERASE, ["{ERASED_DIFF}", "{id}"], None, id="no-mark"),
        pytest.param(ERASE, ["{ERASED_DIFF}", "{id}"], "retention", id="retention-mark"),
        pytest.param(
            "DELETE FROM portal_auditevent WHERE id = %s", ["{id}"], "erasure", id="delete"
        ),
        pytest.param(
            "UPDATE portal_auditevent SET diff = %s::jsonb WHERE id = %s",
            ["{ERASED_DIFF}", "{id}"],
            "erasure",
            id="unmarked-row",
        ),
        pytest.param(
            "UPDATE portal_auditevent SET action = 'account.created', erased_at = now() "
            "WHERE id = %s",
            ["{id}"],
            "erasure",
            id="other-column",
        ),
        pytest.param(
            "UPDATE portal_auditevent SET diff = '{}'::jsonb, erased_at = now() WHERE id = %s",
            ["{id}"],
            "erasure",
            id="keys-dropped",
        ),
        pytest.param(
            "UPDATE portal_auditevent SET ip = '198.51.100.1', erased_at = now() WHERE id = %s",
            ["{id}"],
            "erasure",
            id="new-address",
        ),
    ],
)
def test_the_trigger_refuses_every_change_but_the_erasure(tenant, sql, params, mode):
    event = _event(tenant)
    values = [{"{ERASED_DIFF}": ERASED_DIFF, "{id}": event.pk}[p] for p in params]
    with pytest.raises(DatabaseError, match="append-only"):
        _update(sql, values, mode=mode)
    event.refresh_from_db()
    assert (event.diff, event.erased_at) == ({"FirstName": ["A", "Bea"]}, None)


@pytest.mark.postgres
def test_the_trigger_lets_the_erasure_through_once(tenant):
    event = _event(tenant)
    _update(ERASE, [ERASED_DIFF, event.pk], mode="erasure")
    event.refresh_from_db()
    assert event.diff == {"FirstName": [ERASED, ERASED]} and event.erased_at is not None
    with pytest.raises(DatabaseError, match="append-only"):
        _update(ERASE, [ERASED_DIFF, event.pk], mode="erasure")  # an erased row stays so


def test_the_subscriber_is_in_the_deletions_transaction():
    [subscription] = [
        s
        for s in events.subscriptions()
        if s.event_type == "account.deleted" and s.name.endswith("events_erase")
    ]
    assert subscription.phase == events.IN_TRANSACTION


def test_a_deletion_that_rolls_back_erases_nothing(tenant, ingrid):
    from accounts.commands import AccountDelete

    before = everything_recorded()
    account = Account.objects.get(uid=ingrid)
    with pytest.raises(RuntimeError, match="later step failed"), transaction.atomic():
        services.account_delete(
            AccountDelete(), tenant=tenant, actor=Actor.system("t"), account=account
        )
        assert leftovers() == []  # erased inside the deletion's transaction
        raise RuntimeError("a later step failed")
    assert Account.objects.filter(uid=ingrid).exists()
    assert everything_recorded() == before

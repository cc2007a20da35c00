"""Sign-in locks are security's: one AccountLockout row per locked account. The profile's
`IsLoginLocked` / `LoginLockedType`, the search's `locked` filter and the console read them
through security; the services record account.locked / account.unlocked as before."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from accounts import selectors as account_selectors
from accounts.models import Account
from portal.audit import Actor
from portal.models import AuditEvent
from security import selectors, services
from security.commands import AccountLock, AccountLockSet, AccountUnlock
from security.models import AccountLockout, LoginFailureCounter
from tests.factories import AccountFactory, AccountLockoutFactory

pytestmark = pytest.mark.django_db

A = "/identity/v2/manage/account"
ACTOR = Actor.system("tests")


@pytest.fixture
def account(tenant):
    return AccountFactory(tenant=tenant, email="lou@example.com")


def lock_row(account):
    return AccountLockout.objects.filter(account=account).first()


def profile(account):
    return account_selectors.account_profile(
        account=account_selectors.account_get(
            tenant=account.tenant, uid=account.uid, for_profile=True
        )
    )


def test_lock_and_unlock_keep_their_events_and_diffs(tenant, account):
    until = timezone.now() + timedelta(minutes=5)
    services.account_lock(
        AccountLock(locked_type="LoginAttempts", until=until, reason="five failures"),
        tenant=tenant,
        actor=ACTOR,
        account=account,
    )
    row = lock_row(account)
    assert (row.tenant_id, row.locked_type, row.locked_until) == (tenant.pk, "LoginAttempts", until)
    locked = AuditEvent.objects.get(action="account.locked", subject_uid=account.uid)
    assert locked.reason == "five failures"
    assert locked.diff == {
        "IsLoginLocked": [False, True],
        "LoginLockedType": ["", "LoginAttempts"],
        "LoginLockedUntil": [None, until.isoformat()],
    }
    services.account_unlock(
        AccountUnlock(ticket="T-9"), tenant=tenant, actor=ACTOR, account=account
    )
    assert lock_row(account) is None
    unlocked = AuditEvent.objects.get(action="account.unlocked", subject_uid=account.uid)
    assert unlocked.ticket == "T-9"
    assert unlocked.diff == {
        "IsLoginLocked": [True, False],
        "LoginLockedType": ["LoginAttempts", ""],
    }


def test_locking_again_replaces_the_lock(tenant, account):
    services.account_lock(
        AccountLock(locked_type="First"), tenant=tenant, actor=ACTOR, account=account
    )
    services.account_lock(
        AccountLock(locked_type="Second"), tenant=tenant, actor=ACTOR, account=account
    )
    assert AccountLockout.objects.filter(account=account).count() == 1
    assert lock_row(account).locked_type == "Second"


def test_unlocking_clears_the_failure_counter(tenant, account):
    LoginFailureCounter.objects.create(tenant=tenant, account=account, failure_count=5)
    services.account_lock(
        AccountLock(locked_type="LoginAttempts"), tenant=tenant, actor=ACTOR, account=account
    )
    services.account_unlock(AccountUnlock(), tenant=tenant, actor=ACTOR, account=account)
    assert LoginFailureCounter.objects.get(account=account).failure_count == 0


def test_a_lock_moves_the_profiles_modified_date(tenant, account):
    before = Account.objects.get(pk=account.pk).modified
    with freeze_time(timezone.now() + timedelta(minutes=1)):
        services.account_lock(
            AccountLock(locked_type="X"), tenant=tenant, actor=ACTOR, account=account
        )
    assert Account.objects.get(pk=account.pk).modified > before


@pytest.mark.parametrize(
    ("held", "locked", "changed", "action"),
    [
        (False, True, True, "account.locked"),
        (True, False, True, "account.unlocked"),
        (True, True, False, None),
        (False, False, False, None),
    ],
)
def test_lock_set_changes_only_what_differs(tenant, account, held, locked, changed, action):
    if held:
        AccountLockoutFactory(account=account, locked_type="LoginAttempts")
    assert (
        services.account_lock_set(
            AccountLockSet(locked=locked), tenant=tenant, actor=ACTOR, account=account
        )
        is changed
    )
    assert (lock_row(account) is not None) is locked
    if held and locked:
        assert lock_row(account).locked_type == "LoginAttempts"  # an existing lock is kept
    elif locked:
        assert lock_row(account).locked_type == services.MANUAL_LOCK
    actions = list(
        AuditEvent.objects.filter(subject_uid=account.uid).values_list("action", flat=True)
    )
    assert actions == ([action] if action else [])


def test_the_profile_shows_a_lock_in_force_only(tenant, account):
    assert (profile(account)["IsLoginLocked"], profile(account)["LoginLockedType"]) == (False, None)
    services.account_lock(
        AccountLock(locked_type="LoginAttempts", until=timezone.now() + timedelta(minutes=5)),
        tenant=tenant,
        actor=ACTOR,
        account=account,
    )
    shown = profile(account)
    assert (shown["IsLoginLocked"], shown["LoginLockedType"]) == (True, "LoginAttempts")
    with freeze_time(timezone.now() + timedelta(minutes=6)):
        shown = profile(account)
        assert (shown["IsLoginLocked"], shown["LoginLockedType"]) == (False, None)
        assert not selectors.login_lock_active(account=account)
    assert selectors.login_lock_active(account=account)


def test_the_lock_keys_keep_their_place_in_the_profile(tenant, account):
    keys = list(profile(account))
    at = keys.index("IsLoginLocked")
    assert keys[at - 2 : at + 3] == [
        "IsActive",
        "IsDeleted",
        "IsLoginLocked",
        "LoginLockedType",
        "IsCustomUid",
    ]


def test_the_profile_loads_the_lock_with_the_account(tenant, account):
    """The lock is read by the profile's own queries: on PostgreSQL the one query, elsewhere
    the account's (a join), never a query per lock key."""
    AccountLockoutFactory(account=account)
    unlocked = AccountFactory(tenant=tenant, email="free@example.com")
    counts = []
    for each in (account, unlocked):
        with CaptureQueriesContext(connection) as ctx:
            shown = profile(each)
        counts.append(len(ctx.captured_queries))
        assert shown["IsLoginLocked"] is (each == account)
    assert counts[0] == counts[1] == (1 if connection.vendor == "postgresql" else 4)


def test_put_is_login_locked_locks_and_unlocks_through_security(lr, tenant, account):
    LoginFailureCounter.objects.create(tenant=tenant, account=account, failure_count=3)
    body = lr.put(f"{A}/{account.uid}", {"IsLoginLocked": True}).json()
    assert (body["IsLoginLocked"], body["LoginLockedType"]) == (True, services.MANUAL_LOCK)
    assert lock_row(account).locked_type == services.MANUAL_LOCK
    body = lr.put(f"{A}/{account.uid}", {"isloginlocked": "false"}).json()
    assert (body["IsLoginLocked"], body["LoginLockedType"]) == (False, None)
    assert lock_row(account) is None
    assert LoginFailureCounter.objects.get(account=account).failure_count == 0
    actions = list(
        AuditEvent.objects.filter(subject_uid=account.uid)
        .order_by("id")
        .values_list("action", flat=True)
    )
    # The bodies change nothing of the account itself: no account.updated.
    assert actions == ["account.locked", "account.unlocked"]


def test_put_that_is_refused_leaves_the_lock(lr, tenant, account):
    AccountLockoutFactory(account=account)
    response = lr.put(f"{A}/{account.uid}", {"IsLoginLocked": False, "PhoneId": "not a phone"})
    assert response.status_code == 400
    assert lock_row(account) is not None


def test_create_with_is_login_locked_true_is_locked(lr, tenant):
    body = lr.post(
        A,
        {
            "Email": [{"Type": "Primary", "Value": "new@example.com"}],
            "Password": "correct-horse-battery-42",
            "IsLoginLocked": True,
        },
    ).json()
    assert (body["IsLoginLocked"], body["LoginLockedType"]) == (True, services.MANUAL_LOCK)
    assert AccountLockout.objects.filter(account__uid=body["Uid"]).exists()


def test_native_search_filters_and_shows_locks(lr, tenant, account):
    free = AccountFactory(tenant=tenant, email="free@example.com")
    AccountLockoutFactory(account=account)
    AccountLockoutFactory(
        account__tenant=tenant, locked_until=timezone.now() - timedelta(minutes=1)
    )

    def found(params):
        response = lr.get("/api/v1/accounts", params)
        assert response.status_code == 200, response.json()
        return {row["uid"]: row["is_login_locked"] for row in response.json()["results"]}

    locked = found({"locked": "true"})
    assert len(locked) == 2 and locked[account.uid] is True
    assert False in locked.values()  # a lock whose period is over is listed, not in force
    assert found({"locked": "false"}) == {free.uid: False}


def test_the_locked_filter_answers_without_a_tenant(tenant, other_tenant, account):
    AccountLockoutFactory(account=account)
    theirs = AccountLockoutFactory(account__tenant=other_tenant).account
    ids = set(selectors.account_ids_locked(tenant=None, value=True).values_list("pk", flat=True))
    assert {account.pk, theirs.pk} <= ids
    scoped = selectors.account_ids_locked(tenant=tenant, value=True)
    assert set(scoped.values_list("pk", flat=True)) == {account.pk}


def test_deleting_the_account_deletes_its_lock(tenant, account):
    AccountLockoutFactory(account=account)
    Account.objects.filter(pk=account.pk).delete()
    assert not AccountLockout.objects.exists()

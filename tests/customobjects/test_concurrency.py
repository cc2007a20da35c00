"""Quota and If-Match hold under concurrent writers (PostgreSQL row locks)."""

import pytest

from customobjects import services
from customobjects.commands import RecordCreate, RecordUpdate
from customobjects.models import CustomObjectRecord
from portal.audit import Actor
from tests.concurrency import run_concurrently


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_records_per_account_quota_holds_under_concurrency(account, make_type):
    object_type = make_type("orders", max_records_per_account=2)
    outcomes = run_concurrently(
        lambda: (
            services.record_create(
                RecordCreate(data={"a": 1}),
                tenant=account.tenant,
                actor=Actor.system("t"),
                object_type=object_type,
                account=account,
            ).record_id
        ),
        6,
    )
    limit_reached = "customobject.record_limit_reached"
    assert sorted(o for o in outcomes if o == limit_reached) == [limit_reached] * 4
    assert CustomObjectRecord.objects.filter(account=account).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_writers_with_the_same_etag_one_wins(account, object_type):
    record = services.record_create(
        RecordCreate(data={"n": 0}),
        tenant=account.tenant,
        actor=Actor.system("t"),
        object_type=object_type,
        account=account,
    )
    etag = record.etag
    counter = iter(range(1, 100))

    def write():
        return services.record_update(
            RecordUpdate(data={"n": next(counter)}, update_type="replace", if_match=etag),
            tenant=account.tenant,
            actor=Actor.system("t"),
            record=record,
        ).version

    outcomes = run_concurrently(write, 4)
    assert sorted(outcomes, key=str) == sorted([2, *["customobject.record_changed"] * 3], key=str)
    record.refresh_from_db()
    assert record.version == 2

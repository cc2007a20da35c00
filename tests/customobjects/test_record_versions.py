"""A record command may carry `expected_version` (customobjects.selectors.record_version): a
record written since is refused (CustomObjectVersionStale) and nothing changes; the current
version passes. Each front door answers the refusal its own way."""

import pytest
from freezegun import freeze_time

from customobjects import services
from customobjects.commands import RecordCreate, RecordDelete, RecordUpdate
from customobjects.models import CustomObjectRecord
from customobjects.selectors import record_version
from portal.api.problems import problem_for
from portal.audit import Actor
from portal.errors import CustomObjectVersionStale, InvalidValue
from portal.lrapi.domain_errors import lr_error
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


@pytest.fixture
def record(account, object_type):
    with freeze_time("2026-03-01 10:00:00.250000"):
        return services.record_create(
            RecordCreate(data={"plan": "gold", "seats": 3}, record_id="r1"),
            tenant=account.tenant,
            actor=SYSTEM,
            object_type=object_type,
            account=account,
        )


def fresh(record):
    return CustomObjectRecord.objects.filter(pk=record.pk).values("data", "version").first()


def update(record, **fields):
    return services.record_update(
        RecordUpdate(**fields), tenant=record.tenant, actor=SYSTEM, record=record
    )


def delete(record, **fields):
    services.record_delete(
        RecordDelete(**fields), tenant=record.tenant, actor=SYSTEM, record=record
    )


def test_the_version_is_the_last_write_in_rfc_3339_with_microseconds(record):
    assert record_version(record) == "2026-03-01T10:00:00.250000+00:00"
    with freeze_time("2026-03-01 10:01:00"):
        update(record, data={"seats": 4}, update_type="partialreplace")
    record.refresh_from_db()
    assert record_version(record) == "2026-03-01T10:01:00.000000+00:00"


@pytest.mark.parametrize("write", ["replace", "partialreplace", "delete"])
def test_a_stale_command_is_refused_and_changes_nothing(record, write):
    read = record_version(record)
    with freeze_time("2026-03-01 10:05:00"):
        update(record, data={"seats": 5}, update_type="partialreplace")
    record.refresh_from_db()
    before, events = fresh(record), AuditEvent.objects.count()
    with pytest.raises(CustomObjectVersionStale) as refused:
        if write == "delete":
            delete(record, expected_version=read)
        else:
            update(record, data={"plan": "free"}, update_type=write, expected_version=read)
    assert refused.value.current_version == record_version(record) != read
    assert fresh(record) == before
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("write", ["replace", "partialreplace", "delete"])
def test_the_current_version_passes(record, write):
    current = record_version(record)
    if write == "delete":
        delete(record, expected_version=current)
        assert fresh(record) is None
    else:
        updated = update(record, data={"plan": "free"}, update_type=write, expected_version=current)
        assert updated.data["plan"] == "free" and updated.version == 2


def test_an_expected_version_that_is_not_a_time_is_invalid(record):
    before = fresh(record)
    for text in ("v2", "2026-03-01T10:00:00.250000"):  # no offset: not a version
        with pytest.raises(InvalidValue) as refused:
            update(record, data={"plan": "free"}, expected_version=text)
        assert refused.value.field == "expected_version"
    assert fresh(record) == before


def test_every_front_door_answers_a_stale_version():
    error = CustomObjectVersionStale("2026-03-01T10:05:00.000000+00:00")
    answer = lr_error(error)
    assert (answer.status_code, answer.error_code) == (412, 9412)
    problem = problem_for(error)
    assert (problem.status, problem.body["code"]) == (412, "customobject.version_stale")
    assert "changed since it was read" in error.sentence()

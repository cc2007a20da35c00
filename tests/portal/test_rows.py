"""A fixed-shape read run from the SQL the ORM made for it once gives the instances the ORM
itself would load, and refuses a row whose layout is not the one expected."""

import pytest
from django.db import connection

from accounts.models import Account
from portal.models import Tenant
from portal.rows import StandIns, check_columns, instances
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _read(sql: str, slots: tuple[int, ...], values: tuple) -> tuple[tuple, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [values[slot] for slot in slots])
        return cursor.fetchone(), [column[0] for column in cursor.description]


def test_a_row_becomes_the_instances_the_orm_loads(tenant):
    account = AccountFactory(tenant=tenant, first_name="Ann", custom_fields={"k": [1, "v"]})
    stand_ins = StandIns("\x01uid\x01", -1)
    sql, slots = stand_ins.sql(
        Account.objects.select_related("tenant").filter(uid="\x01uid\x01", tenant_id=-1)[:1]
    )
    row, selected = _read(sql, slots, (account.uid, tenant.pk))
    check_columns(selected, Account, Tenant)
    loaded, its_tenant = instances(row, Account, Tenant, alias=connection.alias)
    expected = Account.objects.get(pk=account.pk)
    for field in Account._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    assert loaded.created.tzinfo is not None  # converted as the ORM converts
    assert its_tenant == tenant and its_tenant.api_key == tenant.api_key


def test_a_row_of_another_layout_is_refused(tenant):
    AccountFactory(tenant=tenant)
    sql, slots = StandIns(-1).sql(Account.objects.filter(tenant_id=-1).values("uid", "id")[:1])
    _, selected = _read(sql, slots, (tenant.pk,))
    with pytest.raises(RuntimeError):
        check_columns(selected, Account)


def test_stand_ins_refuse_a_query_with_values_of_its_own():
    with pytest.raises(ValueError):
        StandIns(1, 1)
    with pytest.raises(RuntimeError):
        StandIns("\x01uid\x01").sql(Account.objects.filter(uid="\x01uid\x01", first_name="Ann"))

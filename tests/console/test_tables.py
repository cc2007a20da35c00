"""Console table cells render as the templates they replace would."""

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

from portal.console.tables import DateTimeTextColumn


def test_a_datetime_cell_reads_as_the_date_filter_in_the_current_time_zone():
    column = DateTimeTextColumn(format="Y-m-d H:i:s")
    moment = datetime(2026, 3, 29, 0, 30, 5, tzinfo=UTC)
    for zone in ("UTC", "Europe/Oslo", "America/Los_Angeles"):
        with timezone.override(zone):
            expected = Template('{{ value|date:"Y-m-d H:i:s" }}').render(Context({"value": moment}))
            assert column.render(moment) == expected
    with timezone.override("Europe/Oslo"):
        assert column.render(moment) == "2026-03-29 01:30:05"
    assert column.value(moment) == "2026-03-29 00:30:05+00:00"


@pytest.mark.django_db
def test_no_console_table_column_sets_cell_attributes_its_template_leaves_out():
    """console/tables/rows.html writes bare <td> cells; a column with td attributes would
    lose them there."""
    from accounts.models import Account
    from portal.console.tables import AccountTable, AuditEventTable
    from portal.models import AuditEvent

    for table in (
        AccountTable(Account.objects.none(), tenant_slug="t"),
        AuditEventTable(AuditEvent.objects.none()),
    ):
        assert table.template_name == "console/tables/rows.html"
        for column in table.columns:
            assert not column.attrs["td"].as_html(), (type(table).__name__, column.name)

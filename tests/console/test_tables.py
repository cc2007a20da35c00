"""Console table cells render as the templates they replace would."""

import re
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
        assert table.template_name in (
            "console/tables/rows.html",
            "console/tables/account_rows.html",
        )
        for column in table.columns:
            assert not column.attrs["td"].as_html(), (type(table).__name__, column.name)


@pytest.mark.django_db
def test_result_rows_written_in_one_pass_equal_django_tables2s_own_cells(tenant):
    """AccountTable.page_cells calls each column's render directly; every cell must be what
    django-tables2 renders for it, in the header's column order."""
    from accounts.models import Account
    from portal.console import search_selectors
    from portal.console.tables import AccountTable
    from security.models import TotpFactor
    from tests.factories import AccountFactory, AccountLockoutFactory

    ann = AccountFactory(
        tenant=tenant,
        first_name="Ann",
        last_name="<Rowe>",
        phone_id="+14155550123",
        is_active=False,
        last_login_date=datetime(2026, 12, 1, 8, 5, tzinfo=UTC),
    )
    AccountLockoutFactory(account=ann)
    TotpFactor.objects.create(tenant=tenant, account=ann, secret_encrypted="x", confirmed=True)
    AccountFactory(tenant=tenant, uid="odd uid+é", username="x", phone_id=None)
    rows = search_selectors.account_rows(Account.objects.filter(tenant=tenant))
    table = AccountTable(rows, tenant_slug=tenant.slug)
    table.paginate(per_page=25)
    with timezone.override("Europe/Oslo"):
        direct = table.page_cells()
        own = [[str(cell) for cell in row] for row in table.paginated_rows]
    assert [[str(cell) for cell in row] for row in direct] == own
    assert len(own) == 2 and len(own[0]) == len(table.columns) == 8
    # A UID that needs percent-encoding links as reverse() writes it.
    assert any("odd%20uid+%C3%A9" in str(cell) for row in direct for cell in row)


def test_local_time_text_falls_back_to_the_date_filter_for_other_formats():
    from portal.console.tables import local_time_text

    moment = datetime(2026, 3, 29, 0, 30, 5, tzinfo=UTC)
    for format in ("Y-m-d", "Y-m-d H:i", "N j, Y, P", "D d M Y"):
        template = Template("{{ value|date:fmt }}")
        expected = template.render(Context({"value": moment, "fmt": format}))
        assert local_time_text(moment, format) == expected


@pytest.mark.django_db
def test_row_details_name_the_primary_address_and_only_confirmed_factors(tenant):
    from accounts.models import Account, AccountEmail
    from portal.console import search_selectors
    from security.models import OtpFactor, TotpFactor
    from tests.factories import AccountFactory

    ann = AccountFactory(tenant=tenant, email="older@example.com")
    AccountEmail.objects.filter(account=ann).update(type="Secondary")
    AccountEmail.objects.create(tenant=tenant, account=ann, type="PRIMARY", value="new@example.com")
    TotpFactor.objects.create(tenant=tenant, account=ann, secret_encrypted="x", confirmed=False)
    OtpFactor.objects.create(
        tenant=tenant, account=ann, channel="email", destination="a@example.com", confirmed=True
    )
    bo = AccountFactory(tenant=tenant, email="bo@example.com")
    AccountEmail.objects.filter(account=bo).update(type="Secondary")
    OtpFactor.objects.create(
        tenant=tenant, account=bo, channel="sms", destination="+15550000", confirmed=True
    )
    bare = AccountFactory(tenant=tenant)
    AccountEmail.objects.filter(account=bare).delete()

    rows = list(search_selectors.account_rows(Account.objects.filter(tenant=tenant)))
    by_uid = {a.uid: a for a in search_selectors.with_row_details(rows)}
    assert by_uid[ann.uid].primary_email == "new@example.com"
    assert search_selectors.factors_of(by_uid[ann.uid]) == ["email"]
    # No address typed primary: the oldest one.
    assert by_uid[bo.uid].primary_email == "bo@example.com"
    assert search_selectors.factors_of(by_uid[bo.uid]) == ["sms"]
    assert by_uid[bare.uid].primary_email is None
    assert search_selectors.factors_of(by_uid[bare.uid]) == []
    assert search_selectors.with_row_details([]) == []


def test_account_action_urls_are_what_reverse_writes():
    from django.urls import reverse

    from portal.templatetags.account_actions import action_urls

    for uid in ("a1b2c3", "odd uid+é", "x%2F"):
        urls = action_urls(tenant_slug="acme", uid=uid, names=["unlock", "factor_reset"])
        for name, url in urls.items():
            assert url == reverse("console:account_action", args=["acme", uid, name])


def _normalized(html: str) -> str:
    html = re.sub(r"\s+", " ", html)
    html = re.sub(r"\s*([<>])\s*", r"\1", html)
    return html.replace("<th >", "<th>").replace("<li >", "<li>").replace("<thead >", "<thead>")


def _parts(html: str) -> tuple[str, str, str]:
    """The table's opening tag and header, and its paging ("" without one)."""
    html = _normalized(html)
    table = re.search(r"<table[^>]*>", html).group(0)
    head = re.search(r"<thead>.*</thead>", html).group(0)
    paging = re.search(r'<ul class="pagination">.*</ul>', html)
    return table, head, paging.group(0) if paging else ""


def _results_table(tenant, request, *, per_page: int):
    """The search page's table of the tenant's accounts, configured from `request`."""
    from django_tables2 import RequestConfig

    from accounts.models import Account
    from portal.console import search_selectors
    from portal.console.tables import AccountTable, CappedCountPaginator

    table = AccountTable(
        search_selectors.account_rows(Account.objects.filter(tenant=tenant)),
        tenant_slug=tenant.slug,
    )
    RequestConfig(
        request, paginate={"per_page": per_page, "paginator_class": CappedCountPaginator}
    ).configure(table)
    return table


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"s": "k3y", "sort": "phone_id", "page": "2"},
        {"s": "k3y", "sort": "-created", "page": "12"},
        {"s": "a&b<c", "sort": "name", "page": "7", "blocked": "yes"},
    ],
)
def test_result_header_and_paging_equal_django_tables2s_own(tenant, rf, query):
    """AccountTable writes the header's order links and the paging in Python: each must be
    what django-tables2's table.html writes for the same request."""
    from django.template.loader import get_template

    from tests.factories import AccountFactory

    AccountFactory.create_batch(60, tenant=tenant)
    request = rf.get("/console/accounts/", query)
    table = _results_table(tenant, request, per_page=5)
    context = {"table": table, "request": request}
    own = get_template("django_tables2/table.html").render(context)
    lean = get_template("console/tables/account_rows.html").render(context)
    assert _parts(lean) == _parts(own)
    assert _parts(own)[2].count("<li") >= 3  # the paging is there to compare


@pytest.mark.django_db
def test_a_single_page_of_results_has_no_paging(tenant, rf):
    from django.template.loader import get_template

    from tests.factories import AccountFactory

    AccountFactory.create_batch(3, tenant=tenant)
    table = _results_table(tenant, rf.get("/console/accounts/", {"s": "k"}), per_page=25)
    lean = get_template("console/tables/account_rows.html").render({"table": table})
    assert "pagination" not in lean and lean.count("<tr>") == 4  # the header and 3 rows
    assert table.pagination_items() == []

"""Tables of the console (django-tables2): sortable, paginated, with the total."""

import functools
import html
import json
import re
from datetime import datetime, tzinfo
from typing import Any

import django_tables2 as tables
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.timezone import get_current_timezone, is_aware, localtime, template_localtime
from django.utils.translation import gettext
from django_tables2.templatetags.django_tables2 import table_page_range

from accounts.models import Account
from portal.console import display, search_selectors
from portal.models import AuditEvent
from security import selectors as security_selectors

# The `date` filter's format characters with a strftime equal (numbers with leading zeros).
_STRFTIME_OF = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "i": "%M", "s": "%S"}
_SEPARATORS = frozenset(" -:T/.")


@functools.lru_cache(maxsize=32)
def _strftime_pattern(format: str) -> str | None:
    if all(c in _STRFTIME_OF or c in _SEPARATORS for c in format):
        return "".join(_STRFTIME_OF.get(c, c) for c in format)
    return None


def local_time_text(value: datetime, format: str, *, zone: tzinfo | None = None) -> str:
    """`value` in the current time zone (or `zone`, the current one read once for a page) as
    the `date` filter formats it. The numeric formats the console's tables use go through
    strftime: Django's date formatter costs as much as the rest of a result row."""
    local = (
        localtime(value, zone)
        if zone is not None and is_aware(value)
        else template_localtime(value)
    )
    pattern = _strftime_pattern(format)
    return local.strftime(pattern) if pattern else date_format(local, format)


class DateTimeTextColumn(tables.Column):
    """A datetime in the current time zone, formatted as the `date` template filter does.
    django-tables2's DateTimeColumn compiles its template again for every cell, which cost
    the search page a template compile per row."""

    def __init__(self, *, format: str, **kwargs):
        super().__init__(**kwargs)
        self.format = format

    def render(self, value):
        return local_time_text(value, self.format)

    def value(self, value):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value


# Beyond this many matches the search page says "more than" instead of counting them all:
# a one-letter fragment matches a third of a million-account tenant, and counting it exactly
# cost seconds, while nobody pages past the fortieth page.
SEARCH_COUNT_CAP = 1000


class CappedCountPaginator(Paginator):
    """The exact total up to SEARCH_COUNT_CAP; `capped` tells when there are more. Counts the
    table's queryset without its order, so PostgreSQL may stop at the cap on any index."""

    count_cap = SEARCH_COUNT_CAP
    capped = False

    @cached_property
    def count(self) -> int:
        # django-tables2 pages its BoundRows; their `data.data` is the table's queryset.
        queryset = getattr(getattr(self.object_list, "data", None), "data", None)
        if not isinstance(queryset, QuerySet):
            return super().count
        found = queryset.order_by()[: self.count_cap + 1].count()
        self.capped = found > self.count_cap
        return min(found, self.count_cap)

    def page(self, number):
        """The first page reads its rows before the count: when they do not fill it, they
        are the count. A partial email matches a handful of accounts, yet counting them
        cost PostgreSQL as much as the page itself (the trigram scan again)."""
        if str(number).strip() != "1" or "count" in self.__dict__:
            return super().page(number)
        rows = self.object_list[: self.per_page]
        read = len(rows)  # evaluates the page's query; the rows keep its results
        if read < self.per_page and read <= self.count_cap:
            self.count = read  # a cached_property: the instance's value stands
        elif self.count < read:
            # A cap below the page's size: the page holds the capped total, as when counted.
            return super().page(number)
        return self._get_page(rows, 1, self)


def cell_html(template: str, *values: Any) -> SafeString:
    """format_html for the result rows' cells: every value escaped as conditional_escape
    does (its own __html__, else html.escape), without format_html's per-argument check for
    lazy text, which was a fifth of the search page's CPU."""
    escaped = (
        value.__html__() if hasattr(value, "__html__") else html.escape(str(value))
        for value in values
    )
    # SafeString itself: mark_safe checks its argument for lazy text on every call.
    return SafeString(template.format(*escaped))


# A UID that stands in a URL as it is (no percent-encoding).
_PLAIN_UID = re.compile(r"[A-Za-z0-9_-]+")


class AccountTable(tables.Table):
    """Result rows that read as people: the name first and the whole row a link (the name's
    link stretched over the row by console.css), statuses side by side, the second factors
    set up and the last sign-in. Rows come from search_selectors.account_rows and with_row_details: no query per row."""

    name = tables.Column(
        verbose_name="Name",
        accessor="full_name",
        order_by=("last_name", "first_name"),
        empty_values=(),
    )
    email = tables.Column(verbose_name="Email", empty_values=(), orderable=False)
    phone_id = tables.Column(verbose_name="Phone", empty_values=())
    status = tables.Column(verbose_name="Status", empty_values=(), orderable=False)
    mfa = tables.Column(verbose_name="MFA", empty_values=(), orderable=False)
    last_login_date = tables.Column(verbose_name="Last sign-in", empty_values=(), orderable=False)
    uid = tables.Column(verbose_name="UID", orderable=False)
    created = DateTimeTextColumn(verbose_name="Created", format="Y-m-d")

    class Meta:
        model = Account
        fields = ("name", "email", "phone_id", "status", "mfa", "last_login_date", "uid", "created")
        sequence = fields
        order_by = ("-created",)
        template_name = "console/tables/account_rows.html"
        attrs = {"class": "striped people-table", "id": "account-results"}
        empty_text = (
            "No account matches. Check the spelling, or search by UID or the full email address."
        )

    def __init__(self, *args, tenant_slug: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant_slug = tenant_slug

    def page_cells(self) -> list[list[str]]:
        """The page's rows as their cells' HTML, each cell by its column's render method
        called directly (page_rows_html writes them). django-tables2 finds
        every cell's arguments by inspecting the method's signature, twice per cell, which
        was a third of the search page's CPU."""
        by_column = {
            "name": self.render_name,
            "email": self.render_email,
            "phone_id": lambda record: self.render_phone_id(record.phone_id),
            "status": self.render_status,
            "mfa": self.render_mfa,
            "last_login_date": lambda record: self.render_last_login_date(record.last_login_date),
            "uid": lambda record: self.render_uid(record.uid, record),
            "created": lambda record: local_time_text(
                record.created, self.columns["created"].column.format, zone=self._zone
            ),
        }
        cells = [by_column[column.name] for column in self.columns]
        records = search_selectors.with_row_details(self.page_records)
        return [[cell(record) for cell in cells] for record in records]

    def page_rows_html(self) -> list[SafeString]:
        """The page's rows (`<tr>` with their cells), written in one pass."""
        return [
            SafeString("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
            for cells in self.page_cells()
        ]

    def _query_string(self, **changes: Any) -> str:
        # As django-tables2's {% querystring_replace %}: this request's query with `changes`.
        request = getattr(self, "request", None)
        params = dict(request.GET) if request is not None else {}
        params.update(changes)
        return escape("?" + urlencode(params, doseq=True))

    def header_cells(self) -> list[SafeString]:
        """The header's cells as django-tables2's table.html writes them, the order links
        included: its template spent a query-string rebuild and a dozen lookups per column."""
        cells = []
        for column in self.columns:
            attrs = column.attrs["th"].as_html()
            header = conditional_escape(column.header)
            if column.orderable:
                href = self._query_string(
                    **{self.prefixed_order_by_field: column.order_by_alias.next}
                )
                header = SafeString(f'<a href="{href}">{header}</a>')
            cells.append(SafeString(f"<th {attrs}>{header}</th>"))
        return cells

    def pagination_items(self) -> list[SafeString]:
        """The paging links as django-tables2's table.html writes them ([] with one page)."""
        page = getattr(self, "page", None)
        if not page or self.paginator.num_pages <= 1:
            return []
        field = self.prefixed_page_field
        items = []
        if page.has_previous():
            href = self._query_string(**{field: page.previous_page_number()})
            items.append(
                f'<li class="previous"><a href="{href}">{conditional_escape(gettext("previous"))}</a></li>'
            )
        if page.has_previous() or page.has_next():
            for number in table_page_range(page, self.paginator):
                active = ' class="active"' if number == page.number else ""
                href = "#" if number == "..." else self._query_string(**{field: number})
                items.append(f'<li{active}><a href="{href}">{number}</a></li>')
        if page.has_next():
            href = self._query_string(**{field: page.next_page_number()})
            items.append(
                f'<li class="next"><a href="{href}">{conditional_escape(gettext("next"))}</a></li>'
            )
        return [SafeString(item) for item in items]

    @cached_property
    def page_records(self) -> list[Account]:
        """The accounts of the page shown (read once)."""
        return [row.record for row in self.paginated_rows]

    @cached_property
    def _zone(self) -> tzinfo:
        # The reader's time zone, read once for the page's rows.
        return get_current_timezone()

    @cached_property
    def _account_url_parts(self) -> tuple[str, str]:
        # The account page's URL around a plain UID, reversed once for the page's rows.
        marker = "0uid0"
        url = reverse("console:account_detail", args=[self.tenant_slug, marker])
        before, _, after = url.partition(marker)
        return before, after

    def account_url(self, uid: str) -> str:
        if _PLAIN_UID.fullmatch(uid):
            before, after = self._account_url_parts
            return f"{before}{uid}{after}"
        return reverse("console:account_detail", args=[self.tenant_slug, uid])

    def render_name(self, record):
        return cell_html(
            '<a href="{}" class="row-link">{}</a>',
            self.account_url(record.uid),
            display.person_name(record),
        )

    def render_email(self, record):
        return cell_html(
            '<span class="cell-clip">{}</span>',
            display.email_shown(display.primary_email_of(record)),
        )

    def render_phone_id(self, value):
        return cell_html('<span class="nowrap">{}</span>', display.phone_shown(value))

    def render_status(self, record):
        return status_badges(record)

    def render_mfa(self, record):
        factors = search_selectors.factors_of(record)
        if not factors:
            return cell_html('<span class="muted">{}</span>', "none")
        return ", ".join(search_selectors.FACTOR_SHORT_LABELS[name] for name in factors)

    def render_last_login_date(self, value):
        if not value:
            return cell_html('<span class="muted">{}</span>', "never")
        return cell_html(
            '<time datetime="{}" class="nowrap">{}</time>',
            value.isoformat(),
            local_time_text(value, "Y-m-d H:i", zone=self._zone),
        )

    def render_uid(self, value, record):
        element = f"uid-{record.pk}"
        return cell_html(
            '<span class="uid-cell"><code aria-hidden="true" title="{}">{}</code>'
            '<span id="{}" class="visually-hidden">{}</span>'
            '<button type="button" class="copy-button secondary outline" data-copy="{}" '
            'aria-label="Copy UID of {}">Copy</button>'
            '<span id="{}-status" class="visually-hidden" role="status"></span></span>',
            value,
            display.uid_short(value),
            element,
            value,
            element,
            display.person_name(record),
            element,
        )


def status_badges(account) -> str:
    """Every status that holds, side by side: blocked, locked and unverified do not hide each
    other; "Active" only when none does."""
    labels = []
    if not account.is_active:
        labels.append(("blocked", "Blocked"))
    if security_selectors.lock_in_force(security_selectors.account_lockout(account=account)):
        labels.append(("locked", "Locked"))
    if not account.email_verified:
        labels.append(("unverified", "Unverified"))
    if not labels:
        labels.append(("ok", "Active"))
    badges = (cell_html('<span class="badge badge-{}">{}</span>', *label) for label in labels)
    joined = SafeString(" ".join(badges))  # each badge escaped by cell_html
    return cell_html('<span class="badges">{}</span>', joined)


def _short(value, limit: int = 60) -> str:
    text = (
        "—"
        if value is None
        else (json.dumps(value) if isinstance(value, dict | list) else str(value))
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AuditEventTable(tables.Table):
    occurred_at = DateTimeTextColumn(verbose_name="When (UTC)", format="Y-m-d H:i:s")
    action = tables.Column(verbose_name="Action")
    actor_label = tables.Column(verbose_name="Actor")
    subject_uid = tables.Column(verbose_name="Account")
    reason = tables.Column(verbose_name="Reason")
    ticket = tables.Column(verbose_name="Ticket")
    diff = tables.Column(verbose_name="Changes", orderable=False)

    class Meta:
        model = AuditEvent
        fields = (
            "occurred_at",
            "action",
            "actor_type",
            "actor_label",
            "subject_uid",
            "reason",
            "ticket",
            "diff",
        )
        sequence = (
            "occurred_at",
            "action",
            "actor_type",
            "actor_label",
            "subject_uid",
            "reason",
            "ticket",
            "diff",
        )
        order_by = ("-occurred_at",)
        template_name = "console/tables/rows.html"
        attrs = {"class": "striped", "id": "audit-events"}
        empty_text = "No audit event matches these filters. Widen the time range or clear a filter."

    def __init__(self, *args, tenant_slug: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant_slug = tenant_slug

    def render_diff(self, value):
        if not isinstance(value, dict):
            return value
        return format_html_join(
            "",
            '<div class="diff"><code>{}</code>: {} → {}</div>',
            (
                (field, _short(change[0]), _short(change[1]))
                if isinstance(change, list) and len(change) == 2
                else (field, "", _short(change))
                for field, change in value.items()
            ),
        )

    def render_subject_uid(self, value):
        if not self.tenant_slug:
            return value
        url = reverse("console:account_detail", args=[self.tenant_slug, value])
        return format_html('<a href="{}">{}</a>', url, value)

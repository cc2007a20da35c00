"""Tables of the console (django-tables2): sortable, paginated, with the total."""

import json
from datetime import datetime

import django_tables2 as tables
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.timezone import template_localtime

from accounts.models import Account
from portal.console import display, search_selectors
from portal.models import AuditEvent
from security import selectors as security_selectors


class DateTimeTextColumn(tables.Column):
    """A datetime in the current time zone, formatted as the `date` template filter does.
    django-tables2's DateTimeColumn compiles its template again for every cell, which cost
    the search page a template compile per row."""

    def __init__(self, *, format: str, **kwargs):
        super().__init__(**kwargs)
        self.format = format

    def render(self, value):
        return date_format(template_localtime(value), self.format)

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


class AccountTable(tables.Table):
    """Result rows that read as people: the name first and the whole row a link (the name's
    link stretched over the row by console.css), statuses side by side, the second factors
    set up and the last sign-in. Rows come from search_selectors.account_rows: no query per row."""

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
        template_name = "console/tables/rows.html"
        attrs = {"class": "striped people-table", "id": "account-results"}
        empty_text = (
            "No account matches. Check the spelling, or search by UID or the full email address."
        )

    def __init__(self, *args, tenant_slug: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant_slug = tenant_slug

    def render_name(self, record):
        url = reverse("console:account_detail", args=[self.tenant_slug, record.uid])
        return format_html('<a href="{}" class="row-link">{}</a>', url, display.person_name(record))

    def render_email(self, record):
        return format_html(
            '<span class="cell-clip">{}</span>',
            display.email_shown(display.primary_email_of(record)),
        )

    def render_phone_id(self, value):
        return format_html('<span class="nowrap">{}</span>', display.phone_shown(value))

    def render_status(self, record):
        return status_badges(record)

    def render_mfa(self, record):
        factors = search_selectors.factors_of(record)
        if not factors:
            return format_html('<span class="muted">{}</span>', "none")
        return ", ".join(search_selectors.FACTOR_SHORT_LABELS[name] for name in factors)

    def render_last_login_date(self, value):
        if not value:
            return format_html('<span class="muted">{}</span>', "never")
        return format_html(
            '<time datetime="{}" class="nowrap">{}</time>',
            value.isoformat(),
            date_format(template_localtime(value), "Y-m-d H:i"),
        )

    def render_uid(self, value, record):
        element = f"uid-{record.pk}"
        return format_html(
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
    return format_html(
        '<span class="badges">{}</span>',
        format_html_join(" ", '<span class="badge badge-{}">{}</span>', labels),
    )


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

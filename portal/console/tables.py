"""Tables of the console (django-tables2): sortable, paginated, with the exact total."""

import json
from datetime import datetime

import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import template_localtime

from accounts.models import Account
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


class AccountTable(tables.Table):
    uid = tables.Column(verbose_name="UID", linkify=False)
    name = tables.Column(
        verbose_name="Name", accessor="full_name", order_by=("last_name", "first_name")
    )
    email = tables.Column(verbose_name="Email", empty_values=(), orderable=False)
    phone_id = tables.Column(verbose_name="Phone")
    status = tables.Column(verbose_name="Status", empty_values=(), orderable=False)
    created = DateTimeTextColumn(verbose_name="Created", format="Y-m-d H:i")

    class Meta:
        model = Account
        fields = ("uid", "name", "email", "username", "phone_id", "status", "created")
        order_by = ("-created",)
        template_name = "console/tables/rows.html"
        attrs = {"class": "striped", "id": "account-results"}
        empty_text = (
            "No account matches. Check the spelling, or search by UID or the full email address."
        )

    def render_uid(self, value, record):
        url = reverse("console:account_detail", args=[record.tenant.slug, value])
        return format_html('<a href="{}">{}</a>', url, value)

    def render_email(self, record):
        emails = list(record.emails.all())
        return emails[0].value if emails else "—"

    def render_status(self, record):
        labels = []
        if not record.is_active:
            labels.append(("blocked", "Blocked"))
        if security_selectors.account_lockout(account=record) is not None:
            labels.append(("locked", "Locked"))
        if record.email_verified:
            labels.append(("ok", "Verified"))
        if not labels:
            labels.append(("muted", "Unverified"))
        return format_html_join(" ", '<span class="badge badge-{}">{}</span>', labels)


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

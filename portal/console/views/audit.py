"""The audit log of the current tenant: filtered and paged on screen (human event names,
actor and account names, an expandable diff per event, a detail page each), or exported as
CSV."""

import base64
import csv
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.http import Http404, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views import View
from django.views.generic import TemplateView

from portal import masking
from portal.console import display, event_names, selectors
from portal.console.access import StaffRequiredMixin
from portal.console.account_page import account_names
from portal.console.actions.base import point_at_errors
from portal.console.filters import AuditEventFilter
from portal.csv_safety import safe_cell
from portal.models import AuditEvent

PAGE_SIZE = 50
ORDER = ("-occurred_at", "-id")


@dataclass(frozen=True)
class AuditLine:
    """One event as the log shows it."""

    event: AuditEvent
    name: str
    actor: str
    account_name: str
    account_url: str
    diff: list[event_names.DiffRow]


def cursor_of(event: AuditEvent) -> str:
    """Where a page starts or ends: the event's time and id (the log's order), URL-safe."""
    raw = f"{event.occurred_at.isoformat()}|{event.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_cursor(value: str) -> tuple[datetime, int] | None:
    """The time and id a cursor names, or None when it is not one this page made."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        stamp, _, pk = raw.rpartition("|")
        at = parse_datetime(stamp)
        return (at, int(pk)) if at is not None and at.tzinfo is not None else None
    except (ValueError, UnicodeDecodeError):
        return None


def audit_lines(*, tenant, events: list[AuditEvent]) -> list[AuditLine]:
    """The events with names for people: one query for every account they mention."""
    names = account_names(tenant=tenant, uids=event_names.account_uids_of(events))
    return [
        AuditLine(
            event=event,
            name=event_names.event_name(event.action, actor_type=event.actor_type),
            actor=event_names.actor_text(event, names=names),
            account_name=names.get(event.subject_uid, "") if event.subject_uid else "",
            account_url=(
                reverse("console:account_detail", args=[tenant.slug, event.subject_uid])
                if event.subject_uid in names
                else ""
            ),
            diff=event_names.diff_rows(event),
        )
        for event in events
    ]


class AuditLogView(StaffRequiredMixin, TemplateView):
    """Newest first, 50 a page; "older" and "newer" follow a cursor (the time and id of the
    last or first event shown), so any depth costs the same as the first page."""

    template_name = "console/audit_log.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.require_tenant()
        self.require_action(tenant, "audit.view")
        query = self.request.GET.copy()
        older, newer = query.pop("older", [""])[-1], query.pop("newer", [""])[-1]
        filterset = AuditEventFilter(query, queryset=selectors.audit_events(tenant=tenant))
        valid = filterset.is_valid()
        point_at_errors(filterset.form)
        qs = filterset.qs if valid else AuditEvent.objects.none()
        events, has_older, has_newer, bad_cursor = self._page(qs, older=older, newer=newer)
        context.update(
            filter=filterset,
            lines=audit_lines(tenant=tenant, events=events),
            total=qs.count(),
            filter_query=query.urlencode(),
            export_query=query.urlencode(),
            older_cursor=cursor_of(events[-1]) if events and has_older else "",
            newer_cursor=cursor_of(events[0]) if events and has_newer else "",
            bad_cursor=bad_cursor,
            filtered=any(v for v in query.values()),
        )
        return context

    def _page(self, qs, *, older: str, newer: str):
        """The page after `older` or before `newer` (the newest when neither), whether there
        are more each way, and whether a cursor given was unreadable."""
        if newer:
            at = parse_cursor(newer)
            if at is not None:
                when, pk = at
                rows = list(
                    qs.filter(Q(occurred_at__gt=when) | Q(occurred_at=when, id__gt=pk)).order_by(
                        "occurred_at", "id"
                    )[: PAGE_SIZE + 1]
                )
                more = len(rows) > PAGE_SIZE
                return list(reversed(rows[:PAGE_SIZE])), True, more, False
        if older:
            at = parse_cursor(older)
            if at is not None:
                when, pk = at
                rows = list(
                    qs.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, id__lt=pk)).order_by(
                        *ORDER
                    )[: PAGE_SIZE + 1]
                )
                return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE, True, False
        rows = list(qs.order_by(*ORDER)[: PAGE_SIZE + 1])
        return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE, False, bool(older or newer)


class AuditEventDetailView(StaffRequiredMixin, TemplateView):
    """One event in full: who, on whom, why, from where, its whole diff, and the events it
    caused or was caused by."""

    template_name = "console/audit_event.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.require_tenant()
        self.require_action(tenant, "audit.view")
        event = selectors.audit_events(tenant=tenant).filter(pk=kwargs["pk"]).first()
        if event is None:
            raise Http404("No such event")
        related = list(
            selectors.audit_events(tenant=tenant)
            .filter(Q(caused_by=event.pk) | Q(pk=event.caused_by or 0))
            .order_by("occurred_at", "id")[:50]
        )
        lines = audit_lines(tenant=tenant, events=[event, *related])
        context.update(
            line=lines[0],
            cause=next((line for line in lines[1:] if line.event.pk == event.caused_by), None),
            effects=[line for line in lines[1:] if line.event.caused_by == event.pk],
            sentence=event_names.event_sentence(
                event, names={line.event.subject_uid: line.account_name for line in lines}
            ),
        )
        return context


class _Echo:
    def write(self, value):
        return value


AUDIT_CSV_COLUMNS = (
    "occurred_at",
    "action",
    "actor_type",
    "actor_id",
    "actor_label",
    "subject_uid",
    "reason",
    "ticket",
    "diff",
    "request_id",
    "ip",
)


class AuditExportView(StaffRequiredMixin, View):
    """The filtered audit log as CSV, streamed row by row."""

    def get(self, request):
        tenant = self.require_tenant()
        self.require_action(tenant, "audit.view")
        filterset = AuditEventFilter(
            request.GET or None, queryset=selectors.audit_events(tenant=tenant)
        )
        qs = filterset.qs if filterset.is_valid() else selectors.audit_events(tenant=tenant)
        writer = csv.writer(_Echo())
        # The rows are written after this view returns: they carry the reader's policy along.
        policy = display.current_masking()

        def rows():
            yield writer.writerow(AUDIT_CSV_COLUMNS)
            for event in qs.order_by("-occurred_at", "-id").iterator(chunk_size=2000):
                diff = masking.by_field(policy, "diff", event.diff) if event.diff else None
                yield writer.writerow(
                    [
                        event.occurred_at.isoformat(),
                        event.action,
                        event.actor_type,
                        event.actor_id,
                        safe_cell(event.actor_label),
                        event.subject_uid,
                        safe_cell(masking.text(policy, event.reason)),
                        safe_cell(event.ticket),
                        safe_cell(json.dumps(diff, ensure_ascii=False) if diff else ""),
                        event.request_id,
                        event.ip or "",
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="audit-{tenant.slug}-{stamp}.csv"'
        return response

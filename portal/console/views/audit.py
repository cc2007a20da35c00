"""The audit log of the current tenant: filtered on screen, or exported as CSV."""

import csv
import json

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views import View
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from portal.console import selectors
from portal.console.access import StaffRequiredMixin
from portal.console.filters import AuditEventFilter
from portal.console.tables import AuditEventTable
from portal.csv_safety import safe_cell


class AuditLogView(StaffRequiredMixin, SingleTableMixin, FilterView):
    template_name = "console/audit_log.html"
    filterset_class = AuditEventFilter
    table_class = AuditEventTable
    table_pagination = {"per_page": 50}

    def get_queryset(self):
        tenant = self.require_tenant()
        self.require_action(tenant, "audit.view")
        return selectors.audit_events(tenant=tenant)

    def get_table_kwargs(self):
        return {"tenant_slug": self.console.tenant.slug if self.console.tenant else ""}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["export_query"] = self.request.GET.urlencode()
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

        def rows():
            yield writer.writerow(AUDIT_CSV_COLUMNS)
            for event in qs.order_by("-occurred_at", "-id").iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        event.occurred_at.isoformat(),
                        event.action,
                        event.actor_type,
                        event.actor_id,
                        safe_cell(event.actor_label),
                        event.subject_uid,
                        safe_cell(event.reason),
                        safe_cell(event.ticket),
                        safe_cell(json.dumps(event.diff) if event.diff else ""),
                        event.request_id,
                        event.ip or "",
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="audit-{tenant.slug}-{stamp}.csv"'
        return response

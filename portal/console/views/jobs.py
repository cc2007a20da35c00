"""Bulk jobs in the console: the tenant's jobs, and one job with its live progress and
its CSV report. Jobs are created through the native API (POST /api/v1/jobs)."""

from django.http import Http404, HttpResponse
from django.views import View
from django.views.generic import TemplateView

from jobs import selectors as job_selectors
from jobs.errors import JobNotFound
from portal import staff
from portal.console import display
from portal.console.access import ConsoleDenied, StaffRequiredMixin
from portal.csv_safety import csv_text

JOBS_SHOWN = 100
REPORT_HEADER = ("uid", "result", "detail")


class JobsAccessMixin(StaffRequiredMixin):
    """Jobs act on accounts: staff need manage_accounts on the tenant."""

    def jobs_tenant(self):
        tenant = self.require_tenant()
        if not staff.staff_can(user=self.request.user, tenant=tenant, permission="manage_accounts"):
            raise ConsoleDenied(
                "Bulk jobs need the permission to act on accounts of this tenant.",
                "Ask an Admin to grant you manage_accounts on it.",
            )
        return tenant

    def job(self, pk):
        try:
            return job_selectors.job_get(tenant=self.jobs_tenant(), job_id=pk)
        except JobNotFound as missing:
            raise Http404 from missing


def job_row(job) -> dict:
    counts = job_selectors.job_counts(job)
    percent = round(100 * counts["processed"] / counts["total"]) if counts["total"] else 100
    return {"job": job, "percent": percent, **counts}


class JobListView(JobsAccessMixin, TemplateView):
    template_name = "console/job_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.jobs_tenant()
        jobs = job_selectors.job_list(tenant=tenant)[:JOBS_SHOWN]
        context.update(tenant=tenant, rows=[job_row(job) for job in jobs])
        return context


class JobDetailView(JobsAccessMixin, TemplateView):
    """One job; an htmx request gets only the progress part, which polls while it runs."""

    template_name = "console/job_detail.html"

    def get_template_names(self):
        if getattr(self.request, "htmx", False):
            return ["console/inc/job_progress.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.job(kwargs["pk"])
        context.update(tenant=job.tenant, **job_row(job))
        return context


class JobReportView(JobsAccessMixin, View):
    def get(self, request, pk):
        job = self.job(pk)
        response = HttpResponse(
            csv_text(
                REPORT_HEADER,
                (
                    (uid, result, display.text_shown(detail))
                    for uid, result, detail in job_selectors.job_report_rows(job)
                ),
            ),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-report.csv"'
        return response

"""Bulk jobs as native resources (docs/api.md, "Jobs"): create, list, read, report (CSV),
cancel and revert.

A job needs the `accounts` section; its action needs the section of the operation each row
runs as well (a credential scoped to roles cannot block accounts through a job).
"""

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from jobs import selectors, services
from jobs.commands import JobCancel, JobCreate, JobRevert
from jobs.models import Job
from portal.api.native import (
    NativeAPIView,
    held_for_approval,
    list_body,
    list_example,
    page_size_of,
    rfc3339,
    url_with,
)
from portal.csv_safety import csv_text
from portal.errors import FieldError, InvalidInput
from portal.lrapi.errors import LRError

TAG = ["Jobs"]
REPORT_HEADER = ("uid", "result", "detail")


def job_json(job: Job) -> dict[str, Any]:
    counts = selectors.job_counts(job)
    return {
        "id": job.pk,
        "action": job.action,
        "params": job.params,
        "status": job.status,
        "total": counts["total"],
        "processed": counts["processed"],
        "succeeded": counts["succeeded"],
        "failed": counts["failed"],
        "skipped": counts["skipped"],
        "dry_run": job.dry_run,
        "created_at": rfc3339(job.created_at),
        "finished_at": rfc3339(job.finished_at) if job.finished_at else None,
        "reason": job.reason,
        "ticket": job.ticket,
        "reverts": job.reverts_id,
    }


_JOB = inline_serializer(
    "Job",
    {
        "id": serializers.IntegerField(),
        "action": serializers.CharField(),
        "params": serializers.DictField(),
        "status": serializers.ChoiceField(choices=Job.STATUSES),
        "total": serializers.IntegerField(),
        "processed": serializers.IntegerField(),
        "succeeded": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "skipped": serializers.IntegerField(),
        "dry_run": serializers.BooleanField(),
        "created_at": serializers.DateTimeField(),
        "finished_at": serializers.DateTimeField(allow_null=True),
        "reason": serializers.CharField(),
        "ticket": serializers.CharField(),
        "reverts": serializers.IntegerField(allow_null=True),
    },
)
_JOB_EXAMPLE = {
    "id": 41,
    "action": "block",
    "params": {},
    "status": "queued",
    "total": 3,
    "processed": 0,
    "succeeded": 0,
    "failed": 0,
    "skipped": 0,
    "dry_run": False,
    "created_at": "2026-12-07T05:00:00.000Z",
    "finished_at": None,
    "reason": "chargeback fraud ring",
    "ticket": "RISK-12",
    "reverts": None,
}
_ID = OpenApiParameter("job_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The job id.")


def _body(view: NativeAPIView) -> dict[str, Any]:
    body = view.body_json()
    if not isinstance(body, dict):
        raise InvalidInput("The body is a JSON object.")
    return body


def _why(view: NativeAPIView, body: dict[str, Any]) -> tuple[Any, Any]:
    """Reason and ticket: from the body, else the X-Reason / X-Ticket headers."""
    headers = view.request.headers
    reason = body["reason"] if "reason" in body else headers.get("X-Reason", "")
    ticket = body["ticket"] if "ticket" in body else headers.get("X-Ticket", "")
    return reason, ticket


def _require_section(view: NativeAPIView, action: Any) -> None:
    """The caller's credential must reach the section of the operation the rows run."""
    if not view.principal.allows(services.action_section(str(action))):
        raise LRError(1143)


class JobListView(NativeAPIView):
    """The tenant's jobs, newest first; POST creates one."""

    section = "accounts"
    query_parameters = ("after", "page_size", "status")

    @extend_schema(
        tags=TAG,
        operation_id="jobs_list",
        summary="Bulk jobs, newest first",
        parameters=[
            OpenApiParameter("after", OpenApiTypes.STR, description="The last job id read."),
            OpenApiParameter("status", OpenApiTypes.STR, description="Only jobs in this status."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200 (50)."),
        ],
        responses={200: OpenApiTypes.OBJECT},
        examples=[list_example(_JOB_EXAMPLE)],
    )
    def get(self, request):
        page_size = page_size_of(request)
        jobs = selectors.job_list(tenant=self.tenant)
        status = request.query_params.get("status")
        if status is not None:
            if status not in Job.STATUSES:
                raise InvalidInput(
                    field_errors=[FieldError("status", f"One of: {', '.join(Job.STATUSES)}.")]
                )
            jobs = jobs.filter(status=status)
        after = request.query_params.get("after")
        page = jobs
        if after is not None:
            if not after.isdigit() or len(after) > 18:
                raise InvalidInput(field_errors=[FieldError("after", "The last job id read.")])
            page = jobs.filter(id__lt=int(after))
        rows = list(page[: page_size + 1])
        more = len(rows) > page_size
        rows = rows[:page_size]
        return Response(
            list_body(
                [job_json(job) for job in rows],
                count=jobs.count(),
                next_url=url_with(request, after=str(rows[-1].pk)) if more else None,
            )
        )

    @extend_schema(
        tags=TAG,
        operation_id="jobs_create",
        summary="Create a bulk job",
        description=(
            "Runs `action` on the accounts named by `uids` or found by `filter` (the search "
            "parameters of GET /api/v1/accounts). `reason` is required; block, delete, "
            "reset_factor and revoke_sessions need `expected_count`, the count a dry run "
            "reported (409 when the selection holds another number now)."
        ),
        request=OpenApiTypes.OBJECT,
        responses={202: _JOB},
        examples=[
            OpenApiExample(
                "Block accounts found by a search",
                request_only=True,
                value={
                    "action": "block",
                    "filter": {"email_prefix": "fraud-ring", "blocked": False},
                    "expected_count": 3,
                    "reason": "chargeback fraud ring",
                    "ticket": "RISK-12",
                },
            ),
            OpenApiExample(
                "Assign roles to named accounts (dry run)",
                request_only=True,
                value={
                    "action": "assign_roles",
                    "uids": ["6f1c0d", "a01b22"],
                    "params": {"roles": ["editor"]},
                    "dry_run": True,
                    "reason": "team onboarding",
                },
            ),
            OpenApiExample("The job", response_only=True, status_codes=["202"], value=_JOB_EXAMPLE),
        ],
    )
    def post(self, request):
        body = _body(self)
        action = body.get("action")
        reason, ticket = _why(self, body)
        expected = body.get("expected_count")
        if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
            raise InvalidInput(field_errors=[FieldError("expected_count", "A whole number.")])
        dry_run = body.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise InvalidInput(field_errors=[FieldError("dry_run", "true or false.")])
        uids = body.get("uids") or []
        if not isinstance(uids, list):
            raise InvalidInput(field_errors=[FieldError("uids", "A list of UIDs.")])
        unknown = sorted(
            set(body)
            - {
                "action",
                "uids",
                "filter",
                "params",
                "dry_run",
                "reason",
                "ticket",
                "expected_count",
            }
        )
        if unknown:
            raise InvalidInput(
                field_errors=[FieldError(k, "A job has no such field.", "unknown") for k in unknown]
            )
        if isinstance(action, str) and action in services.ACTIONS:
            _require_section(self, action)
        command = JobCreate(
            action=action if isinstance(action, str) else "",
            uids=tuple(uids),
            filter=body.get("filter") or {},
            params=body.get("params") if body.get("params") is not None else {},
            dry_run=dry_run,
            expected_count=expected,
            reason=reason,
            ticket=ticket,
        )
        held = held_for_approval(
            self,
            command,
            summary=f"Bulk job: {command.action} on "
            + (f"{len(uids)} named accounts" if uids else "the accounts a search finds"),
            selected=expected if expected is not None else (len(uids) if uids else None),
        )
        if held is not None:
            return held
        job = services.job_create(command, tenant=self.tenant, actor=self.actor)
        return Response(job_json(job), status=202)


class JobDetailView(NativeAPIView):
    section = "accounts"

    @extend_schema(
        tags=TAG,
        operation_id="jobs_retrieve",
        summary="A bulk job and its progress",
        parameters=[_ID],
        responses={200: _JOB},
        examples=[OpenApiExample("A job", response_only=True, value=_JOB_EXAMPLE)],
    )
    def get(self, request, job_id):
        return Response(job_json(selectors.job_get(tenant=self.tenant, job_id=job_id)))


class JobReportView(NativeAPIView):
    section = "accounts"

    @extend_schema(
        tags=TAG,
        operation_id="jobs_report",
        summary="A bulk job's report (CSV: uid,result,detail)",
        parameters=[_ID],
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                examples=[
                    OpenApiExample(
                        "A report",
                        value="uid,result,detail\r\n6f1c0d,applied,\r\nnobody,not_found,"
                        "No account has this UID.\r\n",
                    )
                ],
            )
        },
    )
    def get(self, request, job_id):
        job = selectors.job_get(tenant=self.tenant, job_id=job_id)
        response = HttpResponse(
            csv_text(REPORT_HEADER, selectors.job_report_rows(job)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-report.csv"'
        return response


class JobCancelView(NativeAPIView):
    section = "accounts"

    @extend_schema(
        tags=TAG,
        operation_id="jobs_cancel",
        summary="Cancel a bulk job (rows not yet run are not run)",
        parameters=[_ID],
        request=None,
        responses={200: _JOB},
        examples=[
            OpenApiExample(
                "Cancelled",
                response_only=True,
                value={**_JOB_EXAMPLE, "status": "cancelled", "processed": 1},
            )
        ],
    )
    def post(self, request, job_id):
        job = selectors.job_get(tenant=self.tenant, job_id=job_id)
        _require_section(self, job.action)
        body = _body(self)
        reason, ticket = _why(self, body)
        job = services.job_cancel(
            JobCancel(job_id=job.pk, reason=str(reason or ""), ticket=str(ticket or "")),
            tenant=self.tenant,
            actor=self.actor,
        )
        return Response(job_json(job))


class JobRevertView(NativeAPIView):
    section = "accounts"

    @extend_schema(
        tags=TAG,
        operation_id="jobs_revert",
        summary="Create a job undoing what a job applied",
        description=(
            "For block, unblock, assign_roles, unassign_roles and unlock (with "
            "`params.relock`); 409 for other actions. A row whose account changed since "
            "the job ran is skipped."
        ),
        parameters=[_ID],
        request=OpenApiTypes.OBJECT,
        responses={202: _JOB},
        examples=[
            OpenApiExample(
                "Revert", request_only=True, value={"reason": "blocked the wrong accounts"}
            ),
            OpenApiExample(
                "The revert job",
                response_only=True,
                status_codes=["202"],
                value={**_JOB_EXAMPLE, "id": 42, "action": "unblock", "reverts": 41},
            ),
        ],
    )
    def post(self, request, job_id):
        job = selectors.job_get(tenant=self.tenant, job_id=job_id)
        _require_section(self, job.action)
        reason, ticket = _why(self, _body(self))
        revert = services.job_revert(
            JobRevert(job_id=job.pk, reason=reason, ticket=ticket),
            tenant=self.tenant,
            actor=self.actor,
        )
        return Response(job_json(revert), status=202)

"""Approval requests as native resources (docs/api.md, "Approvals"): the queue, one request,
and withdrawing one's own. Deciding is for people: staff approve or deny in the console."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response

from approvals import selectors, services
from approvals.api.representation import EXAMPLE, approval_json
from approvals.commands import ApprovalCancel
from approvals.models import ApprovalRequest
from approvals.policy import GATES
from portal.api.native import (
    NativeAPIView,
    after_of,
    list_example,
    page_body,
    page_size_of,
    query_parameter,
)
from portal.errors import FieldError, InvalidInput

TAG = ["Approvals"]
_ID = OpenApiParameter(
    "request_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The request id."
)


def _choice(request, name: str, choices) -> str | None:
    value = request.query_params.get(name)
    if value is not None and value not in choices:
        raise InvalidInput(field_errors=[FieldError(name, f"One of: {', '.join(choices)}.")])
    return value


class ApprovalListView(NativeAPIView):
    """The tenant's approval requests, newest first."""

    section = "accounts"
    query_parameters = ("after", "page_size", "status", "gate", "uid")

    @extend_schema(
        tags=TAG,
        operation_id="approvals_list",
        summary="Approval requests, newest first",
        parameters=[
            query_parameter("after", "The last request id read."),
            query_parameter("status", f"One of: {', '.join(ApprovalRequest.STATUSES)}."),
            query_parameter("gate", "Only requests held by this gate."),
            query_parameter("uid", "Only requests on this account."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200 (50)."),
        ],
        responses={200: OpenApiTypes.OBJECT},
        examples=[list_example(EXAMPLE)],
    )
    def get(self, request):
        page_size = page_size_of(request)
        found = selectors.approval_requests(
            tenant=self.tenant,
            status=_choice(request, "status", ApprovalRequest.STATUSES),
            gate=_choice(request, "gate", tuple(GATES)),
            account_uid=request.query_params.get("uid"),
        )
        page = found
        after = after_of(request)
        if after:
            page = found.filter(id__lt=after)
        rows = list(page[: page_size + 1])
        more = len(rows) > page_size
        rows = rows[:page_size]
        return Response(
            page_body(
                request,
                [approval_json(row) for row in rows],
                count=found.count(),
                more=more,
                last_id=rows[-1].pk if rows else None,
            )
        )


class ApprovalDetailView(NativeAPIView):
    section = "accounts"

    @extend_schema(
        tags=TAG,
        operation_id="approvals_retrieve",
        summary="An approval request: what runs, who asked, who decided, how it ended",
        parameters=[_ID],
        responses={200: OpenApiTypes.OBJECT},
        examples=[OpenApiExample("A pending request", response_only=True, value=EXAMPLE)],
    )
    def get(self, request, request_id):
        found = selectors.approval_request_get(tenant=self.tenant, request_id=request_id)
        return Response(approval_json(found))


class ApprovalCancelView(NativeAPIView):
    section = "accounts"

    @extend_schema(
        tags=TAG,
        operation_id="approvals_cancel",
        summary="Withdraw one's own pending request",
        parameters=[_ID],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample("Why", request_only=True, value={"note": "asked the wrong account"}),
            OpenApiExample(
                "Withdrawn", response_only=True, value={**EXAMPLE, "status": "cancelled"}
            ),
        ],
    )
    def post(self, request, request_id):
        found = selectors.approval_request_get(tenant=self.tenant, request_id=request_id)
        body = self.body_json() or {}
        note = body.get("note", "") if isinstance(body, dict) else ""
        if not isinstance(note, str):
            raise InvalidInput(field_errors=[FieldError("note", "A string.")])
        cancelled = services.approval_cancel(
            ApprovalCancel(request_id=found.pk, note=note), tenant=self.tenant, actor=self.actor
        )
        return Response(approval_json(cancelled))

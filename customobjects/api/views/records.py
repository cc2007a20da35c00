"""Native records of one object type: query and one record by id."""

from drf_spectacular.utils import OpenApiParameter, extend_schema

from customobjects import selectors, services
from customobjects.api import serializers as s
from customobjects.api.views.common import IF_MATCH, RECORD_BODY, CustomObjectBaseView, Q
from customobjects.commands import (
    RecordDelete,
    RecordUpdate,
)
from customobjects.validation import parse_json_text, unstorable_reason
from portal.errors import CustomObjectTooLarge, MalformedJSON
from portal.lrapi.errors import LRError

# -- Native: /api/v1/customobjects/{objectname}/records[/{id}] -------------------------

MAX_FILTER_CHARS = 8192


class CustomObjectRecordQueryView(CustomObjectBaseView):
    """Records of a type matching a JSON containment filter, with an exact count."""

    @extend_schema(
        operation_id="customobject_records_query",
        parameters=[
            OpenApiParameter(
                "filter",
                str,
                Q,
                description='JSON object the record must contain (top-level keys, JSONB `@>`), e.g. `{"plan":"gold"}`.',
            ),
            OpenApiParameter("uid", str, Q, description="Only records of this account."),
            OpenApiParameter("cursor", str, Q, description="`next_cursor` of the previous page."),
            OpenApiParameter(
                "limit",
                int,
                Q,
                description=f"Page size, 1-{selectors.MAX_PAGE_SIZE} (default {selectors.DEFAULT_PAGE_SIZE}).",
            ),
        ],
        responses=s.NativeRecordPageSerializer,
        tags=["Custom object records"],
    )
    def get(self, request, objectname: str):
        object_type = self.object_type(objectname)
        page = selectors.record_query(
            tenant=self.tenant,
            object_type=object_type,
            contains=self._filter(),
            uid=self.query.get("uid"),
            cursor=self.query.get("cursor"),
            limit=self._limit(),
        )
        return self.respond(
            {
                "results": [s.record_json(r, native=True) for r in page.records],
                "count": page.count,
                "next_cursor": page.next_cursor,
            }
        )

    def _filter(self) -> dict | None:
        text = self.query.get("filter")
        if not text:
            return None
        if len(text) > MAX_FILTER_CHARS:
            raise LRError(908, f"The filter must be at most {MAX_FILTER_CHARS} characters.")
        try:
            value = parse_json_text(text.encode("utf-8"))
        except (MalformedJSON, CustomObjectTooLarge) as exc:
            raise LRError(908, "The filter must be a JSON object.") from exc
        if not isinstance(value, dict):
            raise LRError(908, "The filter must be a JSON object.")
        reason = unstorable_reason(value)
        if reason:
            raise LRError(908, f"The filter is not usable JSON: {reason}")
        return value

    def _limit(self) -> int:
        text = self.query.get("limit")
        if not text:
            return selectors.DEFAULT_PAGE_SIZE
        try:
            value = int(text)
        except ValueError as exc:
            raise LRError(908, "The limit must be a whole number.") from exc
        if not 1 <= value <= selectors.MAX_PAGE_SIZE:
            raise LRError(908, f"The limit must be from 1 to {selectors.MAX_PAGE_SIZE}.")
        return value


class CustomObjectRecordDetailView(CustomObjectBaseView):
    """One record by id, with optimistic concurrency: GET gives an ETag, writes take If-Match."""

    def record(self, objectname, record_id):
        object_type = self.object_type(objectname)
        return selectors.record_get_by_id(
            tenant=self.tenant, object_type=object_type, record_id=record_id
        )

    def _answer(self, record):
        response = self.respond(s.record_json(record, native=True))
        response["ETag"] = record.etag
        return response

    @extend_schema(
        operation_id="customobject_records_retrieve",
        responses=s.NativeRecordSerializer,
        tags=["Custom object records"],
    )
    def get(self, request, objectname: str, record_id: str):
        return self._answer(self.record(objectname, record_id))

    def _update(self, request, objectname, record_id, update_type):
        record = self.record(objectname, record_id)
        data = self.record_body(record.object_type)
        record = services.record_update(
            RecordUpdate(
                data=data, update_type=update_type, if_match=request.headers.get("If-Match")
            ),
            tenant=self.tenant,
            actor=self.actor,
            record=record,
        )
        return self._answer(record)

    @extend_schema(
        operation_id="customobject_records_replace",
        parameters=[IF_MATCH],
        request=RECORD_BODY,
        responses=s.NativeRecordSerializer,
        tags=["Custom object records"],
    )
    def put(self, request, objectname: str, record_id: str):
        return self._update(request, objectname, record_id, services.UPDATE_REPLACE)

    @extend_schema(
        operation_id="customobject_records_merge",
        parameters=[IF_MATCH],
        request=RECORD_BODY,
        responses=s.NativeRecordSerializer,
        tags=["Custom object records"],
    )
    def patch(self, request, objectname: str, record_id: str):
        return self._update(request, objectname, record_id, services.UPDATE_PARTIAL)

    @extend_schema(
        operation_id="customobject_records_destroy",
        parameters=[IF_MATCH],
        request=None,
        responses=s.DeletedSerializer,
        tags=["Custom object records"],
    )
    def delete(self, request, objectname: str, record_id: str):
        record = self.record(objectname, record_id)
        services.record_delete(
            RecordDelete(if_match=request.headers.get("If-Match")),
            tenant=self.tenant,
            actor=self.actor,
            record=record,
        )
        return self.respond({"IsDeleted": True})

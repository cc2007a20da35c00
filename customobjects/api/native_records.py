"""The records of a custom object type as a native resource (docs/api.md):
`/api/v1/customobjects/{objectname}/records[/{record_id}]`.

The writes are the RecordCreate, RecordUpdate and RecordDelete commands of the LoginRadius
paths, so schema, limits, quota and events are the same on every path. A record is
versioned by the time of its last write (customobjects.selectors.record_version): its
ETag, and the `expected_version` an `If-Match` becomes, so a stale one answers 412.
"""

from datetime import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response

from accounts.selectors import account_get
from customobjects import selectors, services
from customobjects.api.native_json import (
    RECORD,
    RECORD_EXAMPLE,
    RECORD_INPUT,
    RECORD_PATCH,
    RECORD_READ_ONLY,
    NativeJSONBodyParser,
    NativeMergePatchParser,
    body_object,
    body_too_large_check,
    record_filter,
    record_json,
    type_of,
)
from customobjects.api.parsers import body_too_large
from customobjects.commands import RecordCreate, RecordDelete, RecordUpdate
from customobjects.models import HARD_MAX_BYTES, CustomObjectRecord, CustomObjectType
from portal.api.native import (
    AFTER,
    IF_MATCH,
    PAGE_SIZE,
    REASON,
    TICKET,
    NativeAPIView,
    after_of,
    list_example,
    list_of,
    page_body,
    page_size_of,
    query_parameter,
    reason_and_ticket,
)
from portal.errors import CustomObjectVersionStale, FieldError, InvalidInput

TAG = ["Custom object records"]

FILTER = OpenApiParameter(
    "filter",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description='A JSON object the record must contain (JSONB `@>`), e.g. `{"plan":"gold"}`.',
)
UID = query_parameter("uid", "Only the records of this account.")


class NativeRecordView(NativeAPIView):
    section = "customobjects"
    parser_classes = [NativeJSONBodyParser, NativeMergePatchParser]
    # Records may be as large as a type allows, beyond the general request-body cap.
    request_body_max_bytes = HARD_MAX_BYTES
    request_body_too_large = staticmethod(body_too_large)

    def object_type(self, name: str) -> CustomObjectType:
        return type_of(tenant=self.tenant, name=name)

    def answer(self, record: CustomObjectRecord, *, status: int = 200) -> Response:
        return self.respond_versioned(
            record_json(record), version=selectors.record_version(record), status=status
        )

    def body_for(self, object_type: CustomObjectType, allowed: tuple[str, ...]) -> dict:
        # The type's own size limit, read from Content-Length before the body is parsed.
        body_too_large_check(self.request, object_type.max_bytes + 1024)
        return body_object(self.body_json(), allowed, read_only=RECORD_READ_ONLY)


def data_of(body: dict, *, required: bool) -> dict | None:
    if "data" not in body:
        if required:
            raise InvalidInput(field_errors=[FieldError("data", "A JSON object.", "required")])
        return None
    if not isinstance(body["data"], dict):
        raise InvalidInput(field_errors=[FieldError("data", "A JSON object.", "invalid")])
    return body["data"]


class NativeCustomObjectRecordListView(NativeRecordView):
    """The records of a type (filtered by content or account) in id order; POST adds one."""

    query_parameters = ("filter", "uid", "after", "page_size")

    @extend_schema(
        tags=TAG,
        operation_id="native_customobject_records_list",
        summary="The records of a custom object type",
        parameters=[FILTER, UID, AFTER, PAGE_SIZE],
        responses={200: list_of("NativeCustomObjectRecordList", RECORD)},
        examples=[list_example(RECORD_EXAMPLE)],
    )
    def get(self, request, objectname):
        object_type = self.object_type(objectname)
        contains = record_filter(request.query_params.get("filter"))
        page_size, after = page_size_of(request), after_of(request)
        page = selectors.record_query(
            tenant=self.tenant,
            object_type=object_type,
            contains=contains,
            uid=request.query_params.get("uid"),
            cursor=selectors.encode_cursor(after) if after else None,
            limit=page_size,
        )
        body = page_body(
            request,
            [record_json(record) for record in page.records],
            count=page.count,
            more=page.next_cursor is not None,
            last_id=page.records[-1].pk if page.records else after,
        )
        return self.respond(body, project=False)

    @extend_schema(
        tags=TAG,
        operation_id="native_customobject_record_create",
        summary="Add a record for an account",
        description="`uid` names the account, `data` is the record (within the type's schema, "
        "size and depth limits and the account's record quota), `id` is optional (1 to 64 "
        "letters, digits, `_` or `-`; made up when left out).",
        parameters=[REASON, TICKET],
        request=RECORD_INPUT,
        responses={201: RECORD},
        examples=[
            OpenApiExample(
                "A record",
                request_only=True,
                value={"uid": RECORD_EXAMPLE["uid"], "id": "order-1", "data": {"total": 42}},
            ),
            OpenApiExample(
                "Created", response_only=True, status_codes=["201"], value=RECORD_EXAMPLE
            ),
        ],
    )
    def post(self, request, objectname):
        object_type = self.object_type(objectname)
        body = self.body_for(object_type, ("uid", "id", "data"))
        uid, record_id = body.get("uid"), body.get("id")
        problems = []
        if not isinstance(uid, str) or not uid:
            problems.append(FieldError("uid", "The account's UID.", "required"))
        if record_id is not None and not isinstance(record_id, str):
            problems.append(FieldError("id", "1 to 64 letters, digits, `_` or `-`.", "invalid"))
        if problems:
            raise InvalidInput(field_errors=problems)
        data = data_of(body, required=True)
        account = account_get(tenant=self.tenant, uid=uid)
        record = services.record_create(
            RecordCreate(data=data or {}, record_id=record_id, **reason_and_ticket(request)),
            tenant=self.tenant,
            actor=self.actor,
            object_type=object_type,
            account=account,
        )
        return self.answer(record, status=201)


class NativeCustomObjectRecordDetailView(NativeRecordView):
    """One record by id: read, change by merge patch, delete."""

    def record(self, objectname: str, record_id: str) -> CustomObjectRecord:
        return selectors.record_get_by_id(
            tenant=self.tenant, object_type=self.object_type(objectname), record_id=record_id
        )

    def expected_record_version(self, record: CustomObjectRecord) -> str | None:
        """The If-Match version; one that names no version of a record (not a time)
        cannot match this one."""
        expected = self.expected_version
        if expected is None:
            return None
        try:
            moment_ = datetime.fromisoformat(expected)
        except ValueError:
            moment_ = None
        if moment_ is None or moment_.tzinfo is None:
            raise CustomObjectVersionStale(selectors.record_version(record))
        return expected

    @extend_schema(
        tags=TAG,
        operation_id="native_customobject_record_retrieve",
        summary="A custom object record",
        responses={200: RECORD},
        examples=[OpenApiExample("A record", response_only=True, value=RECORD_EXAMPLE)],
    )
    def get(self, request, objectname, record_id):
        return self.answer(self.record(objectname, record_id))

    @extend_schema(
        tags=TAG,
        operation_id="native_customobject_record_patch",
        summary="Change a record (JSON merge patch)",
        description="`data` is merged into the stored record as RFC 7396 says: objects merge "
        "key by key and `null` removes a key. `If-Match` refuses a record changed since.",
        parameters=[IF_MATCH, REASON, TICKET],
        request={"application/merge-patch+json": RECORD_PATCH, "application/json": RECORD_PATCH},
        responses={200: RECORD},
        examples=[
            OpenApiExample(
                "Change one key, remove another",
                request_only=True,
                value={"data": {"plan": "platinum", "coupon": None}},
            ),
            OpenApiExample("Changed", response_only=True, value=RECORD_EXAMPLE),
        ],
    )
    def patch(self, request, objectname, record_id):
        record = self.record(objectname, record_id)
        body = self.body_for(record.object_type, ("data",))
        data = data_of(body, required=False)
        record = services.record_update(
            RecordUpdate(
                data=data or {},
                update_type=services.UPDATE_MERGE_PATCH,
                expected_version=self.expected_record_version(record),
                **reason_and_ticket(request),
            ),
            tenant=self.tenant,
            actor=self.actor,
            record=record,
        )
        return self.answer(record)

    @extend_schema(
        tags=TAG,
        operation_id="native_customobject_record_destroy",
        summary="Delete a record",
        description="The `customobject.deleted` event keeps what the record held.",
        parameters=[IF_MATCH, REASON, TICKET],
        request=None,
        responses={204: None},
    )
    def delete(self, request, objectname, record_id):
        record = self.record(objectname, record_id)
        services.record_delete(
            RecordDelete(
                expected_version=self.expected_record_version(record),
                **reason_and_ticket(request),
            ),
            tenant=self.tenant,
            actor=self.actor,
            record=record,
        )
        return Response(status=204)

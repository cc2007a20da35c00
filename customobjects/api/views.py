"""Custom object endpoints: the LoginRadius paths (management and access-token) and the
native API (`/api/v1/customobject-types`, `/api/v1/customobjects/{name}/records`)."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from accounts.selectors import account_get
from customobjects import selectors, services
from customobjects.api import serializers as s
from customobjects.api.parsers import (
    GuardedJSONParser,
    RecordJSONParser,
    body_too_large,
    content_length,
)
from customobjects.models import HARD_MAX_BYTES
from customobjects.validation import parse_json_text, unstorable_reason
from portal.errors import CustomObjectTooLarge, MalformedJSON
from portal.lrapi.errors import LRError, required
from portal.lrapi.views import LRAPIView

Q = OpenApiParameter.QUERY
OBJECT_NAME = OpenApiParameter(
    "objectname",
    str,
    Q,
    required=True,
    description="Name of the custom object (any case; `objectName` too).",
)
UPDATE_TYPE = OpenApiParameter(
    "updatetype",
    str,
    Q,
    enum=["replace", "partialreplace", "default"],
    description="`replace` overwrites the stored object; `partialreplace` merges top-level keys. Absent or `default`: partialreplace.",
)
CUSTOM_OBJECT_ID = OpenApiParameter(
    "customobjectid",
    str,
    Q,
    description="Id for the new record (1-64 letters, digits, `_`, `-`); a 32-hex id is generated when absent.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="ETag of the version the change is based on; 412 (ErrorCode 9412) when the record changed since.",
)
ACCESS_TOKEN = OpenApiParameter(
    "access_token", str, Q, description="The account's access token (or `Authorization: Bearer`)."
)
RECORD_BODY = OpenApiTypes.OBJECT


class CustomObjectBaseView(LRAPIView):
    """Bodies are size-checked on Content-Length before anything reads them."""

    section = "customobjects"
    parser_classes = [RecordJSONParser]
    # The request-body cap of these paths (portal.middleware.RequestBodyLimitMiddleware):
    # their own hard limit, refused as LoginRadius refuses an oversized custom object.
    request_body_max_bytes = HARD_MAX_BYTES
    request_body_too_large = staticmethod(body_too_large)

    def initial(self, request, *args, **kwargs):
        if content_length(request) > HARD_MAX_BYTES:
            raise body_too_large(HARD_MAX_BYTES)
        super().initial(request, *args, **kwargs)

    def record_body(self, object_type) -> dict[str, Any]:
        if content_length(self.request) > object_type.max_bytes:
            raise body_too_large(object_type.max_bytes)
        data = self.body_json()
        if not isinstance(data, dict):
            raise LRError(1035)
        return data

    def update_type(self) -> str:
        value = (self.query.get("updatetype") or "").strip().lower()
        if value in ("", "default", services.UPDATE_PARTIAL):
            return services.UPDATE_PARTIAL
        if value == services.UPDATE_REPLACE:
            return services.UPDATE_REPLACE
        raise LRError(908, "The updatetype must be replace, partialreplace or default.")

    def object_type(self, name: str | None = None):
        return selectors.object_type_get(
            tenant=self.tenant, name=name if name is not None else self.query.get("objectname")
        )


# -- LoginRadius: /identity/v2/manage/account/{uid}/customobject[/{id}] -------------------


class AccountCustomObjectListView(CustomObjectBaseView):
    """Records of one object type held by an account; create one."""

    def target_account(self, uid: str | None):
        return account_get(tenant=self.tenant, uid=uid)

    @extend_schema(
        operation_id="getCustomObjectByUid",
        parameters=[OBJECT_NAME],
        responses=s.RecordListSerializer,
        tags=["Account Custom Object"],
    )
    def get(self, request, uid: str | None = None):
        object_type = self.object_type()
        account = self.target_account(uid)
        records = selectors.record_list_for_account(object_type=object_type, account=account)
        return self.respond({"data": [s.record_json(r) for r in records], "Count": len(records)})

    @extend_schema(
        operation_id="createCustomObject",
        parameters=[OBJECT_NAME, CUSTOM_OBJECT_ID],
        request=RECORD_BODY,
        responses=s.RecordSerializer,
        tags=["Account Custom Object"],
    )
    def post(self, request, uid: str | None = None):
        object_type = self.object_type()
        account = self.target_account(uid)
        data = self.record_body(object_type)
        record = services.record_create(
            tenant=self.tenant,
            actor=self.actor,
            object_type=object_type,
            account=account,
            data=data,
            record_id=self.query.get("customobjectid") or None,
        )
        return self.respond(s.record_json(record))


class AccountCustomObjectDetailView(CustomObjectBaseView):
    """One record of an account: read, update (replace / partialreplace), delete."""

    def target_uid(self, uid: str | None) -> str | None:
        return uid

    def record(self, uid, objectrecordid):
        return selectors.record_get(
            tenant=self.tenant,
            object_name=self.query.get("objectname"),
            uid=self.target_uid(uid),
            record_id=objectrecordid,
        )

    @extend_schema(
        operation_id="getCustomObjectByUidAndRecordId",
        parameters=[OBJECT_NAME],
        responses=s.RecordSerializer,
        tags=["Account Custom Object"],
    )
    def get(self, request, objectrecordid: str, uid: str | None = None):
        record = self.record(uid, objectrecordid)
        response = self.respond(s.record_json(record))
        response["ETag"] = record.etag
        return response

    @extend_schema(
        operation_id="updateCustomObjectByUidAndRecordId",
        parameters=[OBJECT_NAME, UPDATE_TYPE, IF_MATCH],
        request=RECORD_BODY,
        responses=s.RecordSerializer,
        tags=["Account Custom Object"],
    )
    def put(self, request, objectrecordid: str, uid: str | None = None):
        update_type = self.update_type()
        record = self.record(uid, objectrecordid)
        data = self.record_body(record.object_type)
        record = services.record_update(
            tenant=self.tenant,
            actor=self.actor,
            record=record,
            data=data,
            update_type=update_type,
            if_match=request.headers.get("If-Match"),
        )
        response = self.respond(s.record_json(record))
        response["ETag"] = record.etag
        return response

    @extend_schema(
        operation_id="deleteCustomObjectByUidAndRecordId",
        parameters=[OBJECT_NAME, IF_MATCH],
        request=None,
        responses=s.DeletedSerializer,
        tags=["Account Custom Object"],
    )
    def delete(self, request, objectrecordid: str, uid: str | None = None):
        record = self.record(uid, objectrecordid)
        services.record_delete(
            tenant=self.tenant,
            actor=self.actor,
            record=record,
            if_match=request.headers.get("If-Match"),
        )
        return self.respond({"IsDeleted": True})


# -- LoginRadius: /identity/v2/auth/customobject[/{id}] (the account's own records) ------


class TokenCustomObjectListView(AccountCustomObjectListView):
    auth_mode = "access_token"

    def target_account(self, uid):
        return self.account

    @extend_schema(
        operation_id="getCustomObjectByToken",
        parameters=[OBJECT_NAME, ACCESS_TOKEN],
        responses=s.RecordListSerializer,
        tags=["Custom Object"],
    )
    def get(self, request, uid=None):
        return super().get(request)

    @extend_schema(
        operation_id="createCustomObjectByToken",
        parameters=[OBJECT_NAME, ACCESS_TOKEN, CUSTOM_OBJECT_ID],
        request=RECORD_BODY,
        responses=s.RecordSerializer,
        tags=["Custom Object"],
    )
    def post(self, request, uid=None):
        return super().post(request)


class TokenCustomObjectDetailView(AccountCustomObjectDetailView):
    auth_mode = "access_token"

    def target_uid(self, uid):
        return self.account.uid

    @extend_schema(
        operation_id="getCustomObjectByTokenAndRecordId",
        parameters=[OBJECT_NAME, ACCESS_TOKEN],
        responses=s.RecordSerializer,
        tags=["Custom Object"],
    )
    def get(self, request, objectrecordid: str, uid=None):
        return super().get(request, objectrecordid)

    @extend_schema(
        operation_id="updateCustomObjectByTokenAndRecordId",
        parameters=[OBJECT_NAME, ACCESS_TOKEN, UPDATE_TYPE, IF_MATCH],
        request=RECORD_BODY,
        responses=s.RecordSerializer,
        tags=["Custom Object"],
    )
    def put(self, request, objectrecordid: str, uid=None):
        return super().put(request, objectrecordid)

    @extend_schema(
        operation_id="deleteCustomObjectByTokenAndRecordId",
        parameters=[OBJECT_NAME, ACCESS_TOKEN, IF_MATCH],
        request=None,
        responses=s.DeletedSerializer,
        tags=["Custom Object"],
    )
    def delete(self, request, objectrecordid: str, uid=None):
        return super().delete(request, objectrecordid)


# -- Native: /api/v1/customobject-types -----------------------------------------------


def _type_fields(body: Any) -> dict[str, Any]:
    """The type's settable fields from a JSON body, keys in any case; the schema stays as sent."""
    if not isinstance(body, dict):
        raise LRError(1090)
    wanted = {key.lower(): key for key in services.TYPE_FIELDS}
    return {wanted[key.lower()]: value for key, value in body.items() if key.lower() in wanted}


class CustomObjectTypeListView(CustomObjectBaseView):
    """The tenant's configured custom objects."""

    parser_classes = [GuardedJSONParser]

    @extend_schema(
        operation_id="customobject_types_list",
        responses=s.ObjectTypeListSerializer,
        tags=["Custom object types"],
    )
    def get(self, request):
        types = list(selectors.object_type_list(tenant=self.tenant))
        return self.respond({"data": [s.object_type_json(t) for t in types], "Count": len(types)})

    @extend_schema(
        operation_id="customobject_types_create",
        request=s.ObjectTypeWriteSerializer,
        responses={201: s.ObjectTypeSerializer},
        tags=["Custom object types"],
    )
    def post(self, request):
        fields = _type_fields(self.body_json())
        if not fields.get("name"):
            raise required("name")
        object_type = services.object_type_create(tenant=self.tenant, actor=self.actor, **fields)
        return self.respond(s.object_type_json(object_type), status=201)


class CustomObjectTypeDetailView(CustomObjectBaseView):
    parser_classes = [GuardedJSONParser]

    @extend_schema(
        operation_id="customobject_types_retrieve",
        responses=s.ObjectTypeSerializer,
        tags=["Custom object types"],
    )
    def get(self, request, name: str):
        return self.respond(s.object_type_json(self.object_type(name)))

    @extend_schema(
        operation_id="customobject_types_update",
        request=s.ObjectTypeWriteSerializer,
        responses=s.ObjectTypeSerializer,
        tags=["Custom object types"],
    )
    def put(self, request, name: str):
        object_type = self.object_type(name)
        object_type = services.object_type_update(
            tenant=self.tenant,
            actor=self.actor,
            object_type=object_type,
            changes=_type_fields(self.body_json()),
        )
        return self.respond(s.object_type_json(object_type))

    @extend_schema(
        operation_id="customobject_types_partial_update",
        request=s.ObjectTypeWriteSerializer,
        responses=s.ObjectTypeSerializer,
        tags=["Custom object types"],
    )
    def patch(self, request, name: str):
        return self.put(request, name)

    @extend_schema(
        operation_id="customobject_types_destroy",
        parameters=[
            OpenApiParameter(
                "force",
                bool,
                Q,
                description="Also delete the type's records (refused with 1134 otherwise).",
            )
        ],
        request=None,
        responses={204: None},
        tags=["Custom object types"],
    )
    def delete(self, request, name: str):
        object_type = self.object_type(name)
        services.object_type_delete(
            tenant=self.tenant,
            actor=self.actor,
            object_type=object_type,
            force=self.query.get_bool("force"),
        )
        return self.respond(None, status=204, project=False)


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
            tenant=self.tenant,
            actor=self.actor,
            record=record,
            data=data,
            update_type=update_type,
            if_match=request.headers.get("If-Match"),
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
            tenant=self.tenant,
            actor=self.actor,
            record=record,
            if_match=request.headers.get("If-Match"),
        )
        return self.respond({"IsDeleted": True})

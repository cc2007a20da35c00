"""Custom object types as a native resource (docs/api.md): `/api/v1/customobject-types`.

The writes are the ObjectTypeCreate, ObjectTypeUpdate and ObjectTypeDelete commands the
admin builds too. A type is versioned by the time it last changed
(customobjects.selectors.object_type_version): its ETag, and the `expected_version` an
`If-Match` becomes on PATCH and DELETE, so a stale one answers 412.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response

from customobjects import selectors, services
from customobjects.api.native_json import (
    TYPE,
    TYPE_EXAMPLE,
    TYPE_FIELDS,
    TYPE_INPUT,
    TYPE_LIMITS,
    TYPE_PATCH,
    TYPE_READ_ONLY,
    NativeJSONBodyParser,
    NativeMergePatchParser,
    body_object,
    type_changes,
    type_json,
    type_of,
)
from customobjects.commands import ObjectTypeCreate, ObjectTypeDelete, ObjectTypeUpdate
from customobjects.models import CustomObjectType
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
    reason_and_ticket,
)
from portal.errors import FieldError, InvalidInput

TAG = ["Custom object types"]

FORCE = OpenApiParameter(
    "force",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description="`true`: also delete the type's records (409 `customobject.type_in_use` otherwise).",
)


class NativeTypeView(NativeAPIView):
    section = "customobjects"
    parser_classes = [NativeJSONBodyParser, NativeMergePatchParser]

    def object_type(self, name: str) -> CustomObjectType:
        return type_of(tenant=self.tenant, name=name)

    def answer(self, object_type: CustomObjectType, *, status: int = 200) -> Response:
        return self.respond_versioned(
            type_json(object_type),
            version=selectors.object_type_version(object_type),
            status=status,
        )


class NativeCustomObjectTypeListView(NativeTypeView):
    """The tenant's custom object types in id order after a cursor; POST configures one."""

    query_parameters = ("after", "page_size")

    @extend_schema(
        tags=TAG,
        operation_id="native_customobject_types_list",
        summary="The tenant's custom object types",
        parameters=[AFTER, PAGE_SIZE],
        responses={200: list_of("NativeCustomObjectTypeList", TYPE)},
        examples=[list_example(TYPE_EXAMPLE)],
    )
    def get(self, request):
        page_size, after = page_size_of(request), after_of(request)
        rows = CustomObjectType.objects.filter(tenant=self.tenant)
        count = rows.count()
        page = list(rows.filter(pk__gt=after).order_by("pk")[: page_size + 1])
        more = len(page) > page_size
        page = page[:page_size]
        body = page_body(
            request,
            [type_json(t) for t in page],
            count=count,
            more=more,
            last_id=page[-1].pk if page else after,
        )
        return self.respond(body, project=False)

    @extend_schema(
        tags=TAG,
        operation_id="native_customobject_type_create",
        summary="Configure a custom object type",
        description="`name` (1 to 100 letters, digits, `_` or `-`; unique in any case), an "
        "optional JSON Schema every record must satisfy, and limits (left out: the defaults).",
        parameters=[REASON, TICKET],
        request=TYPE_INPUT,
        responses={201: TYPE},
        examples=[
            OpenApiExample(
                "A type",
                request_only=True,
                value={"name": "orders", "schema": {"type": "object", "required": ["total"]}},
            ),
            OpenApiExample("Created", response_only=True, status_codes=["201"], value=TYPE_EXAMPLE),
        ],
    )
    def post(self, request):
        body = body_object(self.body_json(), TYPE_FIELDS, read_only=TYPE_READ_ONLY)
        name = body.get("name")
        if name is None:
            raise InvalidInput(field_errors=[FieldError("name", "A type name.", "required")])
        if not isinstance(name, str):
            raise InvalidInput(field_errors=[FieldError("name", "A type name.", "invalid")])
        limits = {key: body[key] for key in TYPE_LIMITS if key in body and body[key] is not None}
        object_type = services.object_type_create(
            ObjectTypeCreate(
                name=name, schema=body.get("schema"), limits=limits, **reason_and_ticket(request)
            ),
            tenant=self.tenant,
            actor=self.actor,
        )
        return self.answer(object_type, status=201)


class NativeCustomObjectTypeDetailView(NativeTypeView):
    """One custom object type: read, change by merge patch, delete."""

    query_parameters = ("force",)

    @extend_schema(
        tags=TAG,
        operation_id="native_customobject_type_retrieve",
        summary="A custom object type",
        responses={200: TYPE},
        examples=[OpenApiExample("A type", response_only=True, value=TYPE_EXAMPLE)],
    )
    def get(self, request, name):
        return self.answer(self.object_type(name))

    @extend_schema(
        tags=TAG,
        operation_id="native_customobject_type_patch",
        summary="Change a custom object type (JSON merge patch)",
        description="Rename, re-schema or re-limit the type; `null` clears the schema or puts "
        "a limit back to its default. Stored records are kept as they are; the new schema and "
        "limits apply from their next write. `If-Match` refuses a type changed since.",
        parameters=[IF_MATCH, REASON, TICKET],
        request={"application/merge-patch+json": TYPE_PATCH, "application/json": TYPE_PATCH},
        responses={200: TYPE},
        examples=[
            OpenApiExample("Tighten a limit", request_only=True, value={"max_depth": 8}),
            OpenApiExample("Changed", response_only=True, value=TYPE_EXAMPLE),
        ],
    )
    def patch(self, request, name):
        object_type = self.object_type(name)
        body = body_object(self.body_json(), TYPE_FIELDS, read_only=TYPE_READ_ONLY)
        object_type = services.object_type_update(
            ObjectTypeUpdate(
                changes=type_changes(body),
                expected_version=self.expected_version,
                **reason_and_ticket(request),
            ),
            tenant=self.tenant,
            actor=self.actor,
            object_type=object_type,
        )
        return self.answer(object_type)

    @extend_schema(
        tags=TAG,
        operation_id="native_customobject_type_destroy",
        summary="Remove a custom object type",
        description="A type that still holds records answers 409 unless `force=true`, which "
        "deletes them with it.",
        parameters=[FORCE, IF_MATCH, REASON, TICKET],
        request=None,
        responses={204: None},
    )
    def delete(self, request, name):
        object_type = self.object_type(name)
        services.object_type_delete(
            ObjectTypeDelete(
                force=force_of(request),
                expected_version=self.expected_version,
                **reason_and_ticket(request),
            ),
            tenant=self.tenant,
            actor=self.actor,
            object_type=object_type,
        )
        return Response(status=204)


def force_of(request) -> bool:
    raw = request.query_params.get("force")
    if raw is None or raw.lower() == "false":
        return False
    if raw.lower() == "true":
        return True
    raise InvalidInput(field_errors=[FieldError("force", "`true` or `false`.", "invalid")])

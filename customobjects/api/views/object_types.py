"""Native object types: list, create, read, update and delete."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema

from customobjects import selectors, services
from customobjects.api import serializers as s
from customobjects.api.parsers import (
    GuardedJSONParser,
)
from customobjects.api.views.common import CustomObjectBaseView, Q
from customobjects.commands import (
    ObjectTypeCreate,
    ObjectTypeDelete,
    ObjectTypeUpdate,
)
from portal.lrapi.errors import LRError, required

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
        name = fields.pop("name")
        schema = fields.pop("schema", None)
        object_type = services.object_type_create(
            ObjectTypeCreate(name=name, schema=schema, limits=fields),
            tenant=self.tenant,
            actor=self.actor,
        )
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
            ObjectTypeUpdate(changes=_type_fields(self.body_json())),
            tenant=self.tenant,
            actor=self.actor,
            object_type=object_type,
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
            ObjectTypeDelete(force=self.query.get_bool("force")),
            tenant=self.tenant,
            actor=self.actor,
            object_type=object_type,
        )
        return self.respond(None, status=204, project=False)

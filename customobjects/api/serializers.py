"""Wire shapes of custom object types and records."""

from datetime import UTC, datetime
from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from customobjects.models import CustomObjectRecord, CustomObjectType


def lr_date(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record_json(record: CustomObjectRecord, *, native: bool = False) -> dict[str, Any]:
    """The LoginRadius record shape; the native API adds the version and the type name."""
    body = {
        "Id": record.record_id,
        "IsActive": record.is_active,
        "DateCreated": lr_date(record.created),
        "DateModified": lr_date(record.modified),
        "IsDeleted": False,
        "Uid": record.account.uid,
        "CustomObject": record.data,
    }
    if native:
        body["ObjectName"] = record.object_type.name
        body["Version"] = record.version
    return body


def object_type_json(object_type: CustomObjectType) -> dict[str, Any]:
    return {
        "name": object_type.name,
        "schema": object_type.schema,
        "max_bytes": object_type.max_bytes,
        "max_depth": object_type.max_depth,
        "max_records_per_account": object_type.max_records_per_account,
        "created": lr_date(object_type.created),
        "modified": lr_date(object_type.modified),
    }


_RECORD_FIELDS = {
    "Id": serializers.CharField(),
    "IsActive": serializers.BooleanField(),
    "DateCreated": serializers.DateTimeField(),
    "DateModified": serializers.DateTimeField(),
    "IsDeleted": serializers.BooleanField(),
    "Uid": serializers.CharField(),
    "CustomObject": serializers.DictField(),
}

RecordSerializer = inline_serializer("CustomObjectRecord", _RECORD_FIELDS)
RecordListSerializer = inline_serializer(
    "CustomObjectRecordList",
    {
        "data": serializers.ListField(child=serializers.DictField()),
        "Count": serializers.IntegerField(),
    },
)
NativeRecordSerializer = inline_serializer(
    "CustomObjectNativeRecord",
    {
        **_RECORD_FIELDS,
        "ObjectName": serializers.CharField(),
        "Version": serializers.IntegerField(),
    },
)
NativeRecordPageSerializer = inline_serializer(
    "CustomObjectRecordPage",
    {
        "results": serializers.ListField(child=serializers.DictField()),
        "count": serializers.IntegerField(),
        "next_cursor": serializers.CharField(allow_null=True),
    },
)
DeletedSerializer = inline_serializer(
    "CustomObjectDeleted", {"IsDeleted": serializers.BooleanField()}
)

_TYPE_FIELDS = {
    "name": serializers.CharField(),
    "schema": serializers.JSONField(allow_null=True, required=False),
    "max_bytes": serializers.IntegerField(required=False),
    "max_depth": serializers.IntegerField(required=False),
    "max_records_per_account": serializers.IntegerField(required=False),
}
ObjectTypeSerializer = inline_serializer(
    "CustomObjectType",
    {
        **_TYPE_FIELDS,
        "created": serializers.DateTimeField(),
        "modified": serializers.DateTimeField(),
    },
)
ObjectTypeWriteSerializer = inline_serializer("CustomObjectTypeWrite", _TYPE_FIELDS)
ObjectTypeListSerializer = inline_serializer(
    "CustomObjectTypeList",
    {
        "data": serializers.ListField(child=serializers.DictField()),
        "Count": serializers.IntegerField(),
    },
)

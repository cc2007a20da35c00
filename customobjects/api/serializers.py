"""Wire shapes of custom object types and records."""

from datetime import UTC, datetime
from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from customobjects.models import CustomObjectRecord


def lr_date(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record_json(record: CustomObjectRecord) -> dict[str, Any]:
    """The LoginRadius record shape."""
    return {
        "Id": record.record_id,
        "IsActive": record.is_active,
        "DateCreated": lr_date(record.created),
        "DateModified": lr_date(record.modified),
        "IsDeleted": False,
        "Uid": record.account.uid,
        "CustomObject": record.data,
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
DeletedSerializer = inline_serializer(
    "CustomObjectDeleted", {"IsDeleted": serializers.BooleanField()}
)

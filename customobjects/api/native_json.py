"""The native API's JSON of custom object types and records, the checks of its request
bodies and query parameters, and its body parser (bounded before it parses)."""

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.parsers import BaseParser

from customobjects import selectors
from customobjects.api.parsers import content_length
from customobjects.models import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_RECORDS_PER_ACCOUNT,
    HARD_MAX_BYTES,
    CustomObjectRecord,
    CustomObjectType,
)
from customobjects.validation import parse_json_text, unstorable_reason
from portal.api.native import moment
from portal.errors import (
    CustomObjectTooLarge,
    CustomObjectTypeNotFound,
    FieldError,
    InvalidInput,
    MalformedJSON,
)
from portal.lrapi.errors import LRError

MAX_FILTER_CHARS = 8192
TYPE_LIMIT_DEFAULTS = {
    "max_bytes": DEFAULT_MAX_BYTES,
    "max_depth": DEFAULT_MAX_DEPTH,
    "max_records_per_account": DEFAULT_MAX_RECORDS_PER_ACCOUNT,
}
TYPE_LIMITS = tuple(TYPE_LIMIT_DEFAULTS)
TYPE_FIELDS = ("name", "schema", *TYPE_LIMITS)
TYPE_READ_ONLY = ("created_at", "modified_at")
RECORD_READ_ONLY = ("id", "uid", "object_name", "version", "created_at", "modified_at")


class NativeJSONBodyParser(BaseParser):
    """A JSON body (empty: `{}`) of at most HARD_MAX_BYTES, nested at most HARD_MAX_DEPTH
    deep: refused as a domain error before a value is built."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(HARD_MAX_BYTES + 1) if stream is not None else b""
        if len(raw) > HARD_MAX_BYTES:
            raise CustomObjectTooLarge(f"The request body exceeds {HARD_MAX_BYTES} bytes.")
        if not raw.strip():
            return {}
        try:
            return parse_json_text(raw)
        except MalformedJSON as exc:
            raise LRError(1090) from exc  # `body_malformed`, as every native resource says


class NativeMergePatchParser(NativeJSONBodyParser):
    media_type = "application/merge-patch+json"


def body_too_large_check(request, limit: int) -> None:
    """Refuse a body whose declared length is over `limit` before anything reads it."""
    if content_length(request) > limit:
        raise CustomObjectTooLarge(f"The request body exceeds {limit} bytes.")


def type_of(*, tenant, name: str) -> CustomObjectType:
    """The tenant's type called `name` (any case); none, or another tenant's, is 404
    (`customobject.type_not_found`) whether or not the tenant has any type."""
    object_type = CustomObjectType.objects.filter(tenant=tenant, name__iexact=name).first()
    if object_type is None:
        raise CustomObjectTypeNotFound()
    return object_type


# --- input ------------------------------------------------------------------------------


def body_object(body: Any, allowed: tuple[str, ...], *, read_only: tuple[str, ...] = ()) -> dict:
    """The body as an object with no key outside `allowed` (400 naming each other key)."""
    if not isinstance(body, dict):
        raise InvalidInput("The body is a JSON object.")
    problems = [
        FieldError(key, "This field is read-only.", "read_only")
        if key in read_only
        else FieldError(key, "The resource has no such field.", "unknown")
        for key in body
        if key not in allowed
    ]
    if problems:
        raise InvalidInput(field_errors=problems)
    return body


def type_changes(body: dict) -> dict[str, Any]:
    """A merge patch of a type as the service's changes: `null` puts a limit back to its
    default and clears the schema; `name` cannot be cleared."""
    changes = dict(body)
    if "name" in changes and changes["name"] is None:
        raise InvalidInput(field_errors=[FieldError("name", "A type needs a name.", "invalid")])
    for limit in TYPE_LIMITS:
        if limit in changes and changes[limit] is None:
            changes[limit] = TYPE_LIMIT_DEFAULTS[limit]
    return changes


def record_filter(raw: str | None) -> dict | None:
    """The `filter` query parameter: a JSON object the records must contain."""
    if not raw:
        return None
    problem = None
    value: Any = None
    if len(raw) > MAX_FILTER_CHARS:
        problem = f"At most {MAX_FILTER_CHARS} characters."
    else:
        try:
            value = parse_json_text(raw.encode("utf-8"))
        except (MalformedJSON, CustomObjectTooLarge):
            problem = "A JSON object."
    if problem is None and not isinstance(value, dict):
        problem = "A JSON object."
    if problem is None:
        reason = unstorable_reason(value)
        problem = f"Not usable JSON: {reason}" if reason else None
    if problem:
        raise InvalidInput(field_errors=[FieldError("filter", problem, "invalid")])
    return value


# --- representations --------------------------------------------------------------------


def type_json(object_type: CustomObjectType) -> dict[str, Any]:
    return {
        "name": object_type.name,
        "schema": object_type.schema,
        "max_bytes": object_type.max_bytes,
        "max_depth": object_type.max_depth,
        "max_records_per_account": object_type.max_records_per_account,
        "created_at": moment(object_type.created),
        "modified_at": moment(object_type.modified),
    }


def record_json(record: CustomObjectRecord) -> dict[str, Any]:
    return {
        "id": record.record_id,
        "uid": record.account.uid,
        "object_name": record.object_type.name,
        "data": record.data,
        "version": selectors.record_version(record),
        "created_at": moment(record.created),
        "modified_at": moment(record.modified),
    }


TYPE = inline_serializer(
    "NativeCustomObjectType",
    {
        "name": serializers.CharField(),
        "schema": serializers.JSONField(allow_null=True),
        "max_bytes": serializers.IntegerField(),
        "max_depth": serializers.IntegerField(),
        "max_records_per_account": serializers.IntegerField(),
        "created_at": serializers.DateTimeField(),
        "modified_at": serializers.DateTimeField(),
    },
)
TYPE_INPUT = inline_serializer(
    "NativeCustomObjectTypeInput",
    {
        "name": serializers.CharField(),
        "schema": serializers.JSONField(allow_null=True, required=False),
        "max_bytes": serializers.IntegerField(required=False),
        "max_depth": serializers.IntegerField(required=False),
        "max_records_per_account": serializers.IntegerField(required=False),
    },
)
TYPE_PATCH = inline_serializer(
    "NativeCustomObjectTypePatch",
    {
        "name": serializers.CharField(required=False),
        "schema": serializers.JSONField(allow_null=True, required=False),
        "max_bytes": serializers.IntegerField(allow_null=True, required=False),
        "max_depth": serializers.IntegerField(allow_null=True, required=False),
        "max_records_per_account": serializers.IntegerField(allow_null=True, required=False),
    },
)
RECORD = inline_serializer(
    "NativeCustomObjectRecord",
    {
        "id": serializers.CharField(),
        "uid": serializers.CharField(),
        "object_name": serializers.CharField(),
        "data": serializers.DictField(),
        "version": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
        "modified_at": serializers.DateTimeField(),
    },
)
RECORD_INPUT = inline_serializer(
    "NativeCustomObjectRecordInput",
    {
        "uid": serializers.CharField(),
        "id": serializers.CharField(required=False),
        "data": serializers.DictField(),
    },
)
RECORD_PATCH = inline_serializer(
    "NativeCustomObjectRecordPatch", {"data": serializers.DictField(required=False)}
)

TYPE_EXAMPLE = {
    "name": "orders",
    "schema": {"type": "object", "required": ["total"]},
    "max_bytes": 65536,
    "max_depth": 32,
    "max_records_per_account": 1000,
    "created_at": "2026-12-01T09:00:00.000Z",
    "modified_at": "2026-12-07T04:00:00.000Z",
}
RECORD_EXAMPLE = {
    "id": "order-1",
    "uid": "6f1c0a9e2b3d4e5f8a7b6c5d4e3f2a1b",
    "object_name": "orders",
    "data": {"total": 42, "plan": "gold"},
    "version": "2026-12-07T04:00:00.123456+00:00",
    "created_at": "2026-12-01T09:00:00.000Z",
    "modified_at": "2026-12-07T04:00:00.123Z",
}

"""Reads of custom object types and records; every one is scoped to a tenant."""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection

from accounts.selectors import account_get
from customobjects.models import RECORD_ID_RE, CustomObjectRecord, CustomObjectType
from portal.errors import (
    CustomObjectRecordIdInvalid,
    CustomObjectRecordNotFound,
    CustomObjectsNotConfigured,
    CustomObjectTypeNotFound,
    FieldRequired,
    InvalidValue,
)
from portal.models import Tenant

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def object_type_list(*, tenant: Tenant):
    return CustomObjectType.objects.filter(tenant=tenant).order_by("name")


def object_type_get(*, tenant: Tenant, name: str | None) -> CustomObjectType:
    """The type called `name` (any case). Refused, in this order: the tenant has none at
    all, no name was given, the name is not configured."""
    if name:
        object_type = CustomObjectType.objects.filter(tenant=tenant, name__iexact=name).first()
        if object_type is not None:
            return object_type
    if not CustomObjectType.objects.filter(tenant=tenant).exists():
        raise CustomObjectsNotConfigured()
    if not name:
        raise FieldRequired("objectname")
    raise CustomObjectTypeNotFound()


def record_id_check(record_id: str | None) -> str:
    if not record_id or not re.match(RECORD_ID_RE, record_id):
        raise CustomObjectRecordIdInvalid()
    return record_id


def record_get(
    *, tenant: Tenant, object_name: str | None, uid: str | None, record_id: str | None
) -> CustomObjectRecord:
    """One record of the account `uid`: one query when it exists; otherwise the precise
    error (the type, the account, a malformed id, no such record)."""
    if object_name and uid and record_id and re.match(RECORD_ID_RE, record_id):
        record = (
            CustomObjectRecord.objects.select_related("object_type", "account")
            .filter(
                tenant=tenant,
                object_type__name__iexact=object_name,
                account__uid=uid,
                record_id=record_id,
            )
            .first()
        )
        if record is not None:
            return record
    object_type = object_type_get(tenant=tenant, name=object_name)
    account = account_get(tenant=tenant, uid=uid)
    record_id_check(record_id)
    record = (
        CustomObjectRecord.objects.select_related("object_type", "account")
        .filter(object_type=object_type, account=account, record_id=record_id)
        .first()
    )
    if record is None:
        raise CustomObjectRecordNotFound()
    return record


def record_get_by_id(
    *, tenant: Tenant, object_type: CustomObjectType, record_id: str | None
) -> CustomObjectRecord:
    record_id_check(record_id)
    record = (
        CustomObjectRecord.objects.select_related("object_type", "account")
        .filter(tenant=tenant, object_type=object_type, record_id=record_id)
        .first()
    )
    if record is None:
        raise CustomObjectRecordNotFound()
    return record


def object_type_version(object_type: CustomObjectType) -> str:
    """The version of a type a command's `expected_version` names: the time of its last
    write, RFC 3339 with microseconds."""
    return object_type.modified.astimezone(UTC).isoformat(timespec="microseconds")


def record_version(record: CustomObjectRecord) -> str:
    """The version of a record a command's `expected_version` names: the time of its last
    write, RFC 3339 with microseconds."""
    return record.modified.astimezone(UTC).isoformat(timespec="microseconds")


def record_list_for_account(*, object_type: CustomObjectType, account) -> list[CustomObjectRecord]:
    return list(
        CustomObjectRecord.objects.select_related("object_type", "account")
        .filter(object_type=object_type, account=account)
        .order_by("created", "pk")
    )


def jsonb_contains(container: Any, contained: Any, *, top: bool = True) -> bool:
    """PostgreSQL's `container @> contained` for JSON values, for backends without JSONB."""
    if isinstance(contained, dict):
        return isinstance(container, dict) and all(
            key in container and jsonb_contains(container[key], value, top=False)
            for key, value in contained.items()
        )
    if isinstance(contained, list):
        if not isinstance(container, list):
            return False
        return all(
            any(jsonb_contains(item, wanted, top=False) for item in container)
            for wanted in contained
        )
    if isinstance(container, list) and top:
        # A top-level array contains a scalar that is one of its elements.
        return any(_scalar_equal(item, contained) for item in container)
    return _scalar_equal(container, contained)


def _scalar_equal(a: Any, b: Any) -> bool:
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        pk = int(value)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidValue("cursor", "The cursor is not valid.") from exc
    if pk < 0:
        raise InvalidValue("cursor", "The cursor is not valid.")
    return pk


@dataclass(frozen=True)
class RecordPage:
    records: list[CustomObjectRecord]
    count: int
    next_cursor: str | None


def record_query(
    *,
    tenant: Tenant,
    object_type: CustomObjectType,
    contains: dict[str, Any] | None = None,
    uid: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> RecordPage:
    """Records of a type whose JSON contains `contains` (JSONB `@>` on PostgreSQL, served by
    the GIN index), optionally of one account; exact total count, keyset pagination by id."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    after = decode_cursor(cursor)
    base = CustomObjectRecord.objects.filter(tenant=tenant, object_type=object_type)
    if uid is not None:
        base = base.filter(account__uid=uid)
    if contains and connection.vendor != "postgresql":
        return _record_query_scan(base, contains, after, limit)
    if contains:
        base = base.filter(data__contains=contains)
    count = base.count()
    rows = list(
        base.filter(pk__gt=after)
        .select_related("object_type", "account")
        .order_by("pk")[: limit + 1]
    )
    return _page(rows, count, limit)


def _record_query_scan(base, contains, after: int, limit: int) -> RecordPage:
    count = 0
    page_pks: list[int] = []
    for pk, data in base.order_by("pk").values_list("pk", "data").iterator(chunk_size=2000):
        if jsonb_contains(data, contains):
            count += 1
            if pk > after and len(page_pks) <= limit:
                page_pks.append(pk)
    rows = list(
        base.filter(pk__in=page_pks).select_related("object_type", "account").order_by("pk")
    )
    return _page(rows, count, limit)


def _page(rows: list[CustomObjectRecord], count: int, limit: int) -> RecordPage:
    more = len(rows) > limit
    rows = rows[:limit]
    return RecordPage(
        records=rows, count=count, next_cursor=encode_cursor(rows[-1].pk) if more and rows else None
    )

"""Every write to custom object types and records: validated, audited, in one transaction.

Update types: `replace` overwrites the stored object; `partialreplace` merges the body's
top-level keys into it (LoginRadius "upsert"). The v12 enum's `default`, like an absent
`updatetype` (the v11 SDK sends none unless asked), means the default behaviour, which
we read as `partialreplace`: the non-destructive one.
Deleting a record removes the row (the audit event keeps its content), so records on the
wire always carry `IsDeleted: false`.

Each service takes one typed command (customobjects/commands.py). A record write may carry
an If-Match value and an `expected_version` (selectors.record_version); a record changed
since is refused and nothing changes.
"""

import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Account
from customobjects.commands import (
    UPDATE_MERGE_PATCH,
    UPDATE_PARTIAL,
    UPDATE_REPLACE,
    ObjectTypeCreate,
    ObjectTypeDelete,
    ObjectTypeUpdate,
    RecordCreate,
    RecordDelete,
    RecordUpdate,
)
from customobjects.models import (
    HARD_MAX_BYTES,
    HARD_MAX_DEPTH,
    HARD_MAX_RECORDS_PER_ACCOUNT,
    NAME_RE,
    RECORD_ID_RE,
    CustomObjectRecord,
    CustomObjectType,
    new_record_id,
)
from customobjects.selectors import object_type_version, record_version
from customobjects.validation import record_data_check, schema_check
from portal import audit, events
from portal.audit import Actor
from portal.errors import (
    AccountNotFound,
    CustomObjectNotAnObject,
    CustomObjectRecordChanged,
    CustomObjectRecordIdInvalid,
    CustomObjectRecordIdTaken,
    CustomObjectRecordLimitReached,
    CustomObjectRecordNotFound,
    CustomObjectTypeInUse,
    CustomObjectTypeVersionStale,
    CustomObjectVersionStale,
    FieldError,
    InvalidInput,
    InvalidValue,
)
from portal.models import Tenant

__all__ = [
    "TYPE_FIELDS",
    "UPDATE_MERGE_PATCH",
    "UPDATE_PARTIAL",
    "UPDATE_REPLACE",
    "etag_matches",
    "object_type_create",
    "object_type_delete",
    "object_type_update",
    "record_create",
    "record_delete",
    "record_update",
]

_LIMITS = {
    "max_bytes": (2, HARD_MAX_BYTES),
    "max_depth": (1, HARD_MAX_DEPTH),
    "max_records_per_account": (1, HARD_MAX_RECORDS_PER_ACCOUNT),
}
TYPE_FIELDS = ("name", "schema", *_LIMITS)


def _type_snapshot(object_type: CustomObjectType) -> dict[str, Any]:
    return {name: getattr(object_type, name) for name in TYPE_FIELDS}


def _type_name_taken(tenant: Tenant, name: str, *, exclude_pk: int | None) -> bool:
    """Whether another type of the tenant (not `exclude_pk`) has `name`, in any case."""
    others = CustomObjectType.objects.filter(tenant=tenant, name__iexact=name)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.exists()


def _check_type_fields(
    tenant: Tenant, fields: dict[str, Any], *, exclude_pk: int | None = None
) -> None:
    errors = {}
    if "name" in fields:
        name = fields["name"]
        if not isinstance(name, str) or not re.match(NAME_RE, name):
            errors["name"] = "The name must be 1-100 letters, digits, '_' or '-'."
        elif _type_name_taken(tenant, name, exclude_pk=exclude_pk):
            errors["name"] = f"A custom object named {name} already exists."
    for key, (low, high) in _LIMITS.items():
        if key in fields:
            value = fields[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors[key] = f"The {key} must be a whole number from {low} to {high}."
    if errors:
        raise InvalidInput(field_errors=[FieldError(k, v) for k, v in errors.items()])
    if "schema" in fields:
        schema_check(fields["schema"])


def _name_taken(message: str) -> InvalidInput:
    return InvalidInput(field_errors=[FieldError("name", message, "taken")])


@events.emits("customobject_type.created")
def object_type_create(
    command: ObjectTypeCreate, *, tenant: Tenant, actor: Actor
) -> CustomObjectType:
    """Configure a custom object for the tenant; until then its name is not found."""
    name, schema, limits = command.name, command.schema, dict(command.limits)
    unknown = set(limits) - set(_LIMITS)
    if unknown:
        raise TypeError(f"unknown limits: {sorted(unknown)}")
    fields = {"name": name, "schema": schema, **limits}
    with transaction.atomic():
        _check_type_fields(tenant, fields)
        object_type = CustomObjectType(tenant=tenant, **fields)
        try:
            with transaction.atomic():
                object_type.save()
        except IntegrityError as exc:
            raise _name_taken(f"A custom object named {name} already exists.") from exc
        audit.record(
            tenant=tenant,
            actor=actor,
            action="customobject_type.created",
            reason=command.reason,
            ticket=command.ticket,
            changes=audit.diff({}, _type_snapshot(object_type)),
        )
    return object_type


def _check_type_version(object_type: CustomObjectType, expected: str | None) -> None:
    """Refuse a command that expected another version of the type."""
    if expected is not None and expected != object_type_version(object_type):
        raise CustomObjectTypeVersionStale()


@events.emits("customobject_type.updated")
def object_type_update(
    command: ObjectTypeUpdate, *, tenant: Tenant, actor: Actor, object_type: CustomObjectType
) -> CustomObjectType:
    """Rename, re-schema or re-limit a type. Existing records are kept as they are; the new
    schema and limits apply from their next write."""
    changes = dict(command.changes)
    unknown = set(changes) - set(TYPE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        object_type = CustomObjectType.objects.select_for_update().get(
            pk=object_type.pk, tenant=tenant
        )
        _check_type_version(object_type, command.expected_version)
        _check_type_fields(tenant, changes, exclude_pk=object_type.pk)
        before = _type_snapshot(object_type)
        for key, value in changes.items():
            setattr(object_type, key, value)
        after = _type_snapshot(object_type)
        if before == after:
            return object_type
        try:
            with transaction.atomic():
                object_type.save()
        except IntegrityError as exc:
            raise _name_taken("A custom object with this name already exists.") from exc
        audit.record(
            tenant=tenant,
            actor=actor,
            action="customobject_type.updated",
            reason=command.reason,
            ticket=command.ticket,
            changes=audit.diff(before, after),
        )
    return object_type


@events.emits("customobject_type.deleted")
def object_type_delete(
    command: ObjectTypeDelete, *, tenant: Tenant, actor: Actor, object_type: CustomObjectType
) -> int:
    """Remove a type. A type that still holds records is kept unless `force`, which deletes
    them too; returns how many records went with it."""
    with transaction.atomic():
        object_type = CustomObjectType.objects.select_for_update().get(
            pk=object_type.pk, tenant=tenant
        )
        _check_type_version(object_type, command.expected_version)
        count = object_type.records.count()
        if count and not command.force:
            raise CustomObjectTypeInUse(
                field_errors=[
                    FieldError(
                        "name",
                        f"{object_type.name} still holds {count} records; delete with force=true to remove them too.",
                    )
                ]
            )
        snapshot = _type_snapshot(object_type)
        object_type.delete()
        audit.record(
            tenant=tenant,
            actor=actor,
            action="customobject_type.deleted",
            reason=command.reason,
            ticket=command.ticket,
            changes={**audit.diff(snapshot, {}), "records_deleted": count},
        )
    return count


def _record_changes(record: CustomObjectRecord, before: dict, after: dict) -> dict[str, Any]:
    return {
        "ObjectName": record.object_type.name,
        "Id": record.record_id,
        "CustomObject": audit.diff(before, after),
    }


@events.emits("customobject.created")
def record_create(
    command: RecordCreate,
    *,
    tenant: Tenant,
    actor: Actor,
    object_type: CustomObjectType,
    account: Account,
) -> CustomObjectRecord:
    """Store a new record for `account`, within the type's schema, limits and record quota."""
    data, record_id = command.data, command.record_id
    if object_type.tenant_id != tenant.pk or account.tenant_id != tenant.pk:
        raise AccountNotFound()
    if record_id is not None and not re.match(RECORD_ID_RE, record_id):
        raise CustomObjectRecordIdInvalid()
    record_data_check(object_type, data)
    with transaction.atomic():
        # Serialise creates for one account so the quota holds under concurrency.
        Account.objects.select_for_update().filter(pk=account.pk).first()
        held = CustomObjectRecord.objects.filter(object_type=object_type, account=account).count()
        if held >= object_type.max_records_per_account:
            raise CustomObjectRecordLimitReached(
                f"The account already holds {held} records of {object_type.name}, its limit.",
            )
        record = CustomObjectRecord(
            tenant=tenant,
            object_type=object_type,
            account=account,
            record_id=record_id or new_record_id(),
            data=data,
        )
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError as exc:
            raise CustomObjectRecordIdTaken() from exc
        audit.record(
            tenant=tenant,
            actor=actor,
            action="customobject.created",
            subject_uid=account.uid,
            reason=command.reason,
            ticket=command.ticket,
            changes=_record_changes(record, {}, data),
        )
    return record


@events.reads
def etag_matches(record: CustomObjectRecord, if_match: str | None) -> bool:
    """Whether an If-Match header names the record's current version (`*` matches any)."""
    if if_match is None:
        return True
    tags = [t.strip() for t in if_match.split(",") if t.strip()]
    if "*" in tags:
        return True
    return any(t.removeprefix("W/") == record.etag for t in tags)


def _check_version(record: CustomObjectRecord, expected: str | None) -> None:
    """Refuse a command that expected another version of the record."""
    if expected is None:
        return
    try:
        wanted = datetime.fromisoformat(expected)
    except (TypeError, ValueError):
        wanted = None
    if wanted is None or wanted.tzinfo is None:
        raise InvalidValue(
            "expected_version", "The expected_version must be an RFC 3339 date-time with offset."
        )
    if wanted != record.modified:
        raise CustomObjectVersionStale(record_version(record))


def _merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7396: objects merge key by key, `null` removes a key, anything else replaces."""
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            current = merged.get(key)
            merged[key] = _merge_patch(current if isinstance(current, dict) else {}, value)
        else:
            merged[key] = value
    return merged


@events.emits("customobject.updated")
def record_update(
    command: RecordUpdate, *, tenant: Tenant, actor: Actor, record: CustomObjectRecord
) -> CustomObjectRecord:
    """Overwrite (`replace`), merge top-level keys into (`partialreplace`) or apply a JSON
    merge patch to (`mergepatch`) a record.

    With `if_match` or `expected_version`, a record changed since the caller read it is
    refused (412), so two agents cannot silently overwrite each other
    (CustomObjectRecordChanged, CustomObjectVersionStale). An update that leaves the data
    as it was records nothing.
    """
    data, update_type = command.data, command.update_type
    if update_type not in (UPDATE_REPLACE, UPDATE_PARTIAL, UPDATE_MERGE_PATCH):
        raise ValueError(update_type)
    if not isinstance(data, dict):
        raise CustomObjectNotAnObject()
    with transaction.atomic():
        current = (
            CustomObjectRecord.objects.select_for_update()
            .select_related("object_type", "account")
            .filter(pk=record.pk, tenant=tenant)
            .first()
        )
        if current is None:
            raise CustomObjectRecordNotFound()
        if not etag_matches(current, command.if_match):
            raise CustomObjectRecordChanged(current.etag)
        _check_version(current, command.expected_version)
        before = current.data if isinstance(current.data, dict) else {}
        if update_type == UPDATE_REPLACE:
            after = data
        elif update_type == UPDATE_MERGE_PATCH:
            after = _merge_patch(before, data)
        else:
            after = {**before, **data}
        record_data_check(current.object_type, after)
        if after == before:
            return current  # nothing changes: no new version, ETag or event
        current.data = after
        current.version += 1
        current.save(update_fields=["data", "version", "modified"])
        audit.record(
            tenant=tenant,
            actor=actor,
            action="customobject.updated",
            subject_uid=current.account.uid,
            reason=command.reason,
            ticket=command.ticket,
            changes={**_record_changes(current, before, after), "UpdateType": update_type},
        )
    return current


@events.emits("customobject.deleted")
def record_delete(
    command: RecordDelete, *, tenant: Tenant, actor: Actor, record: CustomObjectRecord
) -> None:
    """Delete a record; the audit event keeps what it held."""
    with transaction.atomic():
        current = (
            CustomObjectRecord.objects.select_for_update()
            .select_related("object_type", "account")
            .filter(pk=record.pk, tenant=tenant)
            .first()
        )
        if current is None:
            raise CustomObjectRecordNotFound()
        if not etag_matches(current, command.if_match):
            raise CustomObjectRecordChanged(current.etag)
        _check_version(current, command.expected_version)
        changes = _record_changes(
            current, current.data if isinstance(current.data, dict) else {}, {}
        )
        uid = current.account.uid
        current.delete()
        audit.record(
            tenant=tenant,
            actor=actor,
            action="customobject.deleted",
            subject_uid=uid,
            reason=command.reason,
            ticket=command.ticket,
            changes=changes,
        )

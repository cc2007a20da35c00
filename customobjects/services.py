"""Every write to custom object types and records: validated, audited, in one transaction.

Update types: `replace` overwrites the stored object; `partialreplace` merges the body's
top-level keys into it (LoginRadius "upsert"). The v12 enum's `default`, like an absent
`updatetype` (the v11 SDK sends none unless asked), means the default behaviour, which
we read as `partialreplace`: the non-destructive one.
Deleting a record removes the row (the audit event keeps its content), so records on the
wire always carry `IsDeleted: false`.
"""

import re
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Account
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
from customobjects.validation import record_data_check, schema_check
from portal import audit
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
    FieldError,
    InvalidInput,
)
from portal.models import Tenant

UPDATE_REPLACE = "replace"
UPDATE_PARTIAL = "partialreplace"

_LIMITS = {
    "max_bytes": (2, HARD_MAX_BYTES),
    "max_depth": (1, HARD_MAX_DEPTH),
    "max_records_per_account": (1, HARD_MAX_RECORDS_PER_ACCOUNT),
}
TYPE_FIELDS = ("name", "schema", *_LIMITS)


def _type_snapshot(object_type: CustomObjectType) -> dict[str, Any]:
    return {name: getattr(object_type, name) for name in TYPE_FIELDS}


def _check_type_fields(
    tenant: Tenant, fields: dict[str, Any], *, exclude_pk: int | None = None
) -> None:
    errors = {}
    if "name" in fields:
        name = fields["name"]
        if not isinstance(name, str) or not re.match(NAME_RE, name):
            errors["name"] = "The name must be 1-100 letters, digits, '_' or '-'."
        elif (
            CustomObjectType.objects.filter(tenant=tenant, name__iexact=name)
            .exclude(pk=exclude_pk)
            .exists()
        ):
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


def object_type_create(
    *, tenant: Tenant, actor: Actor, name: str, schema: Any = None, reason: str = "", **limits: int
) -> CustomObjectType:
    """Configure a custom object for the tenant; until then its name is not found."""
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
            reason=reason,
            changes=audit.diff({}, _type_snapshot(object_type)),
        )
    return object_type


def object_type_update(
    *,
    tenant: Tenant,
    actor: Actor,
    object_type: CustomObjectType,
    changes: dict[str, Any],
    reason: str = "",
) -> CustomObjectType:
    """Rename, re-schema or re-limit a type. Existing records are kept as they are; the new
    schema and limits apply from their next write."""
    unknown = set(changes) - set(TYPE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        object_type = CustomObjectType.objects.select_for_update().get(
            pk=object_type.pk, tenant=tenant
        )
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
            reason=reason,
            changes=audit.diff(before, after),
        )
    return object_type


def object_type_delete(
    *,
    tenant: Tenant,
    actor: Actor,
    object_type: CustomObjectType,
    force: bool = False,
    reason: str = "",
) -> int:
    """Remove a type. A type that still holds records is kept unless `force`, which deletes
    them too; returns how many records went with it."""
    with transaction.atomic():
        object_type = CustomObjectType.objects.select_for_update().get(
            pk=object_type.pk, tenant=tenant
        )
        count = object_type.records.count()
        if count and not force:
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
            reason=reason,
            changes={**audit.diff(snapshot, {}), "records_deleted": count},
        )
    return count


def _record_changes(record: CustomObjectRecord, before: dict, after: dict) -> dict[str, Any]:
    return {
        "ObjectName": record.object_type.name,
        "Id": record.record_id,
        "CustomObject": audit.diff(before, after),
    }


def record_create(
    *,
    tenant: Tenant,
    actor: Actor,
    object_type: CustomObjectType,
    account: Account,
    data: Any,
    record_id: str | None = None,
    reason: str = "",
) -> CustomObjectRecord:
    """Store a new record for `account`, within the type's schema, limits and record quota."""
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
            reason=reason,
            changes=_record_changes(record, {}, data),
        )
    return record


def etag_matches(record: CustomObjectRecord, if_match: str | None) -> bool:
    """Whether an If-Match header names the record's current version (`*` matches any)."""
    if if_match is None:
        return True
    tags = [t.strip() for t in if_match.split(",") if t.strip()]
    if "*" in tags:
        return True
    return any(t.removeprefix("W/") == record.etag for t in tags)


def record_update(
    *,
    tenant: Tenant,
    actor: Actor,
    record: CustomObjectRecord,
    data: Any,
    update_type: str = UPDATE_REPLACE,
    if_match: str | None = None,
    reason: str = "",
    ticket: str = "",
) -> CustomObjectRecord:
    """Overwrite (`replace`) or merge top-level keys into (`partialreplace`) a record.

    With `if_match`, a record changed since the caller read it is refused (412), so two
    agents cannot silently overwrite each other (CustomObjectRecordChanged).
    """
    if update_type not in (UPDATE_REPLACE, UPDATE_PARTIAL):
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
        if not etag_matches(current, if_match):
            raise CustomObjectRecordChanged(current.etag)
        before = current.data if isinstance(current.data, dict) else {}
        after = data if update_type == UPDATE_REPLACE else {**before, **data}
        record_data_check(current.object_type, after)
        current.data = after
        current.version += 1
        current.save(update_fields=["data", "version", "modified"])
        audit.record(
            tenant=tenant,
            actor=actor,
            action="customobject.updated",
            subject_uid=current.account.uid,
            reason=reason,
            ticket=ticket,
            changes={**_record_changes(current, before, after), "UpdateType": update_type},
        )
    return current


def record_delete(
    *,
    tenant: Tenant,
    actor: Actor,
    record: CustomObjectRecord,
    if_match: str | None = None,
    reason: str = "",
    ticket: str = "",
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
        if not etag_matches(current, if_match):
            raise CustomObjectRecordChanged(current.etag)
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
            reason=reason,
            ticket=ticket,
            changes=changes,
        )

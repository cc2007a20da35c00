"""The typed commands of the custom object services (portal/commands.py): what a front door
builds from its own input and hands to the service. The type, account or record a command
acts on is the service's context argument, like the tenant and the actor."""

from dataclasses import dataclass, field
from typing import Any

from portal.commands import Command, command

UPDATE_REPLACE = "replace"
UPDATE_PARTIAL = "partialreplace"
# A JSON merge patch (RFC 7396) of the stored object: nested objects merge, `null` removes.
UPDATE_MERGE_PATCH = "mergepatch"


@command("customobject.create")
@dataclass(frozen=True)
class RecordCreate(Command):
    """Store a new record for the account (customobjects.services.record_create); without
    `record_id` one is made up."""

    data: dict[str, Any]
    record_id: str | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RecordCreate":
        return cls(
            data={"plan": "gold", "seats": 3, "tags": ["a", "b"], "meta": {"trial": False}},
            record_id="order-1",
            reason="migrated by hand",
        )


@command("customobject.update")
@dataclass(frozen=True)
class RecordUpdate(Command):
    """Overwrite (`replace`), merge top-level keys into (`partialreplace`) or apply a JSON
    merge patch to (`mergepatch`) a record (customobjects.services.record_update). `if_match` is an HTTP If-Match value (ETags);
    `expected_version` a version read with customobjects.selectors.record_version. Either
    refuses the command once the record has changed."""

    data: dict[str, Any]
    update_type: str = UPDATE_REPLACE
    if_match: str | None = None
    expected_version: str | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RecordUpdate":
        return cls(
            data={"plan": "platinum", "score": 1.5, "note": None},
            update_type=UPDATE_PARTIAL,
            if_match='"order-1.3"',
            expected_version="2026-05-01T12:00:00.123456+00:00",
            reason="upgrade",
            ticket="SUP-5",
        )


@command("customobject.delete")
@dataclass(frozen=True)
class RecordDelete(Command):
    """Delete a record; the audit event keeps what it held (customobjects.services.record_delete)."""

    if_match: str | None = None
    expected_version: str | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "RecordDelete":
        return cls(expected_version="2026-05-01T12:00:00.123456+00:00", reason="duplicate")


@command("customobject_type.create")
@dataclass(frozen=True)
class ObjectTypeCreate(Command):
    """Configure a custom object for the tenant (customobjects.services.object_type_create).
    `limits` holds the limits given (max_bytes, max_depth, max_records_per_account); the
    others keep their defaults."""

    name: str
    schema: Any = None
    limits: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "ObjectTypeCreate":
        return cls(
            name="Orders",
            schema={"type": "object", "required": ["total"]},
            limits={"max_records_per_account": 10},
            reason="new checkout",
        )


@command("customobject_type.update")
@dataclass(frozen=True)
class ObjectTypeUpdate(Command):
    """Rename, re-schema or re-limit a type (customobjects.services.object_type_update):
    `changes` holds the fields given (name, schema and the limits). `expected_version`
    (customobjects.selectors.object_type_version) refuses it once the type has changed."""

    changes: dict[str, Any]
    expected_version: str | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "ObjectTypeUpdate":
        return cls(
            changes={"name": "Purchases", "max_depth": 8, "schema": None},
            expected_version="2026-05-01T12:00:00.123456+00:00",
            ticket="OPS-1",
        )


@command("customobject_type.delete")
@dataclass(frozen=True)
class ObjectTypeDelete(Command):
    """Remove a type; with `force` its records go too (customobjects.services.object_type_delete).
    `expected_version` refuses it once the type has changed since it was read."""

    force: bool = False
    expected_version: str | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "ObjectTypeDelete":
        return cls(
            force=True, expected_version="2026-05-01T12:00:00.123456+00:00", reason="retired"
        )

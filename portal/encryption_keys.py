"""Re-encrypting stored secrets under the newest FIELD_ENCRYPTION_KEY.

The columns are every `portal.fields.EncryptedTextField` and `SealedJSONField` of every
installed model, so a column added later is rotated without being listed here. A column
is walked in primary-key order, one locked batch per transaction. Progress is the data
itself: a value already under the newest key is left alone, so an interrupted run started
again continues where it stopped, and a repeated run writes nothing.
"""

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import Case, Value, When

from portal import audit, crypto, events
from portal.commands import SEALED
from portal.fields import EncryptedTextField, SealedJSONField

ROTATED = "encryption_key.rotated"
ACTOR = audit.Actor.system("manage.py encryption_keys_rotate")


class UndecryptableValue(ValueError):
    """A stored value that no configured key decrypts (a key missing from the list)."""


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field: models.Field

    @property
    def label(self) -> str:
        return f"{self.model._meta.db_table}.{self.field.column}"

    def rows(self) -> models.QuerySet:
        """Every row holding a value (the base manager: no default filtering), in pk order."""
        rows = self.model._meta.base_manager.order_by("pk")
        if isinstance(self.field, EncryptedTextField):
            rows = rows.exclude(**{self.field.attname: ""})
        return rows.exclude(**{f"{self.field.attname}__isnull": True})


@dataclass(frozen=True)
class Batch:
    read: int
    reencrypted: int
    last_pk: Any
    undecryptable: tuple[Any, ...]  # primary keys of values no configured key decrypts


def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted column of every installed model, in a stable order."""
    columns = [
        EncryptedColumn(model, field)
        for model in apps.get_models()
        if not model._meta.proxy
        for field in model._meta.local_concrete_fields
        if isinstance(field, EncryptedTextField | SealedJSONField)
    ]
    return sorted(columns, key=lambda column: column.label)


def reencrypted(value: Any, *, field: models.Field) -> Any | None:
    """`value` with everything encrypted in it under the newest key, or None when it
    already is. Raises UndecryptableValue when no configured key decrypts a part of it."""
    try:
        if isinstance(field, SealedJSONField):
            resealed, changed = _resealed(value)
            return resealed if changed else None
        return crypto.reencrypt(value)
    except ValueError as exc:
        raise UndecryptableValue(str(exc)) from exc


def _is_sealed(value: str) -> bool:
    """The prefix followed by something shaped like a Fernet token (version byte 0x80,
    timestamp, IV, whole AES blocks, HMAC): plain text that merely starts with the prefix
    (a name typed by a user) is left alone."""
    if not value.startswith(SEALED):
        return False
    try:
        token = base64.urlsafe_b64decode(value[len(SEALED) :].encode())
    except (binascii.Error, ValueError):
        return False
    return token[:1] == b"\x80" and len(token) >= 73 and (len(token) - 57) % 16 == 0


def _resealed(value: Any) -> tuple[Any, bool]:
    """(`value` with every sealed string under the newest key, whether any changed)."""
    if isinstance(value, str) and _is_sealed(value):
        token = crypto.reencrypt(value[len(SEALED) :])
        return (value, False) if token is None else (SEALED + token, True)
    if isinstance(value, list):
        items = [_resealed(item) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if isinstance(value, dict):
        entries = {key: _resealed(item) for key, item in value.items()}
        return (
            {key: item for key, (item, _) in entries.items()},
            any(changed for _, changed in entries.values()),
        )
    return value, False


@events.emits("encryption_key.rotated")
def reencrypt_batch(*, column: EncryptedColumn, after_pk: Any, size: int) -> Batch | None:
    """Re-encrypts the next `size` values of `column` after `after_pk` (None: from the
    start) under the newest key, in one transaction holding their rows locked so that no
    concurrent write is overwritten. None when the column has no rows left."""
    attname = column.field.attname
    with transaction.atomic():
        rows = column.rows()
        if after_pk is not None:
            rows = rows.filter(pk__gt=after_pk)
        batch = list(rows.select_for_update().values_list("pk", attname)[:size])
        if not batch:
            return None
        changes: dict[Any, Any] = {}
        undecryptable = []
        for pk, value in batch:
            try:
                new_value = reencrypted(value, field=column.field)
            except UndecryptableValue:
                undecryptable.append(pk)
                continue
            if new_value is not None:
                changes[pk] = new_value
        if changes:
            whens = [
                When(pk=pk, then=Value(new_value, output_field=column.field))
                for pk, new_value in changes.items()
            ]
            column.model._meta.base_manager.filter(pk__in=list(changes)).update(
                **{attname: Case(*whens, output_field=column.field)}
            )
            audit.record(
                tenant=None,
                actor=ACTOR,
                action=ROTATED,
                changes={"column": column.label, "reencrypted": len(changes)},
            )
    return Batch(
        read=len(batch),
        reencrypted=len(changes),
        last_pk=batch[-1][0],
        undecryptable=tuple(undecryptable),
    )


def values_not_under_newest_key(*, column: EncryptedColumn, size: int) -> Iterator[Any]:
    """Primary keys of the values of `column` that the newest key alone cannot decrypt."""
    attname = column.field.attname
    after_pk = None
    while True:
        rows = column.rows()
        if after_pk is not None:
            rows = rows.filter(pk__gt=after_pk)
        batch = list(rows.values_list("pk", attname)[:size])
        if not batch:
            return
        for pk, value in batch:
            try:
                current = reencrypted(value, field=column.field) is None
            except UndecryptableValue:
                current = False
            if not current:
                yield pk
        after_pk = batch[-1][0]

"""`Idempotency-Key` for the native API's POSTs (docs/api.md, "Idempotency").

The same key with the same body returns the first response and has no second effect; the
same key with another body answers 422; a duplicate that arrives while the first is still
running answers 409. Keys are scoped per credential and kept for IDEMPOTENCY_KEY_HOURS. A
stored response is encrypted at rest (it may hold a secret shown once).

A key is claimed by inserting its row (the unique constraint settles a race) in its own
committed statement before the handler runs; the response is stored after it. A response
of 5xx, or a handler that raised, releases the key so the caller may retry.
"""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from portal import crypto, events
from portal.errors import IdempotencyKeyInFlight, IdempotencyKeyInvalid, IdempotencyKeyReused
from portal.fields import EncryptedTextField

IDEMPOTENCY_KEY_HOURS = 24
KEY_MAX_LENGTH = 200  # portal.errors.IdempotencyKeyInvalid says so


class IdempotencyRecord(models.Model):
    credential_id = models.BigIntegerField()
    key = models.CharField(max_length=KEY_MAX_LENGTH)
    request_hash = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    completed = models.BooleanField(default=False)
    # JSON of {"status", "body", "headers"}, encrypted: a response may hold a secret shown once.
    response = EncryptedTextField(blank=True, default="")

    class Meta:
        app_label = "portal"
        constraints = [
            models.UniqueConstraint(
                fields=["credential_id", "key"], name="portal_idempotency_credential_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} (credential {self.credential_id})"


def request_hash(*, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


@events.upkeep
def idempotency_claim(*, credential_id: int, key: str, fingerprint: str) -> dict | None:
    """Claim `key` for this request: None when claimed (run the handler), or the stored
    response of the first request with the same key and body."""
    if not key or len(key) > KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
        raise IdempotencyKeyInvalid()
    horizon = timezone.now() - timedelta(hours=IDEMPOTENCY_KEY_HOURS)
    IdempotencyRecord.objects.filter(
        credential_id=credential_id, key=key, created__lt=horizon
    ).delete()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                credential_id=credential_id, key=key, request_hash=fingerprint
            )
        return None
    except IntegrityError:
        pass
    first = IdempotencyRecord.objects.filter(credential_id=credential_id, key=key).first()
    if first is None:  # released between our insert and this read: the caller retries
        raise IdempotencyKeyInFlight()
    if first.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if not first.completed:
        raise IdempotencyKeyInFlight()
    return json.loads(crypto.decrypt(first.response))


@events.upkeep
def idempotency_complete(*, credential_id: int, key: str, status: int, body, headers) -> None:
    stored = crypto.encrypt(json.dumps({"status": status, "body": body, "headers": headers}))
    IdempotencyRecord.objects.filter(credential_id=credential_id, key=key).update(
        completed=True, response=stored
    )


@events.upkeep
def idempotency_release(*, credential_id: int, key: str) -> None:
    IdempotencyRecord.objects.filter(credential_id=credential_id, key=key, completed=False).delete()


@events.upkeep
def idempotency_records_purge() -> int:
    horizon = timezone.now() - timedelta(hours=IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created__lt=horizon).delete()
    return deleted

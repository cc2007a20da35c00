"""Named custom object types per tenant, and the JSON records accounts hold of them."""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower

from portal.models import Tenant

# Generous for a profile-side document, small enough that a hostile body costs little.
DEFAULT_MAX_BYTES = 64 * 1024
DEFAULT_MAX_DEPTH = 32
DEFAULT_MAX_RECORDS_PER_ACCOUNT = 1000
# The largest limits a type may be configured with; bodies beyond them are refused
# before they are parsed, whatever the type.
HARD_MAX_BYTES = 1024 * 1024
HARD_MAX_DEPTH = 100
HARD_MAX_RECORDS_PER_ACCOUNT = 1_000_000

NAME_RE = r"^[A-Za-z0-9_-]{1,100}$"
RECORD_ID_RE = r"^[A-Za-z0-9_-]{1,64}$"


def new_record_id() -> str:
    return uuid.uuid4().hex


class CustomObjectType(models.Model):
    """A custom object a tenant has configured: its name, optional JSON Schema and limits."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(
        max_length=100,
        validators=[RegexValidator(NAME_RE, "Use 1-100 letters, digits, '_' or '-'.")],
    )
    schema = models.JSONField(
        null=True, blank=True, help_text="JSON Schema every record must satisfy (optional)."
    )
    max_bytes = models.PositiveIntegerField(
        default=DEFAULT_MAX_BYTES,
        validators=[MinValueValidator(2), MaxValueValidator(HARD_MAX_BYTES)],
    )
    max_depth = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_DEPTH,
        validators=[MinValueValidator(1), MaxValueValidator(HARD_MAX_DEPTH)],
    )
    max_records_per_account = models.PositiveIntegerField(
        default=DEFAULT_MAX_RECORDS_PER_ACCOUNT,
        validators=[MinValueValidator(1), MaxValueValidator(HARD_MAX_RECORDS_PER_ACCOUNT)],
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "tenant", Lower("name"), name="customobject_type_name_unique_per_tenant"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from customobjects.validation import schema_check
        from portal.errors import CustomObjectSchemaInvalid

        try:
            schema_check(self.schema)
        except CustomObjectSchemaInvalid as exc:
            messages = [f"{error.field}: {error.message}" for error in exc.field_errors]
            raise ValidationError({"schema": messages or [exc.message]}) from exc


class CustomObjectRecord(models.Model):
    """One record of a custom object type, owned by one account.

    `version` increases on every write and makes the record's ETag. `data` is JSONB on
    PostgreSQL with a GIN (jsonb_path_ops) index for containment queries (migration 0002).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    object_type = models.ForeignKey(
        CustomObjectType, on_delete=models.CASCADE, related_name="records"
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="custom_object_records"
    )
    record_id = models.CharField(max_length=64, default=new_record_id)
    data = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "record_id"], name="customobject_record_id_unique_per_type"
            ),
        ]
        indexes = [
            models.Index(fields=["object_type", "account"], name="customobject_rec_type_acct"),
            # Keyset pages of a type in id order.
            models.Index(fields=["object_type", "id"], name="customobject_rec_type_id"),
        ]

    def __str__(self) -> str:
        return self.record_id

    @property
    def etag(self) -> str:
        return f'"{self.record_id}.{self.version}"'

"""A tenant's webhook endpoints and the deliveries of its events to them.

The event rows themselves are the outbox (portal.models.AuditEvent): the relay reads them
after a cursor (`WebhookRelayCursor`) and writes one `WebhookDelivery` per endpoint that
subscribed, outside the transaction that recorded the event.
"""

from django.db import models

from portal.fields import EncryptedTextField
from portal.models import Tenant


class WebhookEndpoint(models.Model):
    FORMAT_STANDARD = "standard"
    FORMAT_LOGINRADIUS = "loginradius"
    FORMATS = (FORMAT_STANDARD, FORMAT_LOGINRADIUS)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2000)
    # Event types (`account.updated`), or ["*"]: every type but the excluded ones.
    events = models.JSONField(default=list)
    description = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    format = models.CharField(max_length=16, default=FORMAT_STANDARD)
    # `whsec_<base64>`: the receiver verifies signatures with it, so it is encrypted.
    secret_encrypted = EncryptedTextField(editable=False)
    version = models.PositiveIntegerField(default=1)
    # The event that registered it: it receives the events after this one.
    since_event_id = models.BigIntegerField(default=0)
    # Failed attempts since the last success, and when that failing run began.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "enabled"])]

    def __str__(self) -> str:
        return f"{self.url} ({self.tenant_id})"


class WebhookRelayCursor(models.Model):
    """The id of the last event the relay has fanned out (one row, locked while a relay
    reads the next batch, so two relays never fan out the same events)."""

    name = models.CharField(max_length=40, unique=True)
    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_event_id}"


class WebhookDelivery(models.Model):
    """One event sent (and retried) to one endpoint; a replay is a delivery of its own."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STATES = [(s, s) for s in (PENDING, SUCCEEDED, FAILED)]

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # No foreign key: events are append-only and outlive what refers to them.
    event_id = models.BigIntegerField()
    attempt = models.PositiveIntegerField(default=0)  # attempts made so far
    state = models.CharField(max_length=12, choices=STATES, default=PENDING)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    replay = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["endpoint", "id"]),
        ]
        constraints = [
            # The fan-out sends each event to an endpoint once (replays aside).
            models.UniqueConstraint(
                fields=["endpoint", "event_id"],
                condition=models.Q(replay=False),
                name="webhooks_delivery_once",
            )
        ]

    def __str__(self) -> str:
        return f"event {self.event_id} -> {self.endpoint_id} ({self.state})"

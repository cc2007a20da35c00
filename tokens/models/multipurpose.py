"""Multipurpose email tokens, SMS OTPs, and the outbox that delivers them."""

import uuid

from django.db import models
from django.utils import timezone

from accounts.models import Account
from portal.fields import EncryptedTextField
from portal.models import Tenant

__all__ = ["DailySendCount", "MultipurposeToken", "OutboxMessage", "SendCooldown"]


class MultipurposeTokenQuerySet(models.QuerySet):
    def live(self):
        return self.filter(
            used_at__isnull=True, retired_at__isnull=True, expires_at__gt=timezone.now()
        )


class MultipurposeToken(models.Model):
    """A single-use secret bound to one account and one purpose. Only its keyed hash is
    stored; the plain value leaves once, in the API response or in the outbox message."""

    KIND_EMAIL = "email"
    KIND_SMS = "sms"
    KINDS = [(KIND_EMAIL, "email token"), (KIND_SMS, "SMS OTP")]

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="multipurpose_tokens"
    )
    kind = models.CharField(max_length=8, choices=KINDS)
    purpose = models.CharField(max_length=40)
    token_hash = models.CharField(max_length=64)
    # The email or phone number the token was issued for (consumption checks it).
    destination = models.CharField(max_length=254, blank=True)
    # Purpose data, e.g. {"email": ..., "type": "Secondary"} for addemail.
    data = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = MultipurposeTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["tenant", "token_hash"]),
            models.Index(fields=["account", "kind", "purpose"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.purpose} for {self.account_id}"

    @property
    def is_live(self) -> bool:
        return self.used_at is None and self.retired_at is None and self.expires_at > timezone.now()


class OutboxMessage(models.Model):
    """One email or SMS, written in the transaction that decided to send it and delivered
    after commit by a worker that claims it atomically (queued -> sending -> sent/failed)."""

    CHANNEL_EMAIL = "email"
    CHANNEL_SMS = "sms"
    CHANNELS = [(CHANNEL_EMAIL, "email"), (CHANNEL_SMS, "SMS")]

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    STATUSES = [(s, s) for s in (QUEUED, SENDING, SENT, FAILED)]
    # The provider id of a message a development backend only wrote to a file or printed
    # ("undelivered:file:<name>", "undelivered:console", ...): nothing left the machine.
    # A provider that accepted a message without naming it leaves the id empty.
    UNDELIVERED_PREFIX = "undelivered:"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="outbox_messages"
    )
    token = models.ForeignKey(
        MultipurposeToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    channel = models.CharField(max_length=8, choices=CHANNELS)
    template = models.CharField(max_length=100)
    recipient = models.CharField(max_length=254)
    # The template context, encrypted: it carries the plain token until delivery, and is
    # wiped once the message is sent or given up.
    context_encrypted = EncryptedTextField(blank=True)
    # What a resend needs to issue the token again once the content is erased: the link
    # base the caller chose and whether the SMS was a voice call. Neither is a secret.
    link_base = models.TextField(blank=True)
    voice = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=STATUSES, default=QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Not to be attempted before this instant (retry backoff).
    available_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["status", "available_at"]),
            models.Index(fields=["account", "-created"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.template} -> {self.recipient} ({self.status})"

    @property
    def delivered(self) -> bool:
        """Handed to a real provider (an SMTP server, the SMS API), not only kept locally."""
        return self.status == self.SENT and not self.provider_message_id.startswith(
            self.UNDELIVERED_PREFIX
        )


class SendCooldown(models.Model):
    """When a destination last got a token or message, for the per-destination cooldown."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8)
    destination = models.CharField(max_length=254)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "destination"], name="send_cooldown_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.destination}"


class DailySendCount(models.Model):
    """Messages sent per tenant, channel and UTC day, for the daily caps."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "day"], name="daily_send_count_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.day}: {self.count}"

"""The account record every section hangs off, and the identifiers that find it."""

import uuid

from django.db import models
from django.db.models.functions import Lower

from portal.models import Tenant


def new_uid() -> str:
    return uuid.uuid4().hex


class Account(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="accounts")
    uid = models.CharField(max_length=50, default=new_uid)
    provider_id = models.CharField(max_length=32, default=new_uid)  # the profile's "ID"
    is_custom_uid = models.BooleanField(default=False)
    username = models.CharField(max_length=100, null=True, blank=True)
    phone_id = models.CharField(max_length=20, null=True, blank=True)  # E.164
    phone_id_verified = models.BooleanField(default=False)
    email_verified = models.BooleanField(default=False)
    password = models.CharField(max_length=256, blank=True)  # Django hasher format
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    # Every other profile field of the LoginRadius profile, keyed by its canonical name.
    profile = models.JSONField(default=dict, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)  # False = blocked
    is_login_locked = models.BooleanField(default=False)
    login_locked_type = models.CharField(max_length=40, blank=True)
    login_locked_until = models.DateTimeField(null=True, blank=True)
    is_email_subscribed = models.BooleanField(default=False)
    registration_provider = models.CharField(max_length=40, default="Email")
    registration_source = models.CharField(max_length=300, blank=True)
    signup_date = models.DateTimeField(auto_now_add=True)
    last_login_date = models.DateTimeField(null=True, blank=True)
    last_login_location = models.CharField(max_length=200, blank=True)
    no_of_logins = models.PositiveIntegerField(default=0)
    last_password_change_date = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "uid"], name="account_uid_unique_per_tenant"),
            models.UniqueConstraint(
                "tenant", Lower("username"), name="account_username_unique_per_tenant",
                condition=models.Q(username__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["tenant", "phone_id"], name="account_phone_unique_per_tenant",
                condition=models.Q(phone_id__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "created"]),
        ]

    def __str__(self) -> str:
        return self.uid

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


class AccountEmail(models.Model):
    """An email of an account; unique per tenant whatever its case."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="emails")
    type = models.CharField(max_length=40, default="Primary")
    value = models.CharField(max_length=254)
    verified = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("value"), name="account_email_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.value

"""The account record every section hangs off, and the identifiers that find it.

Searched identifiers (UID, username, phone, emails, names) are columns with indexes; the
rest of the LoginRadius profile lives in `profile`, keyed by its canonical LoginRadius
name (`Gender`, `Addresses`, ...), so the profile JSON can be rebuilt without joins.
"""

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
    # Hashes of secondary secrets set through the profile (PIN, security answers);
    # never part of the profile JSON.
    secret_hashes = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)  # False = blocked
    is_email_subscribed = models.BooleanField(default=False)
    registration_provider = models.CharField(max_length=40, default="Email")
    registration_source = models.CharField(max_length=300, blank=True)
    signup_date = models.DateTimeField(auto_now_add=True)
    last_login_date = models.DateTimeField(null=True, blank=True)
    last_login_location = models.CharField(max_length=200, blank=True)
    no_of_logins = models.PositiveIntegerField(default=0)
    last_password_change_date = models.DateTimeField(null=True, blank=True)
    # Set when staff secure a compromised account: password sign-in is refused (1317) until
    # a new password is set through reset, change or the management set-password call.
    password_change_required = models.BooleanField(default=False)
    # Lower-cased names, username, phone, UID and emails in one column, so substring
    # search is one trigram-indexed LIKE on PostgreSQL (see migration 0003).
    search_text = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "uid"], name="account_uid_unique_per_tenant"),
            models.UniqueConstraint(
                "tenant",
                Lower("username"),
                name="account_username_unique_per_tenant",
                condition=models.Q(username__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["tenant", "phone_id"],
                name="account_phone_unique_per_tenant",
                condition=models.Q(phone_id__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "created"]),
            # Newest-first listing and the rare states the console filters on.
            models.Index(fields=["tenant", "-id"], name="account_tenant_newest"),
            models.Index(
                fields=["tenant", "-id"],
                name="account_tenant_blocked",
                condition=models.Q(is_active=False),
            ),
            models.Index(fields=["tenant", "provider_id"], name="account_tenant_provider_id"),
            models.Index("tenant", Lower("last_name"), name="account_tenant_last_name_lower"),
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
    # An address added to an existing account cannot receive a forgot-password token before
    # this instant (the tenant's `new_email_recovery_hold_hours`): whoever added it with a
    # stolen session cannot turn it into a takeover at once (docs/security-model.md).
    recovery_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                "tenant", Lower("value"), name="account_email_unique_per_tenant"
            ),
        ]

    def __str__(self) -> str:
        return self.value


class AccountIdentity(models.Model):
    """A provider identity (facebook, google, saml...) linked to an account.

    One provider identity belongs to one account per tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="identities")
    provider = models.CharField(max_length=50)  # lower-case: "facebook"
    provider_id = models.CharField(max_length=255)
    profile = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "account identities"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "provider", "provider_id"],
                name="account_identity_unique_per_tenant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_id}"


class AccountIdentityEmail(models.Model):
    """An email a linked identity carries: "identities by email" finds accounts through it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    identity = models.ForeignKey(AccountIdentity, on_delete=models.CASCADE, related_name="emails")
    type = models.CharField(max_length=40, default="Primary")
    value = models.CharField(max_length=254)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index("tenant", Lower("value"), name="account_identity_email_lower"),
        ]

    def __str__(self) -> str:
        return self.value


class PrivacyPolicyAcceptance(models.Model):
    """One acceptance of a privacy-policy version; the newest is the account's current one."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="privacy_policy_acceptances"
    )
    version = models.CharField(max_length=100)
    accept_source = models.CharField(max_length=100, default="API")
    accepted_at = models.DateTimeField()

    class Meta:
        ordering = ["-accepted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.version} @ {self.accepted_at:%Y-%m-%d}"


class ConsentLog(models.Model):
    """One submission of consents (at create or update), as the consent-log endpoint shows it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="consent_logs")
    log_id = models.CharField(max_length=32, default=new_uid, unique=True)
    update_type = models.CharField(max_length=40)  # "Register" or "Update"
    form_versions = models.JSONField(default=list, blank=True)  # [{"Event","Version","IsCustom"}]
    consents = models.JSONField(default=list, blank=True)  # [{"ConsentId","Event"}]
    logged_at = models.DateTimeField()
    user_agent = models.CharField(max_length=400, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    host = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-logged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.update_type} @ {self.logged_at:%Y-%m-%d}"

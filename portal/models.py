"""Tenants, their API credentials, and the append-only audit log."""

import contextlib
import uuid

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from portal import crypto
from portal.fields import EncryptedTextField

# Settings a tenant can tune; sections read them through Tenant.setting().
TENANT_SETTING_DEFAULTS: dict[str, object] = {
    "access_token_lifetime_minutes": 60,
    "refresh_token_lifetime_days": 60,
    "refresh_token_family_max_days": 365,
    "refresh_reuse_grace_seconds": 5,
    "lockout_threshold": 5,
    "lockout_minutes": 15,
    "sms_otp_length": 6,
    "email_token_lifetime_minutes": 60 * 24,
    "sms_otp_lifetime_minutes": 10,
    "send_cooldown_seconds": 30,
    "daily_email_cap": 10_000,
    "daily_sms_cap": 1_000,
    "reauth_token_lifetime_seconds": 300,
    # Minutes an access token may make security changes after a reauthentication made with it.
    "elevation_minutes": 5,
    # Hours an email added to an existing account cannot be used for forgot-password.
    "new_email_recovery_hold_hours": 24,
    "request_signing": "preferred",  # or "strict": signed requests only
    # API rate limits per window (0 = no limit): the whole tenant, one credential, one IP.
    "rate_limit_window_seconds": 60,
    "rate_limit_per_tenant": 6000,
    "rate_limit_per_credential": 3000,
    "rate_limit_per_ip": 1200,
    # Calls with the public API key only (token side), counted apart from the above in the
    # same window: the whole tenant, one client IP.
    "rate_limit_key_only_per_tenant": 12000,
    "rate_limit_key_only_per_ip": 1200,  # as much as one IP had before key-only calls had their own bucket
    # Per account, per sensitive-operation window (portal.ratelimit.sensitive_operation_hit).
    "rate_limit_sensitive_window_seconds": 300,
    "rate_limit_signin": 20,
    "rate_limit_otp_verify": 10,
    "rate_limit_token_send": 10,
    "rate_limit_reauth": 10,
    # Passkey sign-in attempts per identifier (known or not) in the same window.
    "rate_limit_passkey_login": 10,
    # A profile update naming a key the profile does not know: ignored, as LoginRadius does
    # (False), or refused with 1134 (True).
    "profile_update_strict_keys": False,
    # Account password policy (accounts.password_policy), judged wherever a new password is
    # given in clear, never for an imported hash. Lengths as LoginRadius's defaults, 1-256.
    "password_min_length": 6,
    "password_max_length": 32,
    # Classes a password must contain: any of "lowercase", "uppercase", "digit", "special".
    "password_required_character_classes": [],
    # Refuse the ~20,000 passwords of Django's common-password list.
    "password_common_check": True,
}


def _new_api_key() -> str:
    return str(uuid.uuid4())


class Tenant(models.Model):
    """A LoginRadius "app": the unit every account, credential and audit row belongs to."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    api_key = models.CharField(max_length=36, unique=True, default=_new_api_key, editable=False)
    settings = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("view_accounts", "View accounts of this tenant"),
            ("manage_accounts", "Act on accounts of this tenant"),
            ("manage_security", "Reset factors and sessions of this tenant's accounts"),
            ("manage_roles", "Manage roles and role contexts of this tenant"),
            ("administer_tenant", "Administer this tenant: credentials, settings, staff access"),
        ]

    def __str__(self) -> str:
        return self.name

    # Token-side calls (access-token validation) authenticate by API key alone; caching the
    # key -> tenant lookup lets a cached token be answered without touching the database.
    CACHE_SECONDS = 300

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.forget_cached()

    def delete(self, *args, **kwargs):
        self.forget_cached()
        return super().delete(*args, **kwargs)

    @staticmethod
    def cache_key_for(api_key: str) -> str:
        """The cache entry of the tenant with `api_key` (`cached_by_api_key`)."""
        return f"tenant:api_key:{api_key}"

    @classmethod
    def cached_by_api_key(cls, api_key: str) -> "Tenant | None":
        key = cls.cache_key_for(api_key)
        tenant = None
        with contextlib.suppress(Exception):  # a cache outage must not stop authentication
            tenant = cache.get(key)
        if tenant is None:
            tenant = cls.objects.filter(api_key=api_key).first()
            if tenant is not None:
                with contextlib.suppress(Exception):
                    cache.set(key, tenant, cls.CACHE_SECONDS)
        return tenant

    def forget_cached(self) -> None:
        """Drop the cached copy now and again after commit, so a deactivated tenant or a
        changed setting is seen by every process on its next request."""
        key = self.cache_key_for(self.api_key)

        def drop() -> None:
            with contextlib.suppress(Exception):
                cache.delete(key)

        drop()
        transaction.on_commit(drop)

    def setting(self, name: str):
        if name not in TENANT_SETTING_DEFAULTS:
            raise KeyError(f"unknown tenant setting {name!r}")
        return self.settings.get(name, TENANT_SETTING_DEFAULTS[name])

    def clean(self) -> None:
        unknown = set(self.settings or {}) - set(TENANT_SETTING_DEFAULTS)
        if unknown:
            raise ValidationError({"settings": f"unknown settings: {', '.join(sorted(unknown))}"})
        signing_mode = (self.settings or {}).get("request_signing", "preferred")
        if signing_mode not in ("preferred", "strict"):
            raise ValidationError({"settings": "request_signing must be 'preferred' or 'strict'"})


class ApiCredentialQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiCredential(models.Model):
    """An API secret of a tenant. Several may be live at once so a secret can be rotated."""

    SECTIONS = (
        "accounts",
        "sessions",
        "security",
        "customobjects",
        "tokens",
        "roles",
        "native",
        "admin",
    )
    # Administration (credentials, tenant settings, webhooks, their events) is never implied
    # by an empty scope list: only a credential that names it holds it.
    EXPLICIT_SECTIONS = ("admin",)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="credentials")
    label = models.CharField(max_length=200, blank=True)
    # The raw secret is needed to verify signed requests, so it is encrypted, not hashed;
    # the keyed hash finds the credential of a plain-secret request in one indexed read.
    secret_encrypted = EncryptedTextField(editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    secret_hint = models.CharField(max_length=8, editable=False)
    # Empty list = every section; otherwise the sections (see SECTIONS) it may call.
    scopes = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = ApiCredentialQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.tenant.slug}: {self.label or 'secret'} …{self.secret_hint}"

    def set_secret(self, raw_secret: str) -> None:
        self.secret_encrypted = crypto.encrypt(raw_secret)
        self.secret_hash = crypto.token_hash(raw_secret)
        self.secret_hint = raw_secret[-4:]

    def raw_secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows(self, section: str) -> bool:
        if section in self.EXPLICIT_SECTIONS:
            return section in (self.scopes or ())
        return not self.scopes or section in self.scopes


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("audit events are append-only")

    def delete(self):
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    """One state change. Append-only: the ORM refuses, and on PostgreSQL a trigger refuses too.

    No foreign keys to accounts or users: the row must outlive what it describes.
    """

    ACTOR_STAFF = "staff"
    ACTOR_CREDENTIAL = "credential"
    ACTOR_ACCOUNT = "account"
    ACTOR_SYSTEM = "system"
    ACTOR_TYPES = [(t, t) for t in (ACTOR_STAFF, ACTOR_CREDENTIAL, ACTOR_ACCOUNT, ACTOR_SYSTEM)]

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", null=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=80, db_index=True)
    actor_type = models.CharField(max_length=16, choices=ACTOR_TYPES)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    subject_uid = models.CharField(max_length=64, blank=True, db_index=True)
    reason = models.TextField(blank=True)
    ticket = models.CharField(max_length=100, blank=True)
    diff = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    # The event whose subscriber made this change (portal/events.py), so a cascade such as
    # "password changed -> sessions revoked" reads as one story; no foreign key: append-only.
    caused_by = models.BigIntegerField(null=True, blank=True, db_index=True)
    # The version of the event's shape, for consumers that read old rows.
    schema_version = models.PositiveSmallIntegerField(default=1)
    # Written by a bulk import, one per account: history stays whole, webhooks pass it over.
    imported = models.BooleanField(default=False)
    # The call that made the change asked for no webhooks (LoginRadius's `prevent_webhook`).
    webhooks_suppressed = models.BooleanField(default=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "subject_uid", "-occurred_at"]),
            models.Index(fields=["tenant", "-occurred_at"]),
            # The event feed: a tenant's events in id order after a cursor.
            models.Index(fields=["tenant", "id"], name="portal_audit_tenant_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.action} {self.subject_uid}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("audit events are append-only")


# Models that live in their own modules; imported here so Django finds them.
from portal.idempotency import IdempotencyRecord  # noqa: E402, F401
from portal.staff_totp import StaffTotpDevice  # noqa: E402, F401

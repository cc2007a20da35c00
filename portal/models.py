"""Tenants, their API credentials, and the append-only audit log."""

import contextlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from portal import crypto, tenant_settings
from portal.fields import EncryptedTextField

# Settings a tenant can tune (name: default), made from the registry that also holds their
# types, bounds and labels (portal/tenant_settings.py); sections read them through
# Tenant.setting().
TENANT_SETTING_DEFAULTS: dict[str, object] = dict(tenant_settings.DEFAULTS)


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
            ("approve_requests", "Approve or deny staff requests on this tenant"),
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
    # Gated actions on the native API through this credential wait for a person's approval
    # (202 with the approval request) instead of running (docs/security-model.md).
    requires_approval = models.BooleanField(default=False)
    # Used by staff tools: its answers show personal data masked (portal/masking.py).
    masks_personal_data = models.BooleanField(default=False)
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
    # When the personal values of a deleted account's event were erased (portal/erasure.py);
    # the one change the append-only trigger lets through, and only under its maintenance mark.
    erased_at = models.DateTimeField(null=True, blank=True)

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


class ReasonPreset(models.Model):
    """A reason staff pick instead of typing it (a macro): per tenant, managed by its admins
    (portal/reason_presets.py). Picking one fills the reason, which stays editable; the
    audit row records the text, not the preset, so editing a preset never rewrites history."""

    LABEL_MAX_LENGTH = 80
    TEXT_MAX_LENGTH = 1000  # the reason field of every console action

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=LABEL_MAX_LENGTH)
    text = models.TextField(max_length=TEXT_MAX_LENGTH)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["label", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "label"], name="reason_preset_label_unique")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}:{self.label}"


class AccessGrant(models.Model):
    """Time-boxed access for one staff member to some accounts of a tenant, for a ticket
    (portal/access_grants.py): `view` lets them see those accounts, `act` also lets them do
    what an Agent may do on them, until `ends_at`. Outside a live grant only their standing
    role and permissions count. A break-glass grant is one they gave themselves."""

    VIEW, ACT = "view", "act"
    SCOPES = (VIEW, ACT)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="access_grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_grants"
    )
    uids = models.JSONField(default=list)
    scope = models.CharField(max_length=8, choices=[(s, s) for s in SCOPES])
    ticket = models.CharField(max_length=200)
    reason = models.CharField(max_length=500)
    starts_at = models.DateTimeField(auto_now_add=True)
    ends_at = models.DateTimeField()
    break_glass = models.BooleanField(default=False)
    granted_by_label = models.CharField(max_length=200)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_label = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "user", "ends_at"], name="access_grant_live"),
        ]

    def __str__(self) -> str:
        return f"grant {self.pk}: {self.scope} on {len(self.uids)} accounts until {self.ends_at}"

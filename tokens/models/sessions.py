"""Access and refresh tokens (the Account Session section).

A session is a token family: the chain of refresh tokens produced by rotation, with the
access tokens issued along it. The family carries what the active-sessions listing shows
(device, browser, OS, IP, location, login date), who opened it (the account itself, or a
staff member or API credential impersonating it, with their reason) and an absolute
lifetime no rotation can extend. Tokens are dashed GUIDs on the wire and only their keyed
hashes (`portal.crypto.token_hash`) are stored.
"""

from django.db import models
from django.utils import timezone

from accounts.models import Account
from portal.fields import EncryptedTextField
from portal.models import Tenant

__all__ = ["AccessToken", "RefreshToken", "TokenFamily"]


class TokenFamily(models.Model):
    REVOKED_BY_CLIENT = "revoked"
    REVOKED_REUSE = "reuse"
    REVOKED_INVALIDATED = "invalidated"
    REVOKED_ACCOUNT = "account"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="token_families")
    created = models.DateTimeField(default=timezone.now)
    # Absolute lifetime: no refresh reaches past it.
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, blank=True)
    # Who opened the session: the account itself, or someone impersonating it.
    is_impersonation = models.BooleanField(default=False)
    actor_type = models.CharField(max_length=20, blank=True)
    actor_id = models.CharField(max_length=100, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    # The API sections an impersonation session may reach: the scopes of the credential that
    # opened it (null: no narrowing). Every token of the family, refreshed or slid, keeps them.
    scopes = models.JSONField(null=True, blank=True)
    # What the active-sessions listing shows.
    login_date = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    browser = models.CharField(max_length=100, blank=True)
    os = models.CharField(max_length=100, blank=True)
    device = models.CharField(max_length=100, blank=True)
    device_type = models.CharField(max_length=40, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name_plural = "token families"
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["account", "revoked_at"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.account_id}"

    def is_live(self, now=None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())


class RefreshToken(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="refresh_tokens")
    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Rotation: when this token was exchanged and for which successor.
    rotated_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaces"
    )
    # The successor's raw tokens, encrypted, kept only during the reuse grace window so a
    # racing duplicate refresh gets the same answer; erased when the window closes.
    successor_encrypted = EncryptedTextField(blank=True)
    successor_erase_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["expires_at"]),
            models.Index(fields=["successor_erase_at"]),
        ]

    def __str__(self) -> str:
        return f"refresh token {self.pk} of session {self.family_id}"

    def is_live(self, now=None) -> bool:
        return (
            self.revoked_at is None
            and self.rotated_at is None
            and self.expires_at > (now or timezone.now())
        )


class AccessToken(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="access_tokens")
    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="access_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    # The first 8 characters, so the active-sessions listing can show a recognisable,
    # useless-to-an-attacker fragment.
    hint = models.CharField(max_length=8, blank=True)
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Whether this token may still be exchanged for a new pair (/api/v2/access_token/refresh):
    # an invalidation keeps it unless preventRefresh was asked; a newer token of the same
    # session, or a refresh using this token, takes it away.
    refresh_allowed = models.BooleanField(default=True)
    # Until when this token may make security changes: set by a token-side reauthentication
    # made with it (docs/security-model.md); bound to this token only, never inherited.
    elevated_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["account", "revoked_at", "expires_at"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"access token {self.hint}… of {self.account_id}"

    def is_live(self, now=None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())

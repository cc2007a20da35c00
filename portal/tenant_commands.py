"""The typed commands of the tenant and API credential services (portal/services.py): what a
front door (console form, management command) builds and hands to the service. The
command machinery itself is portal/commands.py."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from portal.commands import Command, command

# How long a rotated secret keeps working when nobody says otherwise (24 hours).
DEFAULT_OVERLAP_SECONDS = 24 * 3600


@command("tenant.create")
@dataclass(frozen=True)
class TenantCreate(Command):
    """A new tenant with its first API secret (portal.services.tenant_create); `slug`: None
    makes one from the name; `settings`: values that differ from the defaults."""

    name: str
    slug: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "TenantCreate":
        return cls(
            name="Acme Corp",
            slug="acme",
            settings={"lockout_threshold": 7},
            reason="new customer",
            ticket="OPS-30",
        )


@command("tenant.settings_change")
@dataclass(frozen=True)
class TenantSettingsChange(Command):
    """Change some of the tenant's settings (portal.services.tenant_update_settings): the
    settings named in `changes` take those values (None: the default), the others are kept;
    `expected_version`: the settings' version (ETag) the change was made against."""

    changes: dict[str, Any]
    reason: str = ""
    ticket: str = ""
    expected_version: str | None = None

    @classmethod
    def example(cls) -> "TenantSettingsChange":
        return cls(
            changes={"lockout_threshold": 7, "sms_otp_length": 8},
            reason="stricter lockout",
            ticket="OPS-31",
        )


@command("credential.create")
@dataclass(frozen=True)
class CredentialCreate(Command):
    """A new API secret for the tenant (portal.services.credential_create): `scopes` are
    sections of ApiCredential.SECTIONS (none: every section); `expires_at` None: no end;
    a time without an offset is UTC."""

    label: str = ""
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    # Its gated native calls wait for a person's approval (approvals.policy).
    requires_approval: bool = False
    # Used by staff tools: its answers show personal data masked (portal/masking.py).
    masks_personal_data: bool = False
    reason: str = ""
    ticket: str = ""

    def __post_init__(self) -> None:
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            object.__setattr__(self, "expires_at", self.expires_at.replace(tzinfo=UTC))

    @classmethod
    def example(cls) -> "CredentialCreate":
        return cls(
            label="backend",
            scopes=("accounts", "tokens"),
            expires_at=datetime(2027, 1, 1, tzinfo=UTC),
            reason="new integration",
            ticket="OPS-32",
        )


@command("credential.revoke")
@dataclass(frozen=True)
class CredentialRevoke(Command):
    """Revoke one API secret of the tenant now (portal.services.credential_revoke)."""

    credential_id: int
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "CredentialRevoke":
        return cls(credential_id=12, reason="leaked in a log", ticket="SEC-3")


@command("credential.rotate")
@dataclass(frozen=True)
class CredentialRotate(Command):
    """Replace one API secret of the tenant by a new one with the same label, sections and
    end of life (portal.services.credential_rotate); the old one keeps working for
    `overlap_seconds` (0: revoked now)."""

    credential_id: int
    reason: str
    ticket: str = ""
    overlap_seconds: int = DEFAULT_OVERLAP_SECONDS

    @classmethod
    def example(cls) -> "CredentialRotate":
        return cls(
            credential_id=12, reason="yearly rotation", ticket="OPS-33", overlap_seconds=7200
        )


@command("access_grant.create")
@dataclass(frozen=True)
class AccessGrantCreate(Command):
    """Let staff member `user_id` see (`view`) or act on (`act`) the accounts `uids` until
    `ends_at`, for `ticket` (portal.access_grants.access_grant_create)."""

    user_id: int
    uids: tuple[str, ...]
    scope: str
    ends_at: datetime
    ticket: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        if self.ends_at.tzinfo is None:
            object.__setattr__(self, "ends_at", self.ends_at.replace(tzinfo=UTC))

    @classmethod
    def example(cls) -> "AccessGrantCreate":
        return cls(
            user_id=4,
            uids=("6b5f0c1d2e3a4b5c",),
            scope="act",
            ends_at=datetime(2026, 12, 7, 14, 0, tzinfo=UTC),
            ticket="SUP-88",
            reason="customer on the phone about a locked account",
        )


@command("access_grant.break_glass")
@dataclass(frozen=True)
class BreakGlassGrant(Command):
    """A short grant staff give themselves in an emergency, with a mandatory reason, when the
    tenant allows it (portal.access_grants.break_glass_grant); the admins are told."""

    uids: tuple[str, ...]
    scope: str
    minutes: int
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "BreakGlassGrant":
        return cls(
            uids=("6b5f0c1d2e3a4b5c",),
            scope="act",
            minutes=30,
            reason="account takeover in progress, lead unreachable",
            ticket="INC-7",
        )


@command("access_grant.revoke")
@dataclass(frozen=True)
class AccessGrantRevoke(Command):
    """End a grant before its time (portal.access_grants.access_grant_revoke)."""

    grant_id: int
    reason: str = ""

    @classmethod
    def example(cls) -> "AccessGrantRevoke":
        return cls(grant_id=12, reason="ticket closed")

"""The typed commands of the security services (portal/commands.py): what a front door
builds from its own input and hands to the service."""

from dataclasses import dataclass
from datetime import UTC, datetime

from portal.commands import Command, command


@command("account.secure")
@dataclass(frozen=True)
class AccountSecure(Command):
    """Take a compromised account back (security.services.account_secure): every measure is
    on unless turned off. `devices_added_since` limits the passkey and push removals to the
    devices added since then; a time without an offset is UTC."""

    reason: str
    ticket: str = ""
    revoke_sessions: bool = True
    remove_passkeys: bool = True
    remove_push_devices: bool = True
    reset_second_factors: bool = True
    require_password_change: bool = True
    devices_added_since: datetime | None = None

    def __post_init__(self) -> None:
        since = self.devices_added_since
        if since is not None and since.tzinfo is None:
            object.__setattr__(self, "devices_added_since", since.replace(tzinfo=UTC))

    @classmethod
    def example(cls) -> "AccountSecure":
        return cls(
            reason="customer reports a takeover",
            ticket="SUP-42",
            remove_push_devices=False,
            devices_added_since=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        )


@command("mfa_factor.reset")
@dataclass(frozen=True)
class FactorReset(Command):
    """Remove one second factor of an account (security.services.mfa_factor_reset); `factor`
    is one of security.services.FACTORS."""

    factor: str
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "FactorReset":
        return cls(factor="totp", reason="lost phone", ticket="SUP-7")

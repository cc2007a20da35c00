"""The typed commands of the tokens services (portal/commands.py): what a front door builds
from its own input and hands to the service. Tokens a command carries are secret fields,
encrypted whenever the command is stored."""

from dataclasses import dataclass, field
from typing import Any

from portal.commands import Command, command, secret


@command("session.revoke")
@dataclass(frozen=True)
class RefreshTokenRevoke(Command):
    """End the session of a live refresh token (tokens.services.sessions.session_revoke)."""

    refresh_token: str | None = secret(default=None)
    reason: str = ""

    @classmethod
    def example(cls) -> "RefreshTokenRevoke":
        return cls(refresh_token="rt-2f1c0a9e", reason="signed out")


@command("session.revoke_by_id")
@dataclass(frozen=True)
class AccountSessionRevoke(Command):
    """End one session of the account by its id, as the active-sessions listing shows it
    (tokens.services.sessions.account_session_revoke)."""

    session_id: int | str
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "AccountSessionRevoke":
        return cls(session_id=42, reason="unknown device", ticket="SUP-8")


@command("session.revoke_all")
@dataclass(frozen=True)
class AccountSessionsRevoke(Command):
    """End every session of the account (tokens.services.sessions.account_sessions_revoke)."""

    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "AccountSessionsRevoke":
        return cls(reason="lost laptop", ticket="SUP-9")


@command("access_token.invalidate")
@dataclass(frozen=True)
class AccessTokenInvalidate(Command):
    """Invalidate one access token everywhere; with `prevent_refresh` its session cannot be
    refreshed either (tokens.services.sessions.access_token_invalidate)."""

    access_token: str | None = secret(default=None)
    prevent_refresh: bool = False

    @classmethod
    def example(cls) -> "AccessTokenInvalidate":
        return cls(access_token="at-7d3e55b1", prevent_refresh=True)


@command("multipurpose_token.issue")
@dataclass(frozen=True)
class TokenIssue(Command):
    """Issue a multipurpose email token or SMS OTP and, with `send`, queue the message that
    carries it (tokens.services.multipurpose.token_issue). `lifetime_seconds` left out: the
    tenant's lifetime for the kind."""

    kind: str
    purpose: str
    destination: str
    lifetime_seconds: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    send: bool = False
    template: str = ""
    link_base: str = ""
    voice: bool = False
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "TokenIssue":
        return cls(
            kind="email",
            purpose="forgotpassword",
            destination="ann@example.com",
            lifetime_seconds=900,
            data={"welcome": True},
            send=True,
            template="reset-v2",
            link_base="https://app.example.com",
            reason="customer asked by phone",
            ticket="SUP-10",
        )

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


@command("message.resend")
@dataclass(frozen=True)
class MessageResend(Command):
    """Queue an outbox message again that was sent or failed
    (tokens.services.multipurpose.message_resend)."""

    message_id: int
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "MessageResend":
        return cls(message_id=77, reason="customer never got it", ticket="SUP-12")


@command("session.issue")
@dataclass(frozen=True)
class SessionIssue(Command):
    """Open a session for an account (tokens.services.sessions.session_issue): a sign-in when
    the actor is the account itself, otherwise an impersonation recorded with its actor and
    reason. `device`: ip, user_agent, city, country (and optionally browser, os, device,
    device_type), defaulting to the current request. `access_lifetime_seconds` may shorten
    the access token's lifetime, never lengthen it; without `refresh` no refresh token is
    issued. `scopes` narrows an impersonation to those API sections (None: no narrowing)."""

    reason: str = ""
    ticket: str = ""
    device: dict[str, Any] | None = None
    access_lifetime_seconds: int | None = None
    refresh: bool = True
    scopes: tuple[str, ...] | None = None

    @classmethod
    def example(cls) -> "SessionIssue":
        return cls(
            reason="reproduce a checkout bug",
            ticket="SUP-14",
            device={"ip": "203.0.113.7", "user_agent": "Mozilla/5.0", "country": "FR"},
            access_lifetime_seconds=900,
            refresh=False,
            scopes=("accounts", "sessions"),
        )


@command("email_verification.send")
@dataclass(frozen=True)
class VerificationEmailSend(Command):
    """Queue an email-verification message for `email` of the account
    (tokens.services.multipurpose.verification_email_send). `verification_url` is the base
    of the link the message carries; `template` left empty: the tenant's default."""

    email: str
    template: str = ""
    verification_url: str = ""
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "VerificationEmailSend":
        return cls(
            email="ann@example.com",
            template="verify-v2",
            verification_url="https://app.example.com",
            reason="customer never got the first one",
            ticket="SUP-15",
        )


@command("phone_verification.send")
@dataclass(frozen=True)
class PhoneVerificationSend(Command):
    """Queue a phone-verification OTP to the account's phone id
    (tokens.services.multipurpose.phone_verification_send); with `voice`, as a call."""

    template: str = ""
    voice: bool = False
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "PhoneVerificationSend":
        return cls(template="otp-v2", voice=True, reason="new phone", ticket="SUP-16")

"""Access and refresh tokens: issue, refresh with rotation, revoke, invalidate."""

from dataclasses import dataclass
from datetime import datetime

from portal.audit import Actor


@dataclass(frozen=True)
class IssuedSession:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime


def session_issue(*, tenant, account, actor: Actor, reason: str = "", device: dict | None = None) -> IssuedSession:
    """Issue an access/refresh pair for `account` (sign-in, impersonation)."""
    raise NotImplementedError("sessions are not implemented yet")


def account_sessions_revoke(*, tenant, account, actor: Actor, reason: str = "") -> int:
    """Revoke every access and refresh token of `account`; returns how many were live.
    Called by password change, block, delete and MFA reset."""
    return 0

"""Access and refresh tokens (the Account Session section): issue, refresh with rotation,
revoke, invalidate, purge.

A session is a `TokenFamily`. The writes live in one module per stage of its life:
`issuing` (open a session, elevate a token), `refreshing` (rotation, the legacy refresh,
sliding) and `revocation` (revoke, invalidate, purge). Callers import from here.
"""

from tokens.services.sessions.issuing import (
    IssuedSession,
    access_token_elevate,
    parse_user_agent,
    session_issue,
)
from tokens.services.sessions.lifetimes import MAX_REFRESH_LIFETIME_DAYS
from tokens.services.sessions.refreshing import (
    access_token_slide,
    session_refresh,
    session_refresh_by_access_token,
)
from tokens.services.sessions.revocation import (
    access_token_invalidate,
    account_session_revoke,
    account_sessions_revoke,
    accounts_sessions_revoke,
    session_revoke,
    sessions_purge,
)

__all__ = [
    "MAX_REFRESH_LIFETIME_DAYS",
    "IssuedSession",
    "access_token_elevate",
    "access_token_invalidate",
    "access_token_slide",
    "account_session_revoke",
    "account_sessions_revoke",
    "accounts_sessions_revoke",
    "parse_user_agent",
    "session_issue",
    "session_refresh",
    "session_refresh_by_access_token",
    "session_revoke",
    "sessions_purge",
]

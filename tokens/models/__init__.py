"""Models of the tokens app: sessions (access/refresh tokens) and multipurpose tokens with
their outbox. Each half lives in its own module; this package re-exports them for Django."""

from tokens.models.multipurpose import (
    DailySendCount,
    MultipurposeToken,
    OutboxMessage,
    SendCooldown,
)
from tokens.models.sessions import AccessToken, RefreshToken, TokenFamily

__all__ = [
    "AccessToken",
    "DailySendCount",
    "MultipurposeToken",
    "OutboxMessage",
    "RefreshToken",
    "SendCooldown",
    "TokenFamily",
]

"""Finding the token a caller presents, with the named error when it is not usable;
shared by elevation, rotation and revocation."""

from portal import crypto, events
from tokens.errors import (
    AccessTokenExpired,
    AccessTokenInvalid,
    AccessTokenMissing,
    RefreshTokenInvalid,
    RefreshTokenMissing,
)
from tokens.models import AccessToken
from tokens.selectors import normalise_token


@events.reads
def refresh_token_hash(*, refresh_token: str | None) -> str:
    """The keyed hash of a presented refresh token, or RefreshTokenMissing / RefreshTokenInvalid
    (malformed)."""
    if not refresh_token or not str(refresh_token).strip():
        raise RefreshTokenMissing()
    canonical = normalise_token(refresh_token)
    if canonical is None:
        raise RefreshTokenInvalid()
    return crypto.token_hash(canonical)


@events.reads
def live_access_token_lock(*, tenant, access_token: str | None, now) -> AccessToken:
    """The access token `access_token` of `tenant`, locked for update (call inside a
    transaction), or AccessTokenMissing / AccessTokenInvalid (malformed, unknown, revoked) /
    AccessTokenExpired."""
    if not access_token or not str(access_token).strip():
        raise AccessTokenMissing()
    canonical = normalise_token(access_token)
    if canonical is None:
        raise AccessTokenInvalid()
    token = (
        AccessToken.objects.select_for_update()
        .filter(token_hash=crypto.token_hash(canonical), tenant=tenant)
        .first()
    )
    if token is None or token.revoked_at is not None:
        raise AccessTokenInvalid()
    if token.expires_at <= now:
        raise AccessTokenExpired()
    return token

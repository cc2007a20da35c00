"""Finding the token a caller presents, with the error LoginRadius gives when it is not
usable; shared by elevation, rotation and revocation."""

from portal import crypto
from portal.lrapi.errors import LRError
from tokens.models import AccessToken
from tokens.selectors import normalise_token


def refresh_token_hash(*, refresh_token: str | None) -> str:
    """The keyed hash of a presented refresh token, or 1337 (missing) / 1217 (malformed)."""
    if not refresh_token or not str(refresh_token).strip():
        raise LRError(1337)
    canonical = normalise_token(refresh_token)
    if canonical is None:
        raise LRError(1217)
    return crypto.token_hash(canonical)


def live_access_token_lock(*, tenant, access_token: str | None, now) -> AccessToken:
    """The access token `access_token` of `tenant`, locked for update (call inside a
    transaction), or 1060 (missing) / 905 (malformed, unknown, revoked) / 906 (expired)."""
    if not access_token or not str(access_token).strip():
        raise LRError(1060)
    canonical = normalise_token(access_token)
    if canonical is None:
        raise LRError(905)
    token = (
        AccessToken.objects.select_for_update()
        .filter(token_hash=crypto.token_hash(canonical), tenant=tenant)
        .first()
    )
    if token is None or token.revoked_at is not None:
        raise LRError(905)
    if token.expires_at <= now:
        raise LRError(906)
    return token

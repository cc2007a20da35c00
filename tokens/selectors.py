"""Reads of the tokens app."""

from portal.lrapi.errors import LRError


def access_token_resolve(*, tenant, token: str | None):
    """The live access token `token` of `tenant` (an object with `.account`), or
    LoginRadius 1060 (missing) / 905 (unknown, revoked, other tenant) / 906 (expired)."""
    if not token:
        raise LRError(1060)
    raise LRError(905)

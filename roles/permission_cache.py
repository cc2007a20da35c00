"""Cache of effective permissions, invalidated by version keys.

Every cached answer is stored under a key that embeds two version tokens: one per tenant
(bumped when a role's permissions change or a role is deleted, which can affect every
account) and one per account (bumped when its assignments or contexts change). A change
bumps the token **after its transaction commits** (`transaction.on_commit`). Bumping
inside the transaction would be wrong under concurrency: a reader in another process could
see the new token, miss, read the database before the commit (the old rows) and cache the
old answer under the new token, where it would stay until it expired. Bumping after commit
means any answer cached under the old token is simply never read again, and an answer
computed before the commit can only have been stored under the old token.

Tokens are random rather than counters, so a token that was evicted is recreated with a
value no older answer can carry. The cache is shared across processes when Redis is
configured (the default cache), so a change made by one process is seen by every other on
its next request.
"""

import hashlib
import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

# Answers live at most this long even if nothing bumps them (a lost post-commit bump,
# e.g. a process killed between commit and bump, heals by itself).
DEFAULT_TTL_SECONDS = 300
VERSION_TTL_SECONDS = 7 * 24 * 3600


def ttl_seconds() -> int:
    return int(getattr(settings, "ROLES_PERMISSION_CACHE_SECONDS", DEFAULT_TTL_SECONDS))


def _tenant_version_key(tenant_id: int) -> str:
    return f"roles:v:t:{tenant_id}"


def _account_version_key(account_id: int) -> str:
    return f"roles:v:a:{account_id}"


def _new_token() -> str:
    return uuid.uuid4().hex[:16]


def _versions(tenant_id: int, account_id: int) -> tuple[str, str]:
    keys = [_tenant_version_key(tenant_id), _account_version_key(account_id)]
    found = cache.get_many(keys)
    tokens = []
    for key in keys:
        token = found.get(key)
        if token is None:
            # First use (or evicted): whoever adds first wins; everyone then reads that one.
            cache.add(key, _new_token(), VERSION_TTL_SECONDS)
            token = cache.get(key) or _new_token()
        tokens.append(token)
    return tokens[0], tokens[1]


def answer_key(*, tenant_id: int, account_id: int, context: str | None) -> str | None:
    """The key of the current answer, or `None` when the cache cannot be reached (the
    caller then answers from the database)."""
    try:
        tenant_token, account_token = _versions(tenant_id, account_id)
    except Exception:
        logger.warning("permission cache unavailable; answering from the database", exc_info=True)
        return None
    scope = "-" if context is None else hashlib.sha256(context.encode()).hexdigest()[:24]
    return f"roles:perm:{tenant_id}:{account_id}:{tenant_token}:{account_token}:{scope}"


def get(key: str | None):
    if key is None:
        return None
    try:
        return cache.get(key)
    except Exception:
        logger.warning("permission cache unavailable", exc_info=True)
        return None


def put(key: str | None, value, timeout: float) -> None:
    """Store an answer; the cache's own expiry is rounded up to a whole second, which is
    why readers also check the answer's `valid_until`."""
    if key is None or timeout <= 0:
        return
    try:
        cache.set(key, value, max(1, int(timeout + 0.999)))
    except Exception:
        logger.warning("permission cache unavailable", exc_info=True)


def _bump(keys: list[str]) -> None:
    cache.set_many({key: _new_token() for key in keys}, VERSION_TTL_SECONDS)


def invalidate_tenant_on_commit(tenant_id: int) -> None:
    """Every account of the tenant: after the current transaction commits."""
    # robust: the change is committed whatever the cache does; an answer missed here
    # expires within ttl_seconds().
    transaction.on_commit(lambda: _bump([_tenant_version_key(tenant_id)]), robust=True)


def invalidate_accounts_on_commit(account_ids: Iterable[int]) -> None:
    keys = [_account_version_key(pk) for pk in sorted(set(account_ids))]
    if keys:
        transaction.on_commit(lambda: _bump(keys), robust=True)

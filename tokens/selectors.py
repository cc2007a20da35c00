"""Reads of the tokens app.

Access-token validation is the hottest read of the whole API, so a live token is answered
from the cache (Redis when configured) without touching the database. The cache entry is
keyed by the token's keyed hash and holds the tenant, the account and the expiry.
Revocation overwrites entries with a tombstone in the same operation (see
`access_tokens_forget`), and a cache miss fills the cache only with `cache.add`, so a
reader racing a revocation can never put a revoked token back.

The database is the source of truth. Every cache call is best-effort: while the cache is
unreachable tokens are resolved from the database and revocations still commit, but their
tombstones cannot be written. So that a "live" entry cached before such an outage cannot
outlast a revocation made during it for long, an entry is kept at most
`ACCESS_TOKEN_CACHE_SECONDS` (default 300) and the next validation after that reads the
database again: a revocation the cache missed takes effect within that bound.
"""

import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from portal.crypto import token_hash
from portal.errors import AccountNotFound
from tokens.errors import AccessTokenExpired, AccessTokenInvalid, AccessTokenMissing

CACHE_PREFIX = "tokens:access:"
REVOKED = "revoked"
# Tombstones outlive the token they bury by this margin (clock skew between hosts).
TOMBSTONE_MARGIN_SECONDS = 300

logger = logging.getLogger("tokens.cache")


def cache_entry_seconds() -> int:
    """How long a live entry may answer without the database (see the module docstring)."""
    return max(1, int(getattr(settings, "ACCESS_TOKEN_CACHE_SECONDS", 300)))


def normalise_token(value: str | None) -> str | None:
    """The canonical (lower-case, dashed) form of a GUID token, or None if malformed."""
    try:
        return str(uuid.UUID((value or "").strip()))
    except (ValueError, AttributeError):
        return None


def access_cache_key(token_hash_value: str) -> str:
    return CACHE_PREFIX + token_hash_value


def access_token_cache(
    *,
    token_hash_value: str,
    tenant_id: int,
    account_id: int,
    uid: str,
    expires_at: datetime,
    grant: tuple | None = None,
    add_only: bool = False,
) -> None:
    """Remember a live access token until it expires, for at most `cache_entry_seconds()`.
    `grant` is the session's `session_grant` (None: the account's own sign-in).
    Best-effort: without a cache the token is resolved from the database."""
    timeout = min(int((expires_at - timezone.now()).total_seconds()), cache_entry_seconds())
    if timeout <= 0:
        return
    value = (tenant_id, account_id, uid, expires_at.timestamp(), grant)
    with contextlib.suppress(Exception):
        if add_only:
            cache.add(access_cache_key(token_hash_value), value, timeout=timeout)
        else:
            cache.set(access_cache_key(token_hash_value), value, timeout=timeout)


def session_grant(
    *, is_impersonation: bool, actor_type: str, actor_id: str, actor_label: str, scopes: list | None
) -> tuple | None:
    """What a session's tokens carry beyond the account: for impersonation, who opened it
    and the sections it may reach; None for the account's own sign-in."""
    if not is_impersonation:
        return None
    return (actor_type, actor_id, actor_label, tuple(scopes) if scopes else None)


def access_tokens_forget(rows: list[tuple[str, datetime]]) -> None:
    """Tombstone the cache entries of these (token_hash, expires_at) so every process
    refuses them at once."""
    if not rows:
        return
    now = timezone.now()
    longest = max(int((expires - now).total_seconds()) for _, expires in rows)
    try:
        cache.set_many(
            {access_cache_key(h): REVOKED for h, _ in rows},
            timeout=max(longest, 0) + TOMBSTONE_MARGIN_SECONDS,
        )
    except Exception as exc:  # the revocation is committed in the database all the same
        logger.warning(
            "access token tombstones not written: cache unavailable (%s); cached entries expire "
            "within %ss",
            type(exc).__name__,
            cache_entry_seconds(),
        )


@dataclass
class ResolvedAccessToken:
    """A live access token. `account` is loaded on first use, so a validation answered
    from the cache costs no query. `grant` says what kind of token it is (see
    `session_grant`): the security model (portal/security_model.py) reads it."""

    token: str
    token_hash: str
    tenant_id: int
    account_id: int
    uid: str
    expires_at: datetime
    grant: tuple | None = None
    account: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.account = SimpleLazyObject(self._load_account)

    @property
    def is_impersonation(self) -> bool:
        return self.grant is not None

    @property
    def impersonator(self) -> tuple[str, str, str] | None:
        """(actor type, id, label) of whoever opened an impersonation session."""
        return None if self.grant is None else self.grant[:3]

    @property
    def scopes(self) -> tuple | None:
        """The API sections the token may reach; None: every section."""
        return None if self.grant is None else self.grant[3]

    def _load_account(self):
        from accounts.models import Account

        account = Account.objects.filter(pk=self.account_id, tenant_id=self.tenant_id).first()
        if account is None:
            raise AccessTokenInvalid()
        return account


def access_token_cache_entry(*, token: str) -> str | None:
    """The cache entry holding what `access_token_resolve` needs of `token` (None:
    malformed), so a caller can read it in a round trip it makes anyway."""
    canonical = normalise_token(token)
    return None if canonical is None else access_cache_key(token_hash(canonical))


def access_token_resolve(
    *, tenant, token: str | None, prefetched: dict[str, Any] | None = None
) -> ResolvedAccessToken:
    """The live access token `token` of `tenant` (an object with `.account`), or
    AccessTokenMissing / AccessTokenInvalid (unknown, revoked, other tenant, malformed) /
    AccessTokenExpired. `prefetched`: cache entries already read, by key
    (`access_token_cache_entry`)."""
    if not token or not str(token).strip():
        raise AccessTokenMissing()
    canonical = normalise_token(token)
    if canonical is None:
        raise AccessTokenInvalid()
    hashed = token_hash(canonical)
    entry = access_cache_key(hashed)
    cached = None
    if prefetched and entry in prefetched:
        cached = prefetched[entry]
    else:
        with contextlib.suppress(Exception):  # a cache outage falls back to the database
            cached = cache.get(entry)
    if cached == REVOKED:
        raise AccessTokenInvalid()
    if not isinstance(cached, tuple) or len(cached) != 5:  # a miss, or an entry of an older shape
        cached = _access_token_load(hashed)
    tenant_id, account_id, uid, expires_ts, grant = cached
    if tenant_id != tenant.pk:
        raise AccessTokenInvalid()
    expires_at = datetime.fromtimestamp(expires_ts, tz=UTC)
    if expires_at <= timezone.now():
        raise AccessTokenExpired()
    return ResolvedAccessToken(
        token=canonical,
        token_hash=hashed,
        tenant_id=tenant_id,
        account_id=account_id,
        uid=uid,
        expires_at=expires_at,
        grant=grant,
    )


def _access_token_load(hashed: str) -> tuple:
    from tokens.models import AccessToken

    row = (
        AccessToken.objects.filter(token_hash=hashed)
        .values_list(
            "tenant_id",
            "account_id",
            "account__uid",
            "expires_at",
            "revoked_at",
            "family__is_impersonation",
            "family__actor_type",
            "family__actor_id",
            "family__actor_label",
            "family__scopes",
        )
        .first()
    )
    if row is None or row[4] is not None:
        raise AccessTokenInvalid()
    (
        tenant_id,
        account_id,
        uid,
        expires_at,
        _,
        is_impersonation,
        actor_type,
        actor_id,
        actor_label,
        scopes,
    ) = row
    grant = session_grant(
        is_impersonation=is_impersonation,
        actor_type=actor_type,
        actor_id=actor_id,
        actor_label=actor_label,
        scopes=scopes,
    )
    access_token_cache(
        token_hash_value=hashed,
        tenant_id=tenant_id,
        account_id=account_id,
        uid=uid,
        expires_at=expires_at,
        grant=grant,
        add_only=True,
    )
    return (tenant_id, account_id, uid, expires_at.timestamp(), grant)


def access_token_elevated_until(*, resolved: ResolvedAccessToken) -> datetime | None:
    """Until when `resolved` may make security changes (None: not elevated). Read from the
    database: elevation is rare, short-lived and must end everywhere when it is withdrawn."""
    from tokens.models import AccessToken

    return (
        AccessToken.objects.filter(token_hash=resolved.token_hash, revoked_at__isnull=True)
        .values_list("elevated_until", flat=True)
        .first()
    )


def active_sessions_list(*, tenant, account, cursor: int = 0, limit: int = 50):
    """The account's live access tokens with their session's device facts, newest first;
    `cursor` is the id the previous page ended after. Returns (rows, next_cursor or 0)."""
    from tokens.models import AccessToken

    now = timezone.now()
    qs = (
        AccessToken.objects.filter(
            tenant=tenant,
            account=account,
            revoked_at__isnull=True,
            expires_at__gt=now,
            family__revoked_at__isnull=True,
        )
        .select_related("family")
        .order_by("-id")
    )
    if cursor:
        qs = qs.filter(id__lt=cursor)
    rows = list(qs[: limit + 1])
    next_cursor = rows[limit - 1].pk if len(rows) > limit else 0
    return rows[:limit], next_cursor


def live_sessions_count(*, tenant, account) -> int:
    """How many sessions (token families) of `account` are not revoked."""
    from tokens.models import TokenFamily

    return TokenFamily.objects.filter(
        tenant=tenant, account=account, revoked_at__isnull=True
    ).count()


def account_by_profile_id(*, tenant, profile_id: str | None):
    """The account whose profile `ID` is `profile_id` in this tenant, or AccountNotFound."""
    from accounts.models import Account

    account = Account.objects.filter(tenant=tenant, provider_id=(profile_id or "").strip()).first()
    if account is None:
        raise AccountNotFound()
    return account


def account_sessions_list(*, tenant, account, after: int = 0, limit: int = 50):
    """The account's live sessions (token families) in id order after `after`, each
    annotated with `last_used_at`: when its newest access token was issued (a sign-in, a
    refresh or a slide). Returns (rows, more)."""
    from django.db.models import Max

    from tokens.models import TokenFamily

    rows = list(
        TokenFamily.objects.filter(
            tenant=tenant,
            account=account,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            id__gt=after,
        )
        .annotate(last_used_at=Max("access_tokens__created"))
        .order_by("id")[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def account_sessions_count(*, tenant, account) -> int:
    """How many live sessions (token families) of `account` there are."""
    from tokens.models import TokenFamily

    return TokenFamily.objects.filter(
        tenant=tenant, account=account, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).count()

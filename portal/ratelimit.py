"""Request rate limits: per tenant, per credential, per client IP, and per account for
sensitive operations.

Each limit is a counter in a window anchored at its first hit: the window ends
`window_seconds` after the first counted request and the next request starts a new one.
With a Redis cache (REDIS_URL) one Lua script increments the counters, sets their expiry
and reads the remaining time atomically, so every worker process shares one count and
all the limits of a request cost one round trip.
Otherwise the Django cache's `add`/`incr` (atomic under its lock in one process) count.

When the cache cannot be reached the limits fail open: requests are still served, a
warning is logged, and the cache is not tried again for a few seconds so that an outage
does not slow every request down.
"""

import hashlib
import logging
import math
import threading
import time
import weakref
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from portal.lrapi.errors import LRError

logger = logging.getLogger("portal.ratelimit")

# Operations that services and views limit per account (tenant settings hold the limits).
SENSITIVE_OPERATIONS = ("signin", "otp_verify", "token_send", "reauth")
# Authentication failures that count towards the per-IP failure limit: wrong or malformed
# secret, bad signature, unknown key.
AUTH_FAILURE_CODES = frozenset({901, 902, 921, 1208})

# Counts one request in every window of KEYS (all of length ARGV[1] ms) and answers
# {count, remaining ms} per key: one round trip however many limits apply.
_LUA_HIT = """
local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  out[2 * i - 1] = count
  out[2 * i] = ttl
end
return out
"""

_breaker_lock = threading.Lock()
_cache_down_until = 0.0
# The counting script registered on each cache backend's Redis client (EVALSHA, loaded once).
_redis_scripts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Hit:
    count: int
    retry_after: int  # whole seconds until the window ends (at least 1)


def _enabled() -> bool:
    return getattr(settings, "RATE_LIMITS_ENABLED", True)


def _cache_key(tenant, scope: str, key: str) -> str:
    digest = hashlib.sha256(str(key).encode()).hexdigest()[:32]
    tenant_part = getattr(tenant, "pk", tenant) if tenant is not None else "-"
    return f"rl:{tenant_part}:{scope}:{digest}"


def _redis_script():
    """The counting script bound to the cache's Redis client, when the default cache is
    a Redis cache; None otherwise."""
    backend = getattr(cache, "_cache", None)
    if backend is None or not hasattr(backend, "get_client"):
        return None
    script = _redis_scripts.get(backend)
    if script is None:
        # Writes always go to the first server, so one client serves every key.
        script = backend.get_client("rl", write=True).register_script(_LUA_HIT)
        _redis_scripts[backend] = script
    return script


def _hit_redis(script, full_keys: list[str], window_seconds: int) -> list[Hit]:
    flat = script(keys=full_keys, args=[int(window_seconds * 1000)])
    return [
        Hit(count=int(flat[i]), retry_after=max(1, math.ceil(int(flat[i + 1]) / 1000)))
        for i in range(0, len(flat), 2)
    ]


def _hit_cache(raw_key: str, window_seconds: int) -> Hit:
    now = time.time()
    started_key = raw_key + ":t"
    for _ in range(3):
        cache.add(started_key, now, timeout=window_seconds)
        cache.add(raw_key, 0, timeout=window_seconds)
        try:
            count = cache.incr(raw_key)
        except ValueError:  # the window expired between add and incr
            continue
        started = cache.get(started_key) or now
        return Hit(count=count, retry_after=max(1, math.ceil(started + window_seconds - now)))
    return Hit(count=1, retry_after=window_seconds)


def _record_cache_failure(exc: Exception) -> None:
    global _cache_down_until
    with _breaker_lock:
        _cache_down_until = time.monotonic() + getattr(settings, "RATE_LIMIT_CACHE_RETRY_SECONDS", 5)
    logger.warning("rate limits not enforced: cache unavailable (%s)", type(exc).__name__)


def hit_many(*, tenant, counters: list[tuple[str, str]], window_seconds: int) -> list[Hit] | None:
    """Count one request against each (scope, key) of `tenant`, all in windows of
    `window_seconds`; None when the cache is unavailable."""
    if not counters or time.monotonic() < _cache_down_until:
        return None
    raw_keys = [_cache_key(tenant, scope, key) for scope, key in counters]
    try:
        script = _redis_script()
        if script is not None:
            return _hit_redis(script, [cache.make_and_validate_key(k) for k in raw_keys], window_seconds)
        return [_hit_cache(k, window_seconds) for k in raw_keys]
    except Exception as exc:  # fail open: an unreachable cache must not stop the API
        _record_cache_failure(exc)
        return None


def hit(*, tenant, scope: str, key: str, window_seconds: int) -> Hit | None:
    """Count one request against (tenant, scope, key); None when the cache is unavailable."""
    hits = hit_many(tenant=tenant, counters=[(scope, key)], window_seconds=window_seconds)
    return hits[0] if hits else None


def too_many(retry_after: int) -> LRError:
    return LRError(429, headers={"Retry-After": str(int(retry_after))})


def rate_limit_hit(*, tenant, scope: str, key, limit: int, window_seconds: int) -> None:
    """Count one attempt and raise LRError 429 (with Retry-After) once `limit` attempts
    were made within `window_seconds`. A limit of 0 or less disables the check."""
    if not _enabled() or limit is None or int(limit) <= 0 or key in (None, ""):
        return
    result = hit(tenant=tenant, scope=scope, key=str(key), window_seconds=max(1, int(window_seconds)))
    if result is not None and result.count > int(limit):
        raise too_many(result.retry_after)


def sensitive_operation_hit(*, tenant, operation: str, key) -> None:
    """Per-account limit of a sensitive operation (sign-in, OTP verify, token send,
    reauthentication), configured by the tenant settings `rate_limit_<operation>` and
    `rate_limit_sensitive_window_seconds`. `key` names the account (uid, email or phone)."""
    if operation not in SENSITIVE_OPERATIONS:
        raise ValueError(f"unknown sensitive operation {operation!r}")
    rate_limit_hit(
        tenant=tenant,
        scope=f"op:{operation}",
        key=str(key).strip().lower(),
        limit=int(tenant.setting(f"rate_limit_{operation}")),
        window_seconds=int(tenant.setting("rate_limit_sensitive_window_seconds")),
    )


def check_api_request(request, principal) -> None:
    """The per-tenant, per-credential and per-IP limits of an authenticated API request.
    Every applicable counter counts the request; the longest wait is reported."""
    if not _enabled():
        return
    from portal.middleware import client_ip

    tenant = principal.tenant
    window = max(1, int(tenant.setting("rate_limit_window_seconds")))
    checks = [("tenant", "all", tenant.setting("rate_limit_per_tenant"))]
    credential = getattr(principal, "credential", None)
    if credential is not None:
        checks.append(("credential", credential.pk, tenant.setting("rate_limit_per_credential")))
    ip = client_ip(request)
    if ip:
        checks.append(("ip", ip, tenant.setting("rate_limit_per_ip")))
    checks = [(scope, str(key), int(limit)) for scope, key, limit in checks if limit is not None and int(limit) > 0]
    hits = hit_many(tenant=tenant, counters=[(scope, key) for scope, key, _ in checks], window_seconds=window)
    if hits is None:  # cache unavailable: fail open
        return
    waits = [h.retry_after for h, (_, _, limit) in zip(hits, checks, strict=True) if h.count > limit]
    if waits:
        raise too_many(max(waits))


def check_auth_failure(request) -> None:
    """Failed authentication (wrong secret or signature) counted per client IP across
    tenants, so secrets cannot be guessed at request speed."""
    if not _enabled():
        return
    from portal.middleware import client_ip

    ip = client_ip(request)
    rate_limit_hit(
        tenant=None,
        scope="auth-failure",
        key=ip or "",
        limit=getattr(settings, "RATE_LIMIT_AUTH_FAILURES_PER_IP", 300),
        window_seconds=getattr(settings, "RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS", 60),
    )


def reset() -> None:
    """Forget a recorded cache outage (the next request tries the cache again)."""
    global _cache_down_until
    with _breaker_lock:
        _cache_down_until = 0.0

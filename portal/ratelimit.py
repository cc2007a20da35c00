"""Request rate limits: per tenant, per credential, per client IP, and per account for
sensitive operations.

Calls that carry only the public API key (the token side, `/identity/v2/auth/...`) are
counted in buckets of their own, per tenant and per client IP (the tenant settings
`rate_limit_key_only_per_tenant` and `rate_limit_key_only_per_ip`), apart from the
allowance of secret-holding back-end calls: whoever holds the public key can exhaust the
key-only buckets, never the back end's.

Each limit is a counter in a window anchored at its first hit: the window ends
`window_seconds` after the first counted request and the next request starts a new one.
With a Redis cache (REDIS_URL) one Lua script increments the counters, sets their expiry
and reads the remaining time atomically, so every worker process shares one count and
all the limits of a request cost one round trip (redis-py's registered scripts, through the
cache's `scripts`, `portal.cache`). An API request whose credential is cached is
authenticated and counted in that same round trip (`read_then_count`): the script counts
only when the cached entries that prove the key and secret are present, so a caller with
the public API key alone cannot spend a tenant's allowance.
Without Redis (the embedded in-process cache) the same step runs in process: one read of
the entries and counters and one write of the counters, under a lock of the process.

When the cache cannot be reached the limits fail open: requests are still served, a
warning is logged, and the cache is not tried again for a few seconds so that an outage
does not slow every request down.
"""

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from portal.client_address import client_ip
from portal.errors import RateLimited

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

# Reads the cache entries KEYS[1..ARGV[1]] and, only when every one is present, counts one
# request in each further key as _LUA_HIT does, in windows as long (ms) as the value of the
# last entry read. Answers false when an entry is missing, else the entries then
# {count, remaining ms} per counter.
_LUA_READ_THEN_HIT = """
local n = tonumber(ARGV[1])
local out = redis.call('MGET', unpack(KEYS, 1, n))
for i = 1, n do
  if not out[i] then return false end
end
local window = tonumber(out[n])
if not window or window < 1 then return false end
for i = n + 1, #KEYS do
  local count = redis.call('INCR', KEYS[i])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[i], window)
    ttl = window
  end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out
"""

_breaker_lock = threading.Lock()
_cache_down_until = 0.0
# Counting in process (no Redis): a counter is read and written back under this lock.
_local_lock = threading.Lock()


@dataclass(frozen=True)
class Hit:
    count: int
    retry_after: int  # whole seconds until the window ends (at least 1)


def rate_limits_enabled() -> bool:
    return getattr(settings, "RATE_LIMITS_ENABLED", True)


def _cache_key(tenant, scope: str, key: str) -> str:
    # surrogatepass: a key made of request text must never fail to encode (a lone surrogate).
    digest = hashlib.sha256(str(key).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    tenant_part = getattr(tenant, "pk", tenant) if tenant is not None else "-"
    return f"rl:{tenant_part}:{scope}:{digest}"


def _scripts():
    """The default cache's script runner (`portal.cache.ScriptRunner`) when it is the
    Redis cache; None for the in-process cache."""
    return getattr(cache, "scripts", None)


def _hits(flat: list) -> list[Hit]:
    """{count, remaining ms} pairs, as the scripts answer them."""
    return [
        Hit(count=int(flat[i]), retry_after=max(1, math.ceil(int(flat[i + 1]) / 1000)))
        for i in range(0, len(flat), 2)
    ]


def _hit_redis(scripts, full_keys: list[str], window_seconds: int) -> list[Hit]:
    return _hits(scripts.run(_LUA_HIT, keys=full_keys, args=[int(window_seconds * 1000)]))


def _hit_cache(raw_keys: list[str], window_seconds: float) -> list[Hit]:
    """Count one request against each of `raw_keys` in the in-process cache. Each counter
    is (count, end of its window); the caller holds `_local_lock`."""
    now = time.time()
    found = cache.get_many(raw_keys)
    hits, written = [], {}
    for key in raw_keys:
        count, ends = found.get(key) or (0, 0.0)
        if ends <= now:  # no window, or it has ended: this request starts one
            count, ends = 0, now + window_seconds
        written[key] = (count + 1, ends)
        hits.append(Hit(count=count + 1, retry_after=max(1, math.ceil(ends - now))))
    for key, value in written.items():
        cache.set(key, value, timeout=max(1, math.ceil(value[1] - now)))
    return hits


def _record_cache_failure(exc: Exception) -> None:
    global _cache_down_until
    with _breaker_lock:
        _cache_down_until = time.monotonic() + getattr(
            settings, "RATE_LIMIT_CACHE_RETRY_SECONDS", 5
        )
    logger.warning("rate limits not enforced: cache unavailable (%s)", type(exc).__name__)


def hit_many(*, tenant, counters: list[tuple[str, str]], window_seconds: int) -> list[Hit] | None:
    """Count one request against each (scope, key) of `tenant`, all in windows of
    `window_seconds`; None when the cache is unavailable."""
    if not counters or time.monotonic() < _cache_down_until:
        return None
    raw_keys = [_cache_key(tenant, scope, key) for scope, key in counters]
    try:
        scripts = _scripts()
        if scripts is not None:
            return _hit_redis(
                scripts, [cache.make_and_validate_key(k) for k in raw_keys], window_seconds
            )
        with _local_lock:
            return _hit_cache(raw_keys, window_seconds)
    except Exception as exc:  # fail open: an unreachable cache must not stop the API
        _record_cache_failure(exc)
        return None


def read_then_count(
    *, entries: list[str], window_entry: str, tenant, counters: list[tuple[str, str]]
):
    """One round trip: the cached values of `entries` and, only when all of them and
    `window_entry` (a window length in ms, see `remember_window`) are cached, one request
    counted against each (scope, key) of `tenant`.

    Returns (values, hits), or None when an entry is missing or the cache cannot be
    reached: the caller then reads and counts the usual way."""
    if time.monotonic() < _cache_down_until:
        return None
    scripts = _scripts()
    if scripts is None:
        return _read_then_count_here(
            entries=entries, window_entry=window_entry, tenant=tenant, counters=counters
        )
    names = [*entries, window_entry]
    # The keys are the project's own (digests and GUIDs): no validation pass needed.
    keys = [cache.make_key(k) for k in names]
    keys += [cache.make_key(_cache_key(tenant, scope, key)) for scope, key in counters]
    try:
        flat = scripts.run(_LUA_READ_THEN_HIT, keys=keys, args=[len(names)])
        if not flat:
            return None
        values = [scripts.loads(v) for v in flat[: len(entries)]]
    except Exception:  # a cache outage must not stop the request: the caller falls back
        return None
    return values, _hits(flat[len(names) :])


def _read_then_count_here(
    *, entries: list[str], window_entry: str, tenant, counters: list[tuple[str, str]]
):
    """`read_then_count` on the in-process cache: what the Redis script does, in process."""
    try:
        with _local_lock:
            found = cache.get_many([*entries, window_entry])
            window_ms = found.get(window_entry)
            if any(name not in found for name in entries) or not isinstance(window_ms, int):
                return None
            if window_ms < 1:
                return None
            raw_keys = [_cache_key(tenant, scope, key) for scope, key in counters]
            hits = _hit_cache(raw_keys, window_ms / 1000) if raw_keys else []
    except Exception:  # a cache outage must not stop the request: the caller falls back
        return None
    return [found[name] for name in entries], hits


def remember_window(*, window_entry: str, window_seconds: int, timeout: int) -> None:
    """Cache the window length that `read_then_count` uses for counters it starts."""
    cache.set(window_entry, int(window_seconds * 1000), timeout)


def hit(*, tenant, scope: str, key: str, window_seconds: int) -> Hit | None:
    """Count one request against (tenant, scope, key); None when the cache is unavailable."""
    hits = hit_many(tenant=tenant, counters=[(scope, key)], window_seconds=window_seconds)
    return hits[0] if hits else None


def too_many(retry_after: int) -> RateLimited:
    return RateLimited(retry_after=retry_after)


def rate_limit_hit(*, tenant, scope: str, key, limit: int, window_seconds: int) -> None:
    """Count one attempt and raise RateLimited (429 with Retry-After on the wire) once `limit` attempts
    were made within `window_seconds`. A limit of 0 or less disables the check."""
    if not rate_limits_enabled() or limit is None or int(limit) <= 0 or key in (None, ""):
        return
    result = hit(
        tenant=tenant, scope=scope, key=str(key), window_seconds=max(1, int(window_seconds))
    )
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


def request_counters(*, credential_key: str | None, ip: str | None) -> list[tuple[str, str]]:
    """The (scope, key) counters of an API request, all of the tenant's API key: known
    before the credential is read, so a cached credential is counted in the same round
    trip (`read_then_count`). `credential_key` is the credential's secret hash."""
    counters = [("tenant", "all")]
    if credential_key:
        counters.append(("credential", credential_key))
    if ip:
        counters.append(("ip", ip))
    return counters


# Key-only calls (principal.via == "apikey"): scope -> the tenant setting of its limit.
KEY_ONLY_LIMITS = {
    "key-tenant": "rate_limit_key_only_per_tenant",
    "key-ip": "rate_limit_key_only_per_ip",
}


def key_only_counters(*, ip: str | None) -> list[tuple[str, str]]:
    """The (scope, key) counters of a call that carries only the public API key."""
    counters = [("key-tenant", "all")]
    if ip:
        counters.append(("key-ip", ip))
    return counters


def check_api_request(request, principal) -> None:
    """The limits of an authenticated API request: per tenant, per credential and per IP
    for back-end calls; per tenant and per IP, in buckets of their own, for calls with the
    public API key only. Every applicable counter counts the request (unless
    authentication already counted it: `principal.request_hits`); the longest wait is
    reported."""
    if not rate_limits_enabled():
        return
    tenant = principal.tenant
    if getattr(principal, "via", None) == "apikey":
        limits = {scope: int(tenant.setting(name) or 0) for scope, name in KEY_ONLY_LIMITS.items()}
        counters = key_only_counters(ip=client_ip(request))
        hits = getattr(principal, "request_hits", None)
    else:
        credential = getattr(principal, "credential", None)
        limits = {
            scope: int(tenant.setting(f"rate_limit_per_{scope}") or 0)
            for scope in ("tenant", "credential", "ip")
        }
        counters = request_counters(
            credential_key=credential.secret_hash if credential else None, ip=client_ip(request)
        )
        hits = getattr(principal, "request_hits", None)
    if hits is None:
        counters = [(scope, key) for scope, key in counters if limits[scope] > 0]
        window = max(1, int(tenant.setting("rate_limit_window_seconds")))
        hits = hit_many(tenant=tenant.api_key, counters=counters, window_seconds=window)
        if hits is None:  # cache unavailable: fail open
            return
    waits = [
        h.retry_after
        for h, (scope, _) in zip(hits, counters, strict=True)
        if 0 < limits[scope] < h.count
    ]
    if waits:
        raise too_many(max(waits))


def check_auth_failure(request) -> None:
    """Failed authentication (wrong secret or signature) counted per client IP across
    tenants, so secrets cannot be guessed at request speed."""
    if not rate_limits_enabled():
        return
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

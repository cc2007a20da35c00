"""Who is calling: resolve the tenant and credential from wherever the SDKs put them.

Lookup order (reference §6): signed request (`digest`), the X-LoginRadius headers, the
`apikey`/`apisecret` query parameters (any case; `key`/`secret` on /api/v2, where the
secret alone also names its tenant), then `client_id`/`client_secret`, then an M2M bearer
token.

A tenant with `request_signing = strict` accepts signed requests only: a plain secret in
any place (`/api/v2/access_token*` and `client_id`/`client_secret` included) is 1207, the
client-credentials grant issues no M2M token, and an M2M token issued before the switch is
refused (1207) when it is next used.

The successful plain-secret path is served from the cache (one round trip for the
credential and its tenant, both cached for a few seconds, which with Redis also counts the
request's rate limits: `ratelimit.read_then_count`) and otherwise costs one query
(the credential joined with its tenant), plus, at most every few minutes, the
`last_used_at` update; failures spend a second query to tell an unknown key (901) from a
wrong secret (902). Revoking, rotating or re-dating a credential drops its cached copy in
the same call and again on commit (`credential_forget_cached`); a tenant change drops the
tenant's cached copy, which every cache hit re-reads.
"""

import contextlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import router, transaction
from django.utils import timezone

from portal import crypto, ratelimit
from portal.lrapi import m2m, signing
from portal.lrapi.errors import LRError
from portal.lrapi.params import CIQuery
from portal.middleware import client_ip
from portal.models import ApiCredential, Tenant

GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\Z"
)
LAST_USED_RESOLUTION = timedelta(minutes=5)
# How long a resolved credential may be served from the cache; revocation does not wait
# for it (the services drop the entry), only changes made behind the services' back do.
CREDENTIAL_CACHE_SECONDS = 5


@dataclass
class ApiPrincipal:
    """The authenticated caller of an API request."""

    tenant: Tenant
    credential: ApiCredential | None
    via: str  # "secret", "signature", "client", "m2m", "apikey"
    # The request's rate-limit counts when authentication already made them
    # (`ratelimit.request_counters` order); None: `ratelimit.check_api_request` counts.
    request_hits: list | None = None
    # Cache entries read in authentication's round trip for the view (`also_read`), by key.
    prefetched: dict[str, Any] = field(default_factory=dict)

    is_authenticated = True

    def allows(self, section: str) -> bool:
        return self.credential is None or self.credential.allows(section)


def is_legacy_path(path: str) -> bool:
    return path.lower().startswith("/api/v2/")


def normalise_guid(value: str) -> str:
    return str(uuid.UUID(value))


def _first(*candidates: str | None) -> str | None:
    return next((c.strip() for c in candidates if c and c.strip()), None)


def api_key_of(request, query: CIQuery) -> str | None:
    return _first(
        request.headers.get("X-LoginRadius-ApiKey"),
        query.get("apikey"),
        query.get("key") if is_legacy_path(request.path) else None,
        query.get("client_id"),
    )


def api_secret_of(request, query: CIQuery) -> tuple[str | None, str]:
    """The plain secret and where it came from ("secret" or "client")."""
    for value, via in (
        (request.headers.get("X-LoginRadius-ApiSecret"), "secret"),
        (query.get("apisecret"), "secret"),
        (query.get("secret") if is_legacy_path(request.path) else None, "secret"),
        (query.get("client_secret"), "client"),
    ):
        if value and value.strip():
            return value.strip(), via
    return None, "secret"


def _check_key_format(api_key: str | None) -> str:
    if not api_key:
        raise LRError(908, "The apikey is a required parameter.")
    if not GUID_RE.match(api_key):
        raise LRError(920)
    return normalise_guid(api_key)


def tenant_for_api_key(api_key: str | None) -> Tenant:
    """The tenant of an API key, or the LoginRadius error for a missing/malformed/unknown one."""
    key = _check_key_format(api_key)
    tenant = Tenant.cached_by_api_key(key)
    if tenant is None or not tenant.is_active:
        raise LRError(901)
    return tenant


def is_strict(tenant: Tenant) -> bool:
    return tenant.setting("request_signing") == "strict"


def credential_for_client_credentials(
    client_id: str | None, client_secret: str | None
) -> ApiCredential:
    """The credential of an OAuth2 client-credentials request. A tenant in strict signing
    mode is refused (1207) before its secret is looked at, so the answer tells nothing
    about the secret; otherwise as `credential_for_secret`."""
    if is_strict(tenant_for_api_key(client_id)):
        raise LRError(
            1207, "This application accepts signed requests only; it issues no M2M tokens."
        )
    return credential_for_secret(client_id, client_secret)


def credential_for_secret(api_key: str | None, secret: str | None) -> ApiCredential:
    """The usable credential (with its tenant loaded) that a key and plain secret name.

    Raises 908/920 (key), 901 (unknown key), 923 (no secret), 921 (malformed secret),
    902 (wrong, revoked or expired secret). Signing mode is the caller's concern.
    """
    return _credential_for_secret(api_key, secret, request_ip=None, count=False)[0]


def _credential_for_secret(
    api_key: str | None, secret: str | None, *, request_ip: str | None, count: bool
) -> tuple[ApiCredential, list | None]:
    """`credential_for_secret`, and with `count` the request's rate-limit counts when the
    credential came from the cache in a round trip that also counted them (else None)."""
    key = _check_key_format(api_key)
    if secret and GUID_RE.match(secret):
        secret_hash = crypto.token_hash(normalise_guid(secret))
        counters = (
            ratelimit.request_counters(credential_key=secret_hash, ip=request_ip) if count else []
        )
        credential, hits = _cached_credential(key, secret_hash, counters)
        if credential is not None:
            return credential, hits
        credential = (
            ApiCredential.objects.usable()
            .select_related("tenant")
            .filter(tenant__api_key=key, tenant__is_active=True, secret_hash=secret_hash)
            .first()
        )
        if credential is not None:
            _cache_credential(credential)
            return credential, None
    tenant_for_api_key(key)  # 901 before any complaint about the secret
    if not secret:
        raise LRError(923)
    if not GUID_RE.match(secret):
        raise LRError(921)
    raise LRError(902)


def _credential_cache_key(api_key: str, secret_hash: str) -> str:
    # The key names the API key too: an entry proves that this key and secret go together,
    # which is what lets `read_then_count` count the request before the entry is unpickled.
    return f"credential:secret:{api_key}:{secret_hash}"


def _rate_limit_window_key(api_key: str) -> str:
    return f"credential:rate-limit-window:{api_key}"


def _cached_credential(
    api_key: str, secret_hash: str, counters: list
) -> tuple[ApiCredential | None, list | None]:
    """The cached credential of `secret_hash` with the tenant of `api_key`, if both are
    cached and the credential is still usable (None sends the caller to the database), and
    the counts of `counters` when the same round trip made them. One round trip: the
    credential and the tenant are read together (and, on Redis, the counters counted)."""
    entries = [_credential_cache_key(api_key, secret_hash), Tenant.cache_key_for(api_key)]
    found = ratelimit.read_then_count(
        entries=entries,
        window_entry=_rate_limit_window_key(api_key),
        tenant=api_key,
        counters=counters,
    )
    if found is not None:
        (credential, tenant), hits = found
    else:
        hits = None
        try:
            values = cache.get_many(entries)
        except Exception:  # a cache outage must not stop authentication
            return None, None
        credential, tenant = (values.get(k) for k in entries)
    if not isinstance(credential, ApiCredential) or not isinstance(tenant, Tenant):
        return None, None
    if credential.tenant_id != tenant.pk or not tenant.is_active or not credential.is_usable:
        return None, None
    credential.tenant = tenant
    return credential, hits


def _cache_credential(credential: ApiCredential) -> None:
    """Cache the credential (without its tenant: hits read the tenant's own cached copy,
    which a tenant change drops), the tenant, and the tenant's rate-limit window."""
    tenant = credential.tenant
    # A copy loaded as the database row it is (`from_db`), without the tenant it holds.
    names = [f.attname for f in ApiCredential._meta.concrete_fields]
    entry = ApiCredential.from_db(
        router.db_for_read(ApiCredential), names, [getattr(credential, name) for name in names]
    )
    with contextlib.suppress(Exception):
        cache.set(
            _credential_cache_key(tenant.api_key, credential.secret_hash),
            entry,
            CREDENTIAL_CACHE_SECONDS,
        )
        # `add`: an entry already there (`Tenant.cached_by_api_key`'s, longer-lived) stays.
        cache.add(Tenant.cache_key_for(tenant.api_key), tenant, CREDENTIAL_CACHE_SECONDS)
        ratelimit.remember_window(
            window_entry=_rate_limit_window_key(tenant.api_key),
            window_seconds=max(1, int(tenant.setting("rate_limit_window_seconds"))),
            timeout=CREDENTIAL_CACHE_SECONDS,
        )


def credential_forget_cached(credential: ApiCredential) -> None:
    """Drop the cached copy of `credential` now and again after commit, so a revoked,
    rotated or re-dated secret is refused by every process on its next request (a reader
    that raced the transaction cannot keep a stale copy past the commit)."""
    key = _credential_cache_key(credential.tenant.api_key, credential.secret_hash)

    def drop() -> None:
        with contextlib.suppress(Exception):
            cache.delete(key)

    drop()
    transaction.on_commit(drop)


def touch(credential: ApiCredential) -> None:
    """Record use, at most once per LAST_USED_RESOLUTION, so the hot path stays read-only."""
    now = timezone.now()
    if credential.last_used_at is None or now - credential.last_used_at > LAST_USED_RESOLUTION:
        ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now
        with contextlib.suppress(Exception):  # the cached copy must not carry the old stamp
            cache.delete(_credential_cache_key(credential.tenant.api_key, credential.secret_hash))


def _bearer(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _m2m_principal(token: str, tenant_key: str | None = None) -> ApiPrincipal:
    credential = m2m.credential_for_token(token)  # reads the tenant afresh: its mode is current
    if tenant_key is not None and credential.tenant.api_key != _check_key_format(tenant_key):
        raise LRError(902)
    if is_strict(credential.tenant):
        raise LRError(
            1207, "This application accepts signed requests only; M2M bearer tokens are refused."
        )
    touch(credential)
    return ApiPrincipal(tenant=credential.tenant, credential=credential, via="m2m")


def authenticate_management(request) -> ApiPrincipal:
    """Authenticate a back-end (management) call; raises LRError with the exact code."""
    request = getattr(request, "_request", request)  # DRF's request forwards each attribute read
    query = CIQuery.of(request)
    api_key = api_key_of(request, query)
    bearer = _bearer(request)
    bearer_is_m2m = bool(bearer) and m2m.looks_like_m2m(bearer)
    if not api_key and bearer_is_m2m:
        return _m2m_principal(bearer)

    supplied_digest = request.headers.get("digest")
    if supplied_digest:
        return _authenticate_signed(request, tenant_for_api_key(api_key), supplied_digest)

    secret, via = api_secret_of(request, query)
    if not api_key and secret and via == "secret" and is_legacy_path(request.path):
        return _legacy_secret_principal(secret)
    if not secret:
        if bearer_is_m2m:
            return _m2m_principal(bearer, tenant_key=api_key)
        tenant = tenant_for_api_key(api_key)
        if is_strict(tenant):
            raise LRError(1207)
        # An expiry header without a digest means the caller meant to sign.
        raise LRError(1209 if request.headers.get("X-Request-Expires") else 923)
    try:
        credential, hits = _credential_for_secret(
            api_key, secret, request_ip=client_ip(request), count=ratelimit.rate_limits_enabled()
        )
    except LRError as exc:
        if exc.error_code in (921, 902) and is_strict(tenant_for_api_key(api_key)):
            raise LRError(1207) from exc
        raise
    if is_strict(credential.tenant):
        raise LRError(1207)
    touch(credential)
    return ApiPrincipal(tenant=credential.tenant, credential=credential, via=via, request_hits=hits)


def _legacy_secret_principal(secret: str) -> ApiPrincipal:
    """`/api/v2/access_token*` with the secret alone (the SDK's exchange and refresh calls
    send no key): the secret names its tenant. Failures are 921/902 like any other secret,
    so the caller counts them, and the request is rate-limited like any management call."""
    if not GUID_RE.match(secret):
        raise LRError(921)
    credential = (
        ApiCredential.objects.usable()
        .select_related("tenant")
        .filter(secret_hash=crypto.token_hash(normalise_guid(secret)), tenant__is_active=True)
        .first()
    )
    if credential is None:
        raise LRError(902)
    if is_strict(credential.tenant):
        raise LRError(1207)
    touch(credential)
    return ApiPrincipal(tenant=credential.tenant, credential=credential, via="secret")


def _authenticate_signed(request, tenant: Tenant, supplied_digest: str) -> ApiPrincipal:
    supplied = signing.parse_digest_header(supplied_digest)
    if not supplied:
        raise LRError(1208)
    expiry = request.headers.get("X-Request-Expires")
    expires = signing.check_expiry(expiry)
    url = request.build_absolute_uri()
    body = request.body or b""
    for credential in ApiCredential.objects.usable().filter(tenant=tenant):
        if signing.signature_matches(
            secret=credential.raw_secret(), supplied=supplied, url=url, expiry=expiry, body=body
        ):
            signing.record_use(
                tenant_key=tenant.api_key, supplied=supplied, method=request.method, expires=expires
            )
            credential.tenant = tenant
            touch(credential)
            return ApiPrincipal(tenant=tenant, credential=credential, via="signature")
    raise LRError(1208)


def authenticate_api_key_only(request, *, also_read: str | None = None) -> ApiPrincipal:
    """Token-side (/identity/v2/auth/...) calls carry only the API key; the access token
    identifies the account and is checked by the session section. The tenant is read from
    the cache in the round trip that counts the request's key-only limits
    (`ratelimit.read_then_count`), else as `tenant_for_api_key` reads it.

    `also_read`: a cache entry the view will need (the access token's), read in the same
    round trip when it is cached and handed over in `prefetched`; a miss costs the round
    trip that reads the tenant alone."""
    key = _check_key_format(api_key_of(request, CIQuery.of(request)))
    tenant, hits, prefetched = None, None, {}
    if ratelimit.rate_limits_enabled():
        counters = ratelimit.key_only_counters(ip=client_ip(request))
        found = None
        if also_read:
            found = ratelimit.read_then_count(
                entries=[Tenant.cache_key_for(key), also_read],
                window_entry=_rate_limit_window_key(key),
                tenant=key,
                counters=counters,
            )
            if found is not None:
                prefetched = {also_read: found[0][1]}
        if found is None:
            found = ratelimit.read_then_count(
                entries=[Tenant.cache_key_for(key)],
                window_entry=_rate_limit_window_key(key),
                tenant=key,
                counters=counters,
            )
        if found is not None:
            tenant, hits = found[0][0], found[1]
    if not isinstance(tenant, Tenant):
        tenant = tenant_for_api_key(key)
        with contextlib.suppress(Exception):  # lets the next call count in the same trip
            ratelimit.remember_window(
                window_entry=_rate_limit_window_key(key),
                window_seconds=max(1, int(tenant.setting("rate_limit_window_seconds"))),
                timeout=CREDENTIAL_CACHE_SECONDS,
            )
    elif not tenant.is_active:
        raise LRError(901)
    return ApiPrincipal(
        tenant=tenant, credential=None, via="apikey", request_hits=hits, prefetched=prefetched
    )

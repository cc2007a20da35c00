"""Who is calling: resolve the tenant and credential from wherever the SDKs put them.

Lookup order (reference §6): signed request (`digest`), the X-LoginRadius headers, the
`apikey`/`apisecret` query parameters (any case; `key`/`secret` on /api/v2), then
`client_id`/`client_secret`, then an M2M bearer token.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from portal import crypto
from portal.lrapi import m2m, signing
from portal.lrapi.errors import LRError
from portal.lrapi.params import CIQuery
from portal.models import ApiCredential, Tenant

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass
class ApiPrincipal:
    """The authenticated caller of an API request."""

    tenant: Tenant
    credential: ApiCredential | None
    via: str  # "secret", "signature", "client", "m2m", "apikey"

    is_authenticated = True

    def allows(self, section: str) -> bool:
        return self.credential is None or self.credential.allows(section)


def _is_legacy_path(path: str) -> bool:
    return path.lower().startswith("/api/v2/")


def normalise_guid(value: str) -> str:
    return str(uuid.UUID(value))


def _api_key(request, query: CIQuery) -> str | None:
    candidates = [
        request.headers.get("X-LoginRadius-ApiKey"),
        query.get("apikey"),
        query.get("key") if _is_legacy_path(request.path) else None,
        query.get("client_id"),
    ]
    return next((c.strip() for c in candidates if c and c.strip()), None)


def _api_secret(request, query: CIQuery) -> str | None:
    candidates = [
        request.headers.get("X-LoginRadius-ApiSecret"),
        query.get("apisecret"),
        query.get("secret") if _is_legacy_path(request.path) else None,
        query.get("client_secret"),
    ]
    return next((c.strip() for c in candidates if c and c.strip()), None)


def tenant_for_api_key(api_key: str | None) -> Tenant:
    """The tenant of an API key, or the LoginRadius error for a missing/malformed/unknown one."""
    if not api_key:
        raise LRError(908, "The apikey is a required parameter.")
    if not GUID_RE.match(api_key):
        raise LRError(920)
    tenant = Tenant.objects.filter(api_key=normalise_guid(api_key), is_active=True).first()
    if tenant is None:
        raise LRError(901)
    return tenant


def _touch(credential: ApiCredential) -> None:
    now = timezone.now()
    if credential.last_used_at is None or now - credential.last_used_at > LAST_USED_RESOLUTION:
        ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now


def _bearer(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate_management(request) -> ApiPrincipal:
    """Authenticate a back-end (management) call; raises LRError with the exact code."""
    query = CIQuery(request.GET)
    api_key = _api_key(request, query)
    bearer = _bearer(request)
    if not api_key and bearer and m2m.looks_like_m2m(bearer):
        credential = m2m.credential_for_token(bearer)
        _touch(credential)
        return ApiPrincipal(tenant=credential.tenant, credential=credential, via="m2m")

    tenant = tenant_for_api_key(api_key)
    supplied_digest = request.headers.get("digest")
    if supplied_digest:
        return _authenticate_signed(request, tenant, supplied_digest)

    secret = _api_secret(request, query)
    if not secret:
        if bearer and m2m.looks_like_m2m(bearer):
            credential = m2m.credential_for_token(bearer)
            if credential.tenant_id != tenant.pk:
                raise LRError(902)
            _touch(credential)
            return ApiPrincipal(tenant=tenant, credential=credential, via="m2m")
        if tenant.setting("request_signing") == "strict":
            raise LRError(1207)
        # An expiry header without a digest means the caller meant to sign.
        raise LRError(1209 if request.headers.get("X-Request-Expires") else 923)
    if tenant.setting("request_signing") == "strict":
        raise LRError(1207)
    if not GUID_RE.match(secret):
        raise LRError(921)
    credential = (
        ApiCredential.objects.usable()
        .filter(tenant=tenant, secret_hash=crypto.token_hash(normalise_guid(secret)))
        .first()
    )
    if credential is None:
        raise LRError(902)
    credential.tenant = tenant
    _touch(credential)
    via = "client" if query.get("client_secret") else "secret"
    return ApiPrincipal(tenant=tenant, credential=credential, via=via)


def _authenticate_signed(request, tenant: Tenant, supplied_digest: str) -> ApiPrincipal:
    supplied = signing.parse_digest_header(supplied_digest)
    if not supplied:
        raise LRError(1208)
    expiry = request.headers.get("X-Request-Expires")
    signing.check_expiry(expiry)
    url = request.build_absolute_uri()
    body = request.body or b""
    for credential in ApiCredential.objects.usable().filter(tenant=tenant):
        if signing.signature_matches(
            secret=credential.raw_secret(), supplied=supplied, url=url, expiry=expiry, body=body
        ):
            credential.tenant = tenant
            _touch(credential)
            return ApiPrincipal(tenant=tenant, credential=credential, via="signature")
    raise LRError(1208)


def authenticate_api_key_only(request) -> ApiPrincipal:
    """Token-side (/identity/v2/auth/...) calls carry only the API key; the access token
    identifies the account and is checked by the session section."""
    query = CIQuery(request.GET)
    tenant = tenant_for_api_key(_api_key(request, query))
    return ApiPrincipal(tenant=tenant, credential=None, via="apikey")

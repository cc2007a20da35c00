"""Duo Universal Prompt's server-to-server calls (health check and code exchange), made
through `portal.outbound` to the tenant's `api_host`, which must be a Duo API host:
`api-XXXXXXXX.duosecurity.com`, or `api-XXXXXXXX.duofederal.com` for Duo Federal. The TLS
certificate is checked against the CA bundle Duo pins in its own client library; tenants
cannot supply another. The prompt URL itself (no network) is still built by
`duo_universal`."""

from __future__ import annotations

import re
import secrets
import time
from urllib.parse import urlencode

import jwt
from django.conf import settings
from duo_universal.client import DEFAULT_CA_CERT_PATH

from portal import outbound

API_HOST = re.compile(r"api-[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.(?:duosecurity|duofederal)\.com")
API_HOST_RULE = "The Duo API host must be api-XXXXXXXX.duosecurity.com (or api-XXXXXXXX.duofederal.com for Duo Federal)."
ASSERTION_SECONDS = 300
LEEWAY_SECONDS = 60
CONNECT_TIMEOUT = 5.0
TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class DuoError(Exception):
    """Duo could not be reached, refused the request or answered something unusable."""


def api_host_permitted(api_host: str) -> bool:
    """A Duo API host, or (test suite only) a fake listed in `OUTBOUND_TEST_HOSTS`."""
    return bool(API_HOST.fullmatch(api_host)) or api_host in (
        getattr(settings, "OUTBOUND_TEST_HOSTS", None) or {}
    )


def _allow_duo(host: str, port: int) -> bool:
    return port == 443 and bool(API_HOST.fullmatch(host))


def _assertion(client_id: str, client_secret: str, endpoint: str) -> str:
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": endpoint,
        "exp": int(time.time()) + ASSERTION_SECONDS,
        "jti": secrets.token_urlsafe(27),
    }
    return jwt.encode(claims, client_secret, algorithm="HS512")


def _post(endpoint: str, form: dict) -> outbound.OutboundResponse:
    try:
        return outbound.request(
            "POST",
            endpoint,
            allow_host=_allow_duo,
            ca_file=DEFAULT_CA_CERT_PATH,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            body=urlencode(form).encode(),
            connect_timeout=CONNECT_TIMEOUT,
            timeout=TIMEOUT,
            max_bytes=MAX_RESPONSE_BYTES,
        )
    except outbound.OutboundError as exc:
        raise DuoError(str(exc)) from exc


def _endpoint(api_host: str, path: str) -> str:
    if not api_host_permitted(api_host):
        raise DuoError(API_HOST_RULE)
    return f"https://{api_host}{path}"


def health_check(*, client_id: str, client_secret: str, api_host: str) -> None:
    """Raise DuoError unless Duo answers its health check for these credentials."""
    endpoint = _endpoint(api_host, "/oauth/v1/health_check")
    response = _post(
        endpoint,
        {
            "client_id": client_id,
            "client_assertion": _assertion(client_id, client_secret, endpoint),
        },
    )
    try:
        ok = response.status == 200 and response.json().get("stat") == "OK"
    except (outbound.OutboundError, AttributeError):
        ok = False
    if not ok:
        raise DuoError(f"health check answered HTTP {response.status}")


def exchange_code(
    *,
    client_id: str,
    client_secret: str,
    api_host: str,
    redirect_uri: str,
    code: str,
    username: str,
) -> dict:
    """Exchange Duo's authorization code for the signed 2FA result and return its claims;
    DuoError unless the token is Duo's (signature, audience, issuer, expiry) and names
    `username`."""
    if not code:
        raise DuoError("no authorization code")
    endpoint = _endpoint(api_host, "/oauth/v1/token")
    response = _post(
        endpoint,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": _assertion(client_id, client_secret, endpoint),
        },
    )
    if response.status != 200:
        raise DuoError(f"token exchange answered HTTP {response.status}")
    try:
        id_token = response.json()["id_token"]
        claims = jwt.decode(
            id_token,
            client_secret,
            algorithms=["HS512"],
            audience=client_id,
            issuer=endpoint,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat"]},
        )
    except (outbound.OutboundError, KeyError, TypeError, jwt.PyJWTError) as exc:
        raise DuoError("the token exchange answer is not a valid Duo token") from exc
    if claims.get("preferred_username") != username:
        raise DuoError("the Duo token names another user")
    return claims

"""Machine-to-machine bearer tokens: short-lived JWTs issued to an API credential through
the OAuth2 client-credentials grant, accepted as `Authorization: Bearer` on management calls."""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings

from portal.lrapi.errors import LRError
from portal.models import ApiCredential

ISSUER = "account-portal"
AUDIENCE = "account-portal/m2m"


def _signing_key() -> bytes:
    return hashlib.sha256(("m2m-token:" + settings.SECRET_KEY).encode()).digest()


def looks_like_m2m(token: str) -> bool:
    return token.count(".") == 2


def issue_token(credential: ApiCredential) -> tuple[str, int]:
    lifetime = settings.M2M_TOKEN_LIFETIME_SECONDS
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(credential.pk),
        "tid": credential.tenant.api_key,
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, _signing_key(), algorithm="HS256"), lifetime


def credential_for_token(token: str) -> ApiCredential:
    """The live credential a bearer token was issued to: 905 when the token is malformed or
    tampered with, 906 when it has expired, 902 when its credential no longer works."""
    try:
        claims = jwt.decode(
            token,
            _signing_key(),
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "tid"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise LRError(906) from exc
    except jwt.PyJWTError as exc:
        raise LRError(905) from exc
    credential = (
        ApiCredential.objects.usable()
        .select_related("tenant")
        .filter(pk=claims.get("sub"), tenant__api_key=claims.get("tid"), tenant__is_active=True)
        .first()
    )
    if credential is None:  # the credential was revoked or expired since the token was issued
        raise LRError(902)
    return credential

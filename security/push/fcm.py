"""Push through Firebase Cloud Messaging's HTTP v1 API with the tenant's service account.

The service account signs a JWT (RS256; `iss` its e-mail, `scope` FCM's, `aud` the token
endpoint, an hour long) that Google's OAuth 2.0 token endpoint exchanges for an access
token (grant type `urn:ietf:params:oauth:grant-type:jwt-bearer`). The token is cached,
encrypted, until shortly before it expires; a 401 from FCM drops it and one new token is
fetched. The message is `POST {base}/v1/projects/{project_id}/messages:send` with
`{"message": {"token": <device token>, "data": {...}}}`.

Where the calls go is the operator's choice (`PUSH_FCM_TOKEN_URL`, `PUSH_FCM_API_BASE_URL`,
Google's by default), never the uploaded file's: its `token_uri` is ignored.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.cache import cache

from portal import outbound
from portal.crypto import decrypt, encrypt
from security.push import PushRejected, PushUnavailable, timeouts

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_SECONDS = 3600
# A cached access token is given up this long before Google says it expires.
TOKEN_MARGIN_SECONDS = 300
MAX_RESPONSE_BYTES = 64 * 1024
MAX_FILE_BYTES = 20 * 1024
PERMANENT_FCM_ERRORS = {"UNREGISTERED", "INVALID_ARGUMENT", "SENDER_ID_MISMATCH", "NOT_FOUND"}


class ServiceAccountInvalid(ValueError):
    """The uploaded file is not a usable Google service-account key (the message says why)."""


@dataclass(frozen=True)
class ServiceAccount:
    project_id: str
    client_email: str
    private_key_id: str
    private_key: str = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> ServiceAccount:
        if not isinstance(text, str) or not text.strip():
            raise ServiceAccountInvalid("Give the service account's JSON key file.")
        if len(text.encode()) > MAX_FILE_BYTES:
            raise ServiceAccountInvalid("The file is too large for a service account key.")
        try:
            data = json.loads(text)
        except ValueError:
            raise ServiceAccountInvalid("The file is not JSON.") from None
        if not isinstance(data, dict) or data.get("type") != "service_account":
            raise ServiceAccountInvalid(
                'The file is not a service account key ("type" must be "service_account").'
            )
        values = {}
        for key in ("project_id", "client_email", "private_key"):
            value = data.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ServiceAccountInvalid(f'The key file has no "{key}".')
            values[key] = value.strip()
        key_id = data.get("private_key_id")
        if key_id is not None and not isinstance(key_id, str):
            raise ServiceAccountInvalid('"private_key_id" must be a string.')
        if len(values["project_id"]) > 200 or "/" in values["project_id"]:
            raise ServiceAccountInvalid('"project_id" is not a Firebase project id.')
        if len(values["client_email"]) > 254 or "@" not in values["client_email"]:
            raise ServiceAccountInvalid('"client_email" is not an e-mail address.')
        try:
            key = serialization.load_pem_private_key(values["private_key"].encode(), password=None)
        except (ValueError, TypeError):
            raise ServiceAccountInvalid('"private_key" is not a PEM private key.') from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ServiceAccountInvalid('"private_key" must be an RSA key.')
        return cls(
            project_id=values["project_id"],
            client_email=values["client_email"],
            private_key_id=key_id or "",
            private_key=values["private_key"],
        )


def token_url() -> str:
    return settings.PUSH_FCM_TOKEN_URL


def api_base_url() -> str:
    return settings.PUSH_FCM_API_BASE_URL.rstrip("/")


def _only(url: str):
    """A host predicate admitting exactly the host and port of an operator-chosen URL."""
    parts = urlsplit(url)
    want = ((parts.hostname or "").rstrip(".").lower(), parts.port or 443)

    def allow(host: str, port: int) -> bool:
        return (host, port) == want

    return allow


def _call(
    url: str, *, headers: dict[str, str], body: bytes, what: str
) -> outbound.OutboundResponse:
    connect_timeout, timeout = timeouts()
    try:
        return outbound.request(
            "POST",
            url,
            allow_host=_only(url),
            headers=headers,
            body=body,
            connect_timeout=connect_timeout,
            timeout=timeout,
            max_bytes=MAX_RESPONSE_BYTES,
        )
    except outbound.DestinationRefused as exc:
        raise PushRejected(f"{what} address is refused ({exc})") from None
    except outbound.OutboundTimeout:
        raise PushUnavailable(f"{what} did not answer in time") from None
    except outbound.ResponseTooLarge:
        raise PushRejected(f"{what} answered too much") from None
    except outbound.OutboundError as exc:
        raise PushUnavailable(f"{what} could not be reached ({exc})") from None


def _fcm_error(response: outbound.OutboundResponse) -> str:
    """FCM's error code (`UNREGISTERED`, ...) or its status (`NOT_FOUND`, ...), if any."""
    try:
        error = json.loads(response.body).get("error") or {}
        for detail in error.get("details") or []:
            if isinstance(detail, dict) and detail.get("errorCode"):
                return str(detail["errorCode"])[:40]
        return str(error.get("status") or "")[:40]
    except (ValueError, AttributeError, TypeError):
        return ""


class FcmNotifier:
    def __init__(self, account: ServiceAccount):
        self.account = account
        fingerprint = hashlib.sha256(
            "\n".join(
                (account.client_email, account.private_key_id, account.private_key, token_url())
            ).encode()
        ).hexdigest()
        self.cache_key = f"security:push:fcm-token:{fingerprint}"

    # The access token ---------------------------------------------------------------------

    def assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.account.client_email,
            "scope": SCOPE,
            "aud": token_url(),
            "iat": now,
            "exp": now + ASSERTION_SECONDS,
        }
        headers = {"kid": self.account.private_key_id} if self.account.private_key_id else None
        return jwt.encode(claims, self.account.private_key, algorithm="RS256", headers=headers)

    def access_token(self) -> str:
        cached = cache.get(self.cache_key)
        if isinstance(cached, dict) and cached.get("until", 0) > time.time():
            try:
                return decrypt(cached["token"])
            except (ValueError, TypeError, AttributeError):  # a key rotated away: fetch anew
                cache.delete(self.cache_key)
        response = _call(
            token_url(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            body=urlencode({"grant_type": GRANT_TYPE, "assertion": self.assertion()}).encode(),
            what="Google's token endpoint",
        )
        if response.status == 429 or response.status >= 500:
            raise PushUnavailable(f"Google's token endpoint answered HTTP {response.status}")
        if response.status != 200:
            raise PushRejected(
                f"Google refused the service account (HTTP {response.status}{_oauth_error(response)})"
            )
        try:
            data = json.loads(response.body)
            token = data["access_token"]
            expires_in = int(data.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise PushUnavailable("Google's token endpoint answered something unusable") from None
        if not isinstance(token, str) or not token:
            raise PushUnavailable("Google's token endpoint answered something unusable")
        keep = expires_in - TOKEN_MARGIN_SECONDS
        if keep > 0:
            cache.set(self.cache_key, {"token": encrypt(token), "until": time.time() + keep}, keep)
        return token

    def forget_access_token(self) -> None:
        cache.delete(self.cache_key)

    # The message ----------------------------------------------------------------------------

    def _post(self, token: str, body: bytes) -> outbound.OutboundResponse:
        project = quote(self.account.project_id, safe="")
        return _call(
            f"{api_base_url()}/v1/projects/{project}/messages:send",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": f"Bearer {token}",
            },
            body=body,
            what="FCM",
        )

    def send(self, *, device_address: str, payload: dict[str, str], message_id: str) -> None:
        body = json.dumps(
            {"message": {"token": device_address, "data": {k: str(v) for k, v in payload.items()}}},
            separators=(",", ":"),
        ).encode()
        response = self._post(self.access_token(), body)
        if response.status == 401:  # the token expired or was revoked early: one new one
            self.forget_access_token()
            response = self._post(self.access_token(), body)
        status = response.status
        if status == 200:
            return
        code = _fcm_error(response)
        shown = f"FCM answered HTTP {status}" + (f" {code}" if code else "")
        if status == 429 or status >= 500 or code in ("UNAVAILABLE", "INTERNAL", "QUOTA_EXCEEDED"):
            raise PushUnavailable(shown)
        raise PushRejected(shown)


def _oauth_error(response: outbound.OutboundResponse) -> str:
    try:
        error = json.loads(response.body).get("error")
    except (ValueError, AttributeError):
        return ""
    return f", {str(error)[:40]}" if isinstance(error, str) and error else ""

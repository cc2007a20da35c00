"""Google's side of FCM HTTP v1 on loopback HTTPS: the OAuth 2.0 token endpoint (JWT bearer
grant, the assertion verified with the service account's public key) and
`/v1/projects/{project}/messages:send` (bearer token and message checked)."""

import json
import secrets
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.security.fake_push import TlsServer

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def service_account(project_id: str = "portal-push-test", **overrides) -> tuple[str, object]:
    """A service-account key file as Google issues them, and its public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    data = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": f"push@{project_id}.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        **overrides,
    }
    return json.dumps(data), key.public_key()


class FakeGoogle(TlsServer):
    def __init__(self, *, account_json: str, public_key):
        account = json.loads(account_json)
        self.account, self.public_key = account, public_key
        self.expires_in = 3599
        self.issued: dict[str, bool] = {}  # access token -> still valid
        self.token_requests: list[dict] = []  # the verified claims (or the refusal)
        self.token_answers: list[int] = []  # statuses to answer before issuing again
        self.messages: list[dict] = []  # messages accepted
        self.send_requests = 0
        self.send_answers: list[int] = []  # 5xx to answer before accepting again
        self.unregistered: set[str] = set()
        self.delay = 0.0
        self.honour_tokens = True
        super().__init__(self._handler())
        self.base_url = f"https://{self.host}"
        self.token_url = f"{self.base_url}/token"

    def expire_tokens(self) -> None:
        """Google stops honouring every token it issued (as at expiry or a revocation)."""
        for token in self.issued:
            self.issued[token] = False

    # ------------------------------------------------------------------------------------

    def _token(self, form: dict) -> tuple[int, dict]:
        if self.token_answers:
            return self.token_answers.pop(0), {"error": "backend_error"}
        if form.get("grant_type") != [GRANT] or len(form.get("assertion", [])) != 1:
            return 400, {"error": "unsupported_grant_type"}
        assertion = form["assertion"][0]
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=["RS256"],
                audience=self.token_url,
                issuer=self.account["client_email"],
                options={"require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.InvalidTokenError as exc:
            self.token_requests.append({"refused": str(exc)})
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT"}
        if (
            header.get("kid") != self.account["private_key_id"]
            or claims.get("scope") != SCOPE
            or not 0 < claims["exp"] - claims["iat"] <= 3600
        ):
            self.token_requests.append({"refused": "claims", **claims})
            return 400, {"error": "invalid_scope"}
        self.token_requests.append(claims)
        token = f"ya29.{secrets.token_urlsafe(24)}"
        self.issued[token] = True
        return 200, {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}

    def _send(self, path: str, headers, body: bytes) -> tuple[int, dict]:
        self.send_requests += 1
        auth = headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or not self.issued.get(token) or not self.honour_tokens:
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
        if path != f"/v1/projects/{self.account['project_id']}/messages:send":
            return 404, {"error": {"code": 404, "status": "NOT_FOUND"}}
        if self.send_answers:
            status = self.send_answers.pop(0)
            return status, {"error": {"code": status, "status": "UNAVAILABLE"}}
        try:
            message = json.loads(body)["message"]
            device, data = message["token"], message["data"]
            assert set(message) == {"token", "data"}
            assert all(isinstance(v, str) for v in data.values())
        except (ValueError, KeyError, TypeError, AssertionError):
            return 400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}}
        if device in self.unregistered:
            return 404, {
                "error": {
                    "code": 404,
                    "status": "NOT_FOUND",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                            "errorCode": "UNREGISTERED",
                        }
                    ],
                }
            }
        self.messages.append(message)
        return 200, {"name": f"projects/{self.account['project_id']}/messages/{len(self.messages)}"}

    def _handler(self):
        google = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if google.delay:
                    time.sleep(google.delay)
                if self.path == "/token":
                    status, answer = google._token(parse_qs(body.decode()))
                else:
                    status, answer = google._send(self.path, self.headers, body)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the caller gave up waiting

        return Handler

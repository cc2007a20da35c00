"""A stand-in for Duo's OIDC endpoints on loopback HTTPS, speaking what duo_universal speaks:
health check, the authorize redirect (the "user" answers at once) and the token exchange."""

import datetime
import ipaddress
import json
import secrets
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed_certificate() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-duo.local")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


class FakeDuo:
    def __init__(self, client_id: str, client_secret: str):
        self.client_id, self.client_secret = client_id, client_secret
        self.decision = "allow"
        self.codes: dict[str, dict] = {}
        self.calls: list[str] = []
        self.cert_pem, key_pem = self_signed_certificate()
        self._files = [tempfile.NamedTemporaryFile(suffix=".pem") for _ in range(2)]  # noqa: SIM115 (closed in stop)
        self._files[0].write(self.cert_pem)
        self._files[1].write(key_pem)
        for f in self._files:
            f.flush()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._files[0].name, self._files[1].name)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.ca_path = self._files[0].name

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        for f in self._files:
            f.close()

    def _assertion_ok(self, assertion: str, audience: str) -> bool:
        try:
            jwt.decode(assertion, self.client_secret, algorithms=["HS512"], audience=audience)
            return True
        except jwt.PyJWTError:
            return False

    def _handler(self):
        duo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                duo.calls.append(url.path)
                if url.path != "/oauth/v1/authorize":
                    return self._json(404, {"stat": "FAIL"})
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                try:
                    request = jwt.decode(
                        query["request"],
                        duo.client_secret,
                        algorithms=["HS512"],
                        audience=f"https://{duo.host}",
                    )
                except (KeyError, jwt.PyJWTError):
                    return self._json(400, {"stat": "FAIL", "message": "bad request jwt"})
                code = secrets.token_urlsafe(16)
                duo.codes[code] = {
                    "uname": request["duo_uname"],
                    "redirect_uri": request["redirect_uri"],
                    "decision": duo.decision,
                }
                target = request["redirect_uri"]
                target += ("&" if "?" in target else "?") + urlencode(
                    {"duo_code": code, "state": request["state"]}
                )
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                url = urlsplit(self.path)
                duo.calls.append(url.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                form.update({k: v[0] for k, v in parse_qs(url.query).items()})
                endpoint = f"https://{duo.host}{url.path}"
                if not duo._assertion_ok(form.get("client_assertion", ""), endpoint):
                    return self._json(400, {"stat": "FAIL", "message": "invalid_client"})
                if url.path == "/oauth/v1/health_check":
                    return self._json(
                        200, {"stat": "OK", "response": {"timestamp": int(time.time())}}
                    )
                if url.path == "/oauth/v1/token":
                    entry = duo.codes.pop(form.get("code", ""), None)
                    if entry is None or entry["redirect_uri"] != form.get("redirect_uri"):
                        return self._json(400, {"error": "invalid_grant"})
                    now = int(time.time())
                    id_token = jwt.encode(
                        {
                            "iss": endpoint,
                            "aud": duo.client_id,
                            "iat": now,
                            "exp": now + 300,
                            "preferred_username": entry["uname"],
                            "auth_result": {"status": entry["decision"]},
                        },
                        duo.client_secret,
                        algorithm="HS512",
                    )
                    return self._json(
                        200,
                        {
                            "id_token": id_token,
                            "access_token": "x",
                            "expires_in": 300,
                            "token_type": "Bearer",
                        },
                    )
                return self._json(404, {"stat": "FAIL"})

        return Handler

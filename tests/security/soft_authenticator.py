"""A software WebAuthn authenticator: real P-256 keys, real CBOR attestation objects
("none" or self-attested "packed") and real signed assertions."""

import hashlib
import json
import os
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url, encode_cbor

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40


class SoftAuthenticator:
    def __init__(self, *, aaguid: bytes = bytes(16), counts: bool = True):
        self.aaguid = aaguid
        self.counts = counts
        self.credentials: dict[bytes, dict] = {}

    def _cose_key(self, key: ec.EllipticCurvePrivateKey) -> bytes:
        numbers = key.public_key().public_numbers()
        return encode_cbor(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    @staticmethod
    def client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        ).encode()

    def create(
        self,
        options: dict,
        *,
        origin: str,
        fmt: str = "none",
        rp_id: str | None = None,
        credential_id: bytes | None = None,
        challenge: str | None = None,
    ) -> dict:
        """navigator.credentials.create(): returns the PublicKeyCredential JSON."""
        key = ec.generate_private_key(ec.SECP256R1())
        credential_id = credential_id or os.urandom(32)
        self.credentials[credential_id] = {"key": key, "count": 0, "user": options["user"]["id"]}
        rp_hash = hashlib.sha256((rp_id or options["rp"]["id"]).encode()).digest()
        attested = (
            self.aaguid
            + struct.pack(">H", len(credential_id))
            + credential_id
            + self._cose_key(key)
        )
        auth_data = rp_hash + bytes([FLAG_UP | FLAG_UV | FLAG_AT]) + struct.pack(">I", 0) + attested
        client_data = self.client_data("webauthn.create", challenge or options["challenge"], origin)
        if fmt == "packed":
            signature = key.sign(
                auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
            )
            statement = {"alg": -7, "sig": signature}
        else:
            statement = {}
        attestation = encode_cbor({"fmt": fmt, "attStmt": statement, "authData": auth_data})
        return {
            "id": bytes_to_base64url(credential_id),
            "rawId": bytes_to_base64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "attestationObject": bytes_to_base64url(attestation),
            },
        }

    def get(
        self,
        options: dict,
        *,
        origin: str,
        credential_id: bytes | None = None,
        sign_count: int | None = None,
        rp_id: str | None = None,
    ) -> dict:
        """navigator.credentials.get(): an assertion by one of this authenticator's keys."""
        credential_id = credential_id or next(iter(self.credentials))
        entry = self.credentials[credential_id]
        if sign_count is None:
            if self.counts:
                entry["count"] += 1
            sign_count = entry["count"] if self.counts else 0
        rp_hash = hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
        auth_data = rp_hash + bytes([FLAG_UP | FLAG_UV]) + struct.pack(">I", sign_count)
        client_data = self.client_data("webauthn.get", options["challenge"], origin)
        signature = entry["key"].sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": bytes_to_base64url(credential_id),
            "rawId": bytes_to_base64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(auth_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": entry["user"],
            },
        }

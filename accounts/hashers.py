"""The production password hasher, and the hashes imported from LoginRadius exports.

ConfiguredArgon2PasswordHasher is Django's Argon2id hasher with the deployment's
parameters (settings PASSWORD_ARGON2_*, OWASP's recommendation by default: 19 MiB, two
passes, one lane). It keeps Django's algorithm name, so hashes made with other Argon2
parameters (Django's default 100 MiB and 8 lanes) still verify, and `must_update` asks for
a re-hash at the next successful sign-in.

LoginRadius exports an account's password as `Rfc2898DeriveBytes$<iterations>$<salt>$<hash>`:
.NET's Rfc2898DeriveBytes, i.e. PBKDF2-HMAC-SHA1, with the salt and the derived key in
standard base64 (16-byte salt and 32-byte key as a rule; the key length is read from the
stored hash). Django checks such a hash on sign-in and, because it is not the preferred
hasher, replaces it with the default (Argon2) on the first successful check.
"""

import base64
import binascii
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _


class ConfiguredArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with the memory (KiB), time cost and parallelism the settings name."""

    def __init__(self) -> None:
        self.memory_cost = settings.PASSWORD_ARGON2_MEMORY_KIB
        self.time_cost = settings.PASSWORD_ARGON2_TIME_COST
        self.parallelism = settings.PASSWORD_ARGON2_PARALLELISM


class LoginRadiusPBKDF2PasswordHasher(BasePasswordHasher):
    algorithm = "Rfc2898DeriveBytes"
    iterations = 1000
    salt_bytes = 16
    key_bytes = 32

    def salt(self) -> str:
        return base64.b64encode(secrets.token_bytes(self.salt_bytes)).decode("ascii")

    def encode(
        self, password: str, salt: str, iterations: int | None = None, key_bytes: int | None = None
    ) -> str:
        self._check_encode_args(password, salt)
        iterations = iterations or self.iterations
        raw_salt = base64.b64decode(salt)
        key = hashlib.pbkdf2_hmac(
            "sha1", password.encode(), raw_salt, iterations, key_bytes or self.key_bytes
        )
        return f"{self.algorithm}${iterations}${salt}${base64.b64encode(key).decode('ascii')}"

    def decode(self, encoded: str) -> dict:
        algorithm, iterations, salt, hash_ = encoded.split("$", 3)
        if algorithm != self.algorithm:
            raise ValueError("not a LoginRadius PBKDF2 hash")
        return {"algorithm": algorithm, "iterations": int(iterations), "salt": salt, "hash": hash_}

    def verify(self, password: str, encoded: str) -> bool:
        try:
            decoded = self.decode(encoded)
            key_bytes = len(base64.b64decode(decoded["hash"], validate=True))
            base64.b64decode(decoded["salt"], validate=True)
        except (ValueError, binascii.Error):
            return False
        if not key_bytes or decoded["iterations"] < 1:
            return False
        candidate = self.encode(password, decoded["salt"], decoded["iterations"], key_bytes)
        return constant_time_compare(encoded, candidate)

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("iterations"): decoded["iterations"],
            _("salt"): mask_hash(decoded["salt"]),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass


def is_loginradius_hash(value: str) -> bool:
    """Whether `value` looks like a LoginRadius export hash (cheap shape check, no hashing)."""
    parts = value.split("$")
    if (
        len(parts) != 4
        or parts[0] != LoginRadiusPBKDF2PasswordHasher.algorithm
        or not parts[1].isdigit()
    ):
        return False
    try:
        base64.b64decode(parts[2], validate=True)
        return bool(base64.b64decode(parts[3], validate=True))
    except binascii.Error:
        return False

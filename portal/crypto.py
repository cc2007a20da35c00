"""Encryption for secrets that must be recoverable, and hashing for those that need not be."""

import functools
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.functional import SimpleLazyObject

_fernet = SimpleLazyObject(lambda: Fernet(settings.FIELD_ENCRYPTION_KEY.encode()))


def encrypt(plaintext: str) -> str:
    return _fernet.encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet.decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:  # wrong FIELD_ENCRYPTION_KEY or tampered row
        raise ValueError("cannot decrypt: FIELD_ENCRYPTION_KEY does not match") from exc


@functools.lru_cache(maxsize=4)
def _token_hmac(key: str):
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def token_hash(token: str) -> str:
    """A keyed SHA-256 of a high-entropy token: enough for lookup, useless if the table leaks."""
    # Copying an HMAC keyed once saves hashing the key on every call.
    digest = _token_hmac(settings.SECRET_KEY).copy()
    digest.update(token.encode())
    return digest.hexdigest()


def constant_time_equals(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


def random_hex(nbytes: int = 16) -> str:
    return secrets.token_hex(nbytes)

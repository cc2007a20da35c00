"""Encryption for secrets that must be recoverable, and hashing for those that need not be."""

import functools
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@functools.lru_cache(maxsize=4)
def _keys(configured: str) -> tuple[Fernet, MultiFernet]:
    """FIELD_ENCRYPTION_KEY (comma-separated, newest first) as (the newest key, all keys)."""
    keys = [Fernet(key.strip()) for key in configured.split(",")]
    return keys[0], MultiFernet(keys)


def encrypt(plaintext: str) -> str:
    """A Fernet token of `plaintext` under the newest key."""
    return _keys(settings.FIELD_ENCRYPTION_KEY)[1].encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """The plaintext of a token made under any of the configured keys."""
    try:
        return _keys(settings.FIELD_ENCRYPTION_KEY)[1].decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:  # a key missing from FIELD_ENCRYPTION_KEY, or a tampered row
        raise ValueError("cannot decrypt: no key in FIELD_ENCRYPTION_KEY matches") from exc


def reencrypt(ciphertext: str) -> str | None:
    """`ciphertext` under the newest key, or None when it already is (nothing to write)."""
    newest, every = _keys(settings.FIELD_ENCRYPTION_KEY)
    token = ciphertext.encode()
    try:
        newest.decrypt(token)
    except InvalidToken:
        pass
    else:
        return None
    try:
        return every.rotate(token).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: no key in FIELD_ENCRYPTION_KEY matches") from exc


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

"""Secure One-Time Tokens (SOTT) as LoginRadius makes them: AES-256-CBC of
`start#apikey#end` under a key derived from the API secret, base64, then `*` and the MD5
hex of that base64 text. The registration side decrypts them with the same secret."""

import base64
import hashlib
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

INIT_VECTOR = b"tu89geji340t89u2"
SALT = b"\0" * 8
ITERATIONS = 10_000
TIME_FORMAT = "%Y/%m/%d %I:%M:%S"


def _key(secret: str) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA1(), length=32, salt=SALT, iterations=ITERATIONS)  # noqa: S303 - the LoginRadius format
    return kdf.derive(secret.encode())


def sott_make(*, api_key: str, api_secret: str, start: datetime, end: datetime) -> str:
    plaintext = f"{start.strftime(TIME_FORMAT)}#{api_key}#{end.strftime(TIME_FORMAT)}".encode()
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_key(api_secret)), modes.CBC(INIT_VECTOR)).encryptor()
    b64 = base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
    return f"{b64}*{hashlib.md5(b64.encode()).hexdigest()}"  # noqa: S324 - the LoginRadius format


def sott_read(*, token: str, api_secret: str) -> tuple[str, str, str] | None:
    """(start, api_key, end) of a SOTT made with `api_secret`, or None if it is not one."""
    b64, _, digest = token.partition("*")
    if hashlib.md5(b64.encode()).hexdigest() != digest:  # noqa: S324
        return None
    try:
        decryptor = Cipher(algorithms.AES(_key(api_secret)), modes.CBC(INIT_VECTOR)).decryptor()
        padded = decryptor.update(base64.b64decode(b64)) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        text = (unpadder.update(padded) + unpadder.finalize()).decode()
    except ValueError:
        return None
    parts = text.split("#")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def sott_window(now: datetime, minutes: int) -> tuple[datetime, datetime]:
    return now, now + timedelta(minutes=minutes)

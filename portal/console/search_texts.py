"""What was typed in the search box, carried in the results page's URL sealed for this
sign-in alone.

The URL (and so the browser history, the Referer and the access log) never carries the
text: it carries a Fernet token of it, under a key derived from SECRET_KEY and the session's
key. Only a request of the same sign-in opens it; after a sign-out, a new sign-in (which
gets a new session key) or SESSION_COOKIE_AGE, the token opens to nothing. Keeping texts in
the session instead wrote the session on every new search.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.crypto import salted_hmac

SALT = "portal.console.search-text"


def _fernet(session_key: str) -> Fernet:
    digest = salted_hmac(SALT, session_key, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def sealed_search(*, session_key: str, text: str) -> str:
    """`text` sealed for the session `session_key`: URL-safe, without base64's padding."""
    return _fernet(session_key).encrypt(text.encode()).decode().rstrip("=")


def opened_search(*, session_key: str | None, sealed: str) -> str:
    """The text `sealed` holds for this session; "" for any other token, or none."""
    if not session_key or not sealed:
        return ""
    try:
        token = (sealed + "=" * (-len(sealed) % 4)).encode()
        opened = _fernet(session_key).decrypt(token, ttl=settings.SESSION_COOKIE_AGE)
        return opened.decode()
    except (InvalidToken, ValueError, UnicodeError):
        return ""

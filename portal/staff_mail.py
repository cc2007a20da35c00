"""Email to staff members: one message to each person, with links into the console at the
portal's public address (PUBLIC_BASE_URL)."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail


def console_url(path: str) -> str:
    """`path` (from `/console/...`) at the portal's public address, for a link in an email."""
    return getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/") + path


def email_staff(recipients: Iterable[Any], *, subject: str, body: str) -> int:
    """Send `subject` and `body` to each staff user in `recipients` (each with an email), one
    message per person, from the default sender; returns how many were sent."""
    sent = 0
    for user in recipients:
        send_mail(subject, body, None, [user.email])
        sent += 1
    return sent

"""SMS backends: a file backend (the embedded default, under var/sms), a console backend,
and an HTTP backend speaking Twilio's REST API (Messages for text, Calls for voice OTPs)
whose base URL is configurable.

settings.SMS_BACKEND names the class; `sms_send()` is what delivery calls. The id a backend
returns is stored on the outbox row as it is: the provider's own id, "" when the provider
accepted the message without naming it, and "undelivered:<backend>..." from the file and
console backends, which deliver nothing (with DEBUG off they refuse to start, tokens/checks.py).
"""

import json
import logging
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import requests
from django.conf import settings
from django.utils.module_loading import import_string

from tokens.models import OutboxMessage
from tokens.services.multipurpose.delivery import DeliveryError

logger = logging.getLogger("tokens.delivery")


class BaseSmsBackend:
    # False for a backend that keeps messages on this machine (a file, the console): nothing
    # reaches the phone, so with DEBUG off it needs ALLOW_UNDELIVERED_MESSAGES to start.
    delivers = True

    def send(self, *, to: str, body: str, voice: bool = False, idempotency_key: str = "") -> str:
        """Send `body` to `to` (a call reading it out when `voice`); returns the id the
        provider gave the message ("" if it gave none), never one made up here."""
        raise NotImplementedError


class FileSmsBackend(BaseSmsBackend):
    """Writes each SMS as one JSON file in settings.SMS_FILE_PATH; its id says so
    ("undelivered:file:<file name>")."""

    delivers = False

    def send(self, *, to, body, voice=False, idempotency_key=""):
        directory = Path(settings.SMS_FILE_PATH)
        directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        name = f"{stamp}-{idempotency_key or uuid.uuid4().hex}.json"
        sid = f"{OutboxMessage.UNDELIVERED_PREFIX}file:{name}"
        record = {
            "sid": sid,
            "to": to,
            "from": settings.SMS_FROM_NUMBER,
            "body": body,
            "voice": voice,
            "date": datetime.now(UTC).isoformat(),
        }
        (directory / name).write_text(json.dumps(record, indent=2))
        return sid


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints each SMS on stdout; its id says so ("undelivered:console")."""

    delivers = False

    def send(self, *, to, body, voice=False, idempotency_key=""):
        kind = "voice" if voice else "sms"
        sys.stdout.write(
            f"[{kind}, not delivered] to={to} from={settings.SMS_FROM_NUMBER}\n{body}\n\n"
        )
        sys.stdout.flush()
        return f"{OutboxMessage.UNDELIVERED_PREFIX}console"


class HttpSmsBackend(BaseSmsBackend):
    """Twilio's REST shape: POST {base}/2010-04-01/Accounts/{sid}/Messages.json, form-encoded
    To/From/Body, HTTP basic auth (account SID, auth token); 201 with the message "sid".
    Voice OTPs go to .../Calls.json with TwiML that reads the text out."""

    def __init__(self):
        self.base_url = settings.SMS_HTTP_BASE_URL.rstrip("/")
        self.account_sid = settings.SMS_HTTP_ACCOUNT_SID
        self.auth_token = settings.SMS_HTTP_AUTH_TOKEN
        self.timeout = float(getattr(settings, "SMS_HTTP_TIMEOUT", 10.0))

    def send(self, *, to, body, voice=False, idempotency_key=""):
        if not self.base_url or not self.account_sid:
            raise DeliveryError(
                "SMS_HTTP_BASE_URL and SMS_HTTP_ACCOUNT_SID must be set", permanent=True
            )
        resource = "Calls" if voice else "Messages"
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/{resource}.json"
        data = {"To": to, "From": settings.SMS_FROM_NUMBER}
        if voice:
            data["Twiml"] = f"<Response><Say>{escape(body)}</Say></Response>"
        else:
            data["Body"] = body
        headers = {"I-Twilio-Idempotency-Token": idempotency_key} if idempotency_key else {}
        try:
            response = requests.post(
                url,
                data=data,
                auth=(self.account_sid, self.auth_token),
                timeout=self.timeout,
                headers=headers,
            )
        except requests.RequestException as exc:  # timeouts, refused connections
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"provider answered HTTP {response.status_code}")
        if response.status_code >= 400:
            raise DeliveryError(
                f"provider refused with HTTP {response.status_code}: {response.text[:200]}",
                permanent=True,
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        sid = payload.get("sid") if isinstance(payload, dict) else None
        if not sid:
            # Accepted all the same: sending it again would reach the phone twice. The row
            # keeps no id rather than one made up here.
            logger.warning(
                "the SMS provider accepted a message (HTTP %s) without naming it (no sid); "
                "its outbox row records no provider id",
                response.status_code,
            )
            return ""
        return str(sid)


def backend_class() -> type[BaseSmsBackend]:
    return import_string(settings.SMS_BACKEND)


def get_backend() -> BaseSmsBackend:
    return backend_class()()


def sms_send(*, to: str, body: str, voice: bool = False, idempotency_key: str = "") -> str:
    return get_backend().send(to=to, body=body, voice=voice, idempotency_key=idempotency_key)

"""Email delivery through Django's email backends, with per-message-type templates.

A message type's templates live in templates/emails/<name>/: subject.txt, body.txt and
(optionally) body.html; a flat layout (<name>.subject.txt, <name>.txt, <name>.html) works
too. The Message-ID is derived from the outbox idempotency key, so a receiver can tell a
duplicate from a second message; it is the id the outbox row keeps once the server accepted
the message. Django's file, console, in-memory and dummy backends deliver nothing: a message
they took keeps "undelivered:<backend>:<Message-ID>", and with DEBUG off they refuse to start
(tokens/checks.py).
"""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends import console, dummy, filebased, locmem
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.module_loading import import_string

from tokens.models import OutboxMessage
from tokens.services.multipurpose.delivery import DeliveryError

# Django's backends that keep mail on this machine, most specific first (the file backend
# is a kind of console backend).
UNDELIVERED_BACKENDS: tuple[tuple[type, str], ...] = (
    (filebased.EmailBackend, "file"),
    (console.EmailBackend, "console"),
    (locmem.EmailBackend, "locmem"),
    (dummy.EmailBackend, "dummy"),
)


def undelivered_backend_kind(backend: type) -> str | None:
    """ "file", "console", "locmem" or "dummy" when `backend` (a class) delivers nothing."""
    for cls, kind in UNDELIVERED_BACKENDS:
        if issubclass(backend, cls):
            return kind
    return None


def email_backend_class() -> type:
    return import_string(settings.EMAIL_BACKEND)


def _render(names: list[str], context: dict) -> str | None:
    for name in names:
        try:
            template = get_template(name)
        except TemplateDoesNotExist:
            continue
        return template.render(context)
    return None


def email_render(template: str, context: dict) -> tuple[str, str, str | None]:
    """(subject, text body, HTML body or None) of `template` rendered with `context`."""
    subject = _render([f"emails/{template}/subject.txt", f"emails/{template}.subject.txt"], context)
    text = _render([f"emails/{template}/body.txt", f"emails/{template}.txt"], context)
    html = _render([f"emails/{template}/body.html", f"emails/{template}.html"], context)
    if text is None:
        raise DeliveryError(f"email template {template!r} has no text body", permanent=True)
    return " ".join((subject or "").split()), text, html


def _smtp_permanent(exc: Exception) -> bool:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [value[0] for value in exc.recipients.values()]
        return bool(codes) and all(500 <= c < 600 for c in codes)
    return isinstance(code, int) and 500 <= code < 600


def email_send(*, to: str, template: str, context: dict, idempotency_key: str) -> str:
    """Render and send one email; returns its Message-ID, prefixed "undelivered:<backend>:"
    when the backend keeps it on this machine. Raises DeliveryError."""
    subject, text, html = email_render(template, context)
    message_id = (
        f"<{idempotency_key}@{settings.DEFAULT_FROM_EMAIL.rpartition('@')[2] or 'portal.local'}>"
    )
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_id},
    )
    if html:
        email.attach_alternative(html, "text/html")
    try:
        connection = get_connection(fail_silently=False)
        sent = connection.send_messages([email])
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=_smtp_permanent(exc)) from exc
    if not sent:
        raise DeliveryError("the email backend did not send the message")
    kind = undelivered_backend_kind(type(connection))
    if kind is not None:
        return f"{OutboxMessage.UNDELIVERED_PREFIX}{kind}:{message_id}"
    return message_id

"""Email delivery through Django's email backends, with per-message-type templates.

A message type's templates live in templates/emails/<name>/: subject.txt, body.txt and
(optionally) body.html; a flat layout (<name>.subject.txt, <name>.txt, <name>.html) works
too. The Message-ID is derived from the outbox idempotency key, so a receiver can tell a
duplicate from a second message.
"""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from tokens.services.multipurpose.delivery import DeliveryError


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
    """Render and send one email; returns its Message-ID. Raises DeliveryError."""
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
    return message_id

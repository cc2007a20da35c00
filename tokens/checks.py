"""System checks of message delivery: no pretend delivery in production.

With DEBUG off, a mail or SMS backend that only writes files, prints or keeps messages in
memory would mark verification mails and one-time codes "sent" while nobody receives them.
Such a configuration is an error unless the operator says it is meant
(ALLOW_UNDELIVERED_MESSAGES=1):

- `manage.py check --deploy` always refuses it;
- every other command that runs the checks (`check`, `migrate`, `runserver`) refuses it
  when DATABASE_URL is set. The embedded default (no DATABASE_URL: SQLite under var/, mail
  and SMS written to files) is a development installation, as it is for
  FIELD_ENCRYPTION_KEY, so `make migrate` and `make demo-tenant` run there without DEBUG.

The HTTP SMS backend without its provider settings is an error whatever DEBUG says: every
message would fail.
"""

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from tokens import mail, sms

OVERRIDE = "ALLOW_UNDELIVERED_MESSAGES"
TAG = "messages"


def _backend(setting: str, load) -> tuple[type | None, Error | None]:
    try:
        backend = load()
    except ImportError as exc:
        problem = f"cannot be imported: {exc}"
    else:
        if isinstance(backend, type):
            return backend, None
        problem = "is not a class"
    return None, Error(
        f"{setting} = {getattr(settings, setting)!r} {problem}",
        hint=f"Set {setting} to the dotted path of a backend class.",
        id="tokens.E004",
    )


def _undelivered_errors(email_backend: type | None, sms_backend: type | None) -> list[Error]:
    if settings.DEBUG or settings.ALLOW_UNDELIVERED_MESSAGES:
        return []
    errors = []
    kind = mail.undelivered_backend_kind(email_backend) if email_backend else None
    if kind is not None:
        errors.append(
            Error(
                f"EMAIL_BACKEND is Django's {kind} backend ({settings.EMAIL_BACKEND}) with DEBUG "
                "off: verification mails and codes would be marked sent and never reach anyone.",
                hint=(
                    "Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with "
                    "EMAIL_HOST, EMAIL_PORT (and EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, "
                    f"EMAIL_USE_TLS), or {OVERRIDE}=1 if no mail is to leave this machine."
                ),
                id="tokens.E001",
            )
        )
    if sms_backend is not None and not getattr(sms_backend, "delivers", True):
        errors.append(
            Error(
                f"SMS_BACKEND is {settings.SMS_BACKEND}, which delivers nothing, with DEBUG "
                "off: one-time codes would be marked sent and never reach a phone.",
                hint=(
                    "Set SMS_BACKEND=tokens.sms.HttpSmsBackend with SMS_HTTP_BASE_URL, "
                    "SMS_HTTP_ACCOUNT_SID, SMS_HTTP_AUTH_TOKEN and SMS_FROM_NUMBER, or "
                    f"{OVERRIDE}=1 if no SMS is to leave this machine."
                ),
                id="tokens.E002",
            )
        )
    return errors


def _http_sms_errors(sms_backend: type | None) -> list[Error]:
    if sms_backend is None or not issubclass(sms_backend, sms.HttpSmsBackend):
        return []
    required = (
        "SMS_HTTP_BASE_URL",
        "SMS_HTTP_ACCOUNT_SID",
        "SMS_HTTP_AUTH_TOKEN",
        "SMS_FROM_NUMBER",
    )
    missing = [name for name in required if not str(getattr(settings, name, "") or "").strip()]
    if not missing:
        return []
    verb = "is" if len(missing) == 1 else "are"
    return [
        Error(
            f"SMS_BACKEND is the HTTP provider backend but {', '.join(missing)} {verb} not set: "
            "every SMS would fail.",
            hint="Set the provider's base URL, account SID, auth token and sender number.",
            id="tokens.E003",
        )
    ]


def _backends() -> tuple[type | None, type | None, list[CheckMessage]]:
    email_backend, email_error = _backend("EMAIL_BACKEND", mail.email_backend_class)
    sms_backend, sms_error = _backend("SMS_BACKEND", sms.backend_class)
    return email_backend, sms_backend, [e for e in (email_error, sms_error) if e]


@register(TAG)
def message_delivery_check(app_configs=None, **kwargs) -> list[CheckMessage]:
    """Run by every command that checks (`check`, `migrate`, `runserver`)."""
    email_backend, sms_backend, errors = _backends()
    errors += _http_sms_errors(sms_backend)
    if not settings.EMBEDDED_DATABASE:
        errors += _undelivered_errors(email_backend, sms_backend)
    return errors


@register(TAG, deploy=True)
def message_delivery_deploy_check(app_configs=None, **kwargs) -> list[CheckMessage]:
    """Under `check --deploy` the embedded database is no excuse (with a DATABASE_URL the
    check above has reported it already)."""
    if not settings.EMBEDDED_DATABASE:
        return []
    email_backend, sms_backend, _ = _backends()
    return list(_undelivered_errors(email_backend, sms_backend))

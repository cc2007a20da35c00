"""Checks a serving process runs as it starts. gunicorn and Celery run none of Django's
system checks themselves, so the ones that must stop a process are run here."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# Tags whose errors stop a web or worker process (tokens/checks.py: a mail or SMS backend
# that would mark messages sent without delivering them).
STARTUP_TAGS = ("messages",)


def refuse_to_start_on_serious_checks() -> None:
    serious = [message for message in checks.run_checks(tags=STARTUP_TAGS) if message.is_serious()]
    if serious:
        raise ImproperlyConfigured(
            "refusing to start:\n" + "\n".join(str(message) for message in serious)
        )

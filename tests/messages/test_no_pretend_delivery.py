"""No pretend delivery in production: with DEBUG off, mail and SMS backends that deliver
nothing are refused by a system check unless ALLOW_UNDELIVERED_MESSAGES is set; and the
provider id an outbox row keeps is the one the provider gave, never one made up."""

import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail as django_mail
from django.db import transaction
from django.test import override_settings

from portal.audit import Actor
from tests.factories import AccountFactory
from tests.portal.test_deployment import PRODUCTION as PRODUCTION_ENV
from tests.portal.test_deployment import deploy_check
from tokens import checks
from tokens.commands import PhoneVerificationSend, VerificationEmailSend
from tokens.models import OutboxMessage
from tokens.services import multipurpose as service
from tokens.sms import FileSmsBackend

SMTP = "django.core.mail.backends.smtp.EmailBackend"
HTTP_SMS = "tokens.sms.HttpSmsBackend"
REAL_DELIVERY = {
    "EMAIL_BACKEND": SMTP,
    "SMS_BACKEND": HTTP_SMS,
    "SMS_HTTP_BASE_URL": "https://api.twilio.com",
    "SMS_HTTP_ACCOUNT_SID": "AC" + "1" * 32,
    "SMS_HTTP_AUTH_TOKEN": "a-token",
    "SMS_FROM_NUMBER": "+15551234567",
}
PRODUCTION = {"DEBUG": False, "EMBEDDED_DATABASE": False, "ALLOW_UNDELIVERED_MESSAGES": False}
MAIL_BACKENDS = {
    "django.core.mail.backends.filebased.EmailBackend": "file",
    "django.core.mail.backends.console.EmailBackend": "console",
    "django.core.mail.backends.locmem.EmailBackend": "locmem",
    "django.core.mail.backends.dummy.EmailBackend": "dummy",
}
SMS_BACKENDS = ["tokens.sms.FileSmsBackend", "tokens.sms.ConsoleSmsBackend"]


class QuietFileSmsBackend(FileSmsBackend):
    """A project's own variant of the file backend: still delivers nothing."""


def ids(messages) -> list[str]:
    return sorted(message.id for message in messages)


def all_checks() -> list[str]:
    """What `check --deploy` reports of message delivery (both registered checks)."""
    return ids(checks.message_delivery_check() + checks.message_delivery_deploy_check())


# --- The system check ---------------------------------------------------------------------


@pytest.mark.parametrize("backend", list(MAIL_BACKENDS))
def test_a_mail_backend_that_delivers_nothing_is_refused_with_debug_off(backend):
    with override_settings(**{**REAL_DELIVERY, **PRODUCTION, "EMAIL_BACKEND": backend}):
        [error] = checks.message_delivery_check()
        assert error.id == "tokens.E001" and error.is_serious()
        assert MAIL_BACKENDS[backend] in error.msg and "ALLOW_UNDELIVERED_MESSAGES" in error.hint
        assert checks.message_delivery_deploy_check() == []  # reported once


@pytest.mark.parametrize(
    "backend", [*SMS_BACKENDS, f"{__name__}.QuietFileSmsBackend"], ids=lambda b: b.split(".")[-1]
)
def test_an_sms_backend_that_delivers_nothing_is_refused_with_debug_off(backend):
    with override_settings(**{**REAL_DELIVERY, **PRODUCTION, "SMS_BACKEND": backend}):
        [error] = checks.message_delivery_check()
        assert error.id == "tokens.E002" and error.is_serious()
        assert backend in error.msg


def test_the_embedded_defaults_are_refused_together():
    with override_settings(
        **PRODUCTION,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        SMS_BACKEND="tokens.sms.FileSmsBackend",
    ):
        assert all_checks() == ["tokens.E001", "tokens.E002"]


@pytest.mark.parametrize(
    "allowed", [{"ALLOW_UNDELIVERED_MESSAGES": True}, {"DEBUG": True}], ids=["override", "debug"]
)
def test_the_override_or_debug_lets_them_start(allowed):
    with override_settings(
        **{**PRODUCTION, **allowed},
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        SMS_BACKEND="tokens.sms.ConsoleSmsBackend",
    ):
        assert all_checks() == []


@pytest.mark.parametrize("embedded", [False, True])
def test_smtp_and_the_http_provider_pass(embedded):
    with override_settings(**{**REAL_DELIVERY, **PRODUCTION, "EMBEDDED_DATABASE": embedded}):
        assert all_checks() == []


def test_the_embedded_database_starts_without_debug_but_fails_the_deploy_check():
    """`make migrate` and `make demo-tenant` run on the embedded default without DEBUG; a
    deployment check of that configuration still fails."""
    with override_settings(
        **{**PRODUCTION, "EMBEDDED_DATABASE": True},
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        SMS_BACKEND="tokens.sms.FileSmsBackend",
    ):
        assert checks.message_delivery_check() == []
        assert ids(checks.message_delivery_deploy_check()) == ["tokens.E001", "tokens.E002"]


@pytest.mark.parametrize("debug", [False, True])
def test_the_http_sms_backend_without_its_account_is_refused(debug):
    unset = {"SMS_HTTP_ACCOUNT_SID": "", "SMS_HTTP_AUTH_TOKEN": " "}
    with override_settings(**{**REAL_DELIVERY, **PRODUCTION, "DEBUG": debug, **unset}):
        [error] = checks.message_delivery_check()
    assert error.id == "tokens.E003"
    assert "SMS_HTTP_ACCOUNT_SID, SMS_HTTP_AUTH_TOKEN are not set" in error.msg


def test_a_backend_that_cannot_be_imported_is_refused():
    with override_settings(**{**REAL_DELIVERY, **PRODUCTION, "SMS_BACKEND": "tokens.sms.NoSuch"}):
        [error] = checks.message_delivery_check()
    assert error.id == "tokens.E004" and "tokens.sms.NoSuch" in error.msg


def test_deploy_check_refuses_file_backends_in_a_production_environment():
    """`manage.py check --deploy` (what `make check` runs) fails with the file backends, and
    passes once the operator allows undelivered messages."""
    result = deploy_check(
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        SMS_BACKEND="tokens.sms.FileSmsBackend",
        ALLOW_UNDELIVERED_MESSAGES="0",
    )
    assert result.returncode != 0
    assert "tokens.E001" in result.stderr and "tokens.E002" in result.stderr
    allowed = deploy_check(
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        SMS_BACKEND="tokens.sms.FileSmsBackend",
        ALLOW_UNDELIVERED_MESSAGES="1",
    )
    # (Other sections' warnings are test_deployment's business; none of these is left.)
    assert "tokens.E00" not in allowed.stdout + allowed.stderr
    assert "Traceback" not in allowed.stderr, allowed.stderr


def _start(program: str, **overrides: str) -> subprocess.CompletedProcess:
    """Run `program` as a serving process would start, under the production environment
    (test_deployment.PRODUCTION, which points at hosts that do not exist: nothing here
    connects before the checks)."""
    env = {**os.environ, **PRODUCTION_ENV, **overrides}
    for name in ("PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", program],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


FILE_BACKENDS = {
    "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
    "SMS_BACKEND": "tokens.sms.FileSmsBackend",
}
WSGI = "import portal.wsgi"
WORKER = (
    "import django\n"
    "from portal.celery import app\n"
    "django.setup()\n"
    "from celery import signals\n"
    "signals.worker_init.send(sender=None)\n"
)


@pytest.mark.parametrize("program", [WSGI, WORKER], ids=["gunicorn app", "celery worker"])
def test_a_web_or_worker_process_refuses_to_start_with_backends_that_deliver_nothing(program):
    """gunicorn and Celery run no system checks of their own: the WSGI module and the
    worker's init signal run the delivery check (portal/startup.py)."""
    refused = _start(program, **FILE_BACKENDS, ALLOW_UNDELIVERED_MESSAGES="0")
    assert refused.returncode != 0
    assert "refusing to start" in refused.stderr and "tokens.E002" in refused.stderr
    allowed = _start(program, **FILE_BACKENDS, ALLOW_UNDELIVERED_MESSAGES="1")
    assert allowed.returncode == 0, allowed.stderr
    real = _start(program)  # the production environment's SMTP relay and HTTP SMS provider
    assert real.returncode == 0, real.stderr


def test_a_real_celery_worker_exits_instead_of_serving_with_a_file_sms_backend():
    env = {**os.environ, **PRODUCTION_ENV, **FILE_BACKENDS, "ALLOW_UNDELIVERED_MESSAGES": "0"}
    env.pop("PYTEST_CURRENT_TEST", None)
    celery = str(Path(sys.executable).with_name("celery"))
    result = subprocess.run(
        [celery, "-A", "portal", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "refusing to start" in result.stdout + result.stderr


# --- Provider ids -------------------------------------------------------------------------


@pytest.fixture
def person(tenant):
    account = AccountFactory(tenant=tenant, email="person@example.com", first_name="Pat")
    account.phone_id = "+14155550123"
    account.save()
    return account


def _send_email(tenant, person, capture):
    with capture(execute=True), transaction.atomic():
        service.verification_email_send(
            VerificationEmailSend(email="person@example.com"),
            tenant=tenant,
            account=person,
            actor=Actor.system("test"),
        )
    return OutboxMessage.objects.get()


def _send_sms(tenant, person, capture):
    with capture(execute=True), transaction.atomic():
        issued = service.phone_verification_send(
            PhoneVerificationSend(), tenant=tenant, account=person, actor=Actor.system("test")
        )
    return issued, OutboxMessage.objects.get()


def test_smtp_message_keeps_the_message_id_the_server_accepted(
    tenant, person, smtp_mail, eager_tasks, django_capture_on_commit_callbacks
):
    message = _send_email(tenant, person, django_capture_on_commit_callbacks)
    [received] = smtp_mail.handler.wait_for(1)
    assert message.status == "sent" and message.delivered
    assert message.provider_message_id == received["Message-ID"]
    assert message.provider_message_id == f"<{message.idempotency_key}@portal.local>"


def test_sms_keeps_the_sid_the_provider_returned(
    tenant, person, sms_provider, eager_tasks, django_capture_on_commit_callbacks
):
    _, message = _send_sms(tenant, person, django_capture_on_commit_callbacks)
    [request] = sms_provider.requests
    assert message.status == "sent" and message.delivered
    assert message.provider_message_id == request["sid"]


class NamelessProvider:
    """Twilio's Messages resource answering 201 without a "sid" (or with no JSON at all)."""

    def __init__(self, body: bytes):
        self.requests: list[str] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                provider.requests.append(self.rfile.read(length).decode())
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "body", [json.dumps({"status": "queued"}).encode(), b"", b"[]"], ids=["no-sid", "empty", "list"]
)
def test_sms_accepted_without_an_id_keeps_none_and_is_not_sent_twice(
    tenant, person, settings, body, caplog, eager_tasks, django_capture_on_commit_callbacks
):
    provider = NamelessProvider(body)
    try:
        settings.SMS_BACKEND = HTTP_SMS
        settings.SMS_HTTP_BASE_URL = provider.url
        settings.SMS_HTTP_ACCOUNT_SID = "AC" + "0" * 32
        settings.SMS_HTTP_AUTH_TOKEN = "test-auth-token"
        with caplog.at_level(logging.WARNING, logger="tokens.delivery"):
            issued, message = _send_sms(tenant, person, django_capture_on_commit_callbacks)
        assert service.message_deliver(message_id=message.pk).status == "skipped"
    finally:
        provider.stop()
    [request] = provider.requests
    assert issued.value in request
    assert message.status == "sent" and message.provider_message_id == ""
    assert "without naming it" in caplog.text


def test_file_sms_backend_marks_the_message_undelivered(
    tenant, person, settings, tmp_path, eager_tasks, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "tokens.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    _, message = _send_sms(tenant, person, django_capture_on_commit_callbacks)
    [path] = list((tmp_path / "sms").iterdir())
    assert message.provider_message_id == f"undelivered:file:{path.name}"
    assert str(message.idempotency_key) in path.name
    assert json.loads(path.read_text())["sid"] == message.provider_message_id
    assert message.status == "sent" and not message.delivered


def test_console_sms_backend_marks_the_message_undelivered(
    tenant, person, settings, capsys, eager_tasks, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "tokens.sms.ConsoleSmsBackend"
    issued, message = _send_sms(tenant, person, django_capture_on_commit_callbacks)
    out = capsys.readouterr().out
    assert "not delivered" in out and issued.value in out
    assert message.provider_message_id == "undelivered:console" and not message.delivered


def test_file_mail_backend_marks_the_message_undelivered(
    tenant, person, settings, tmp_path, eager_tasks, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    message = _send_email(tenant, person, django_capture_on_commit_callbacks)
    message_id = f"<{message.idempotency_key}@portal.local>"
    assert message.provider_message_id == f"undelivered:file:{message_id}"
    [path] = list(Path(tmp_path / "mail").iterdir())
    assert f"Message-ID: {message_id}" in path.read_text()
    assert message.status == "sent" and not message.delivered


def test_in_memory_mail_backend_marks_the_message_undelivered(
    tenant, person, settings, eager_tasks, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = _send_email(tenant, person, django_capture_on_commit_callbacks)
    [sent] = django_mail.outbox
    assert message.provider_message_id == f"undelivered:locmem:{sent.extra_headers['Message-ID']}"
    assert not message.delivered

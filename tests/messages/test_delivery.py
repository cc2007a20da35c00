"""The outbox and its delivery: real SMTP on loopback, a local Twilio-shaped provider,
claims, retries, expiry, rollback and the relay."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portal.audit import Actor
from tests.factories import AccountFactory
from tokens.commands import PhoneVerificationSend, VerificationEmailSend
from tokens.models import OutboxMessage
from tokens.services import multipurpose as service

M = "/identity/v2/manage/account"


@pytest.fixture
def person(tenant):
    account = AccountFactory(tenant=tenant, email="person@example.com", first_name="Pat")
    account.phone_id = "+14155550123"
    account.save()
    return account


def _queue_verification(tenant, account, capture, **kwargs):
    with capture(execute=False) as callbacks:
        issued = service.verification_email_send(
            VerificationEmailSend(email="person@example.com", **kwargs),
            tenant=tenant,
            account=account,
            actor=Actor.system("test"),
        )
    return issued, callbacks


def test_api_call_mail_arrives_at_real_smtp_server(
    lr, person, smtp_mail, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = lr.post(
            f"{M}/forgot/token",
            {"email": "person@example.com"},
            params={"sendemail": "true", "resetpasswordurl": "https://app.example/r"},
        )
    token = response.json()["ForgotToken"]
    [received] = smtp_mail.handler.wait_for(1)
    assert received["To"] == "person@example.com"
    assert received["Subject"] == "Reset your password"
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert f"https://app.example/r?vtype=reset&vtoken={token}" in text
    assert f"vtoken={token}" in html and "Hello Pat" in text
    message = OutboxMessage.objects.get()
    assert message.status == "sent" and message.attempts == 1 and message.sent_at is not None
    assert received["Message-ID"] == message.provider_message_id
    assert str(message.idempotency_key) in message.provider_message_id
    assert message.context_encrypted == ""  # the plain token is gone once sent


def test_outbox_row_keeps_token_only_encrypted(tenant, person, django_capture_on_commit_callbacks):
    issued, _ = _queue_verification(tenant, person, django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get()
    assert message.status == "queued" and message.token_id == issued.token.pk
    assert issued.value not in message.context_encrypted
    assert service.message_context(message)["token"] == issued.value
    assert message.expires_at == issued.token.expires_at


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_sends_nothing(tenant, person, smtp_mail, eager_tasks):
    with pytest.raises(RuntimeError), transaction.atomic():
        service.verification_email_send(
            VerificationEmailSend(email="person@example.com"),
            tenant=tenant,
            account=person,
            actor=Actor.system("test"),
        )
        raise RuntimeError("the caller failed after queueing")
    assert not OutboxMessage.objects.exists()
    assert not person.multipurpose_tokens.exists()
    with transaction.atomic():
        service.verification_email_send(
            VerificationEmailSend(email="person@example.com"),
            tenant=tenant,
            account=person,
            actor=Actor.system("test"),
        )
    assert (
        len(smtp_mail.handler.wait_for(1)) == 1
    )  # committed: sent (and the cooldown was not used up)


def test_claim_makes_delivery_idempotent(
    tenant, person, smtp_mail, django_capture_on_commit_callbacks
):
    _queue_verification(tenant, person, django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get()
    assert service.message_deliver(message_id=message.pk).status == "sent"
    assert service.message_deliver(message_id=message.pk).status == "skipped"
    assert len(smtp_mail.handler.wait_for(1, timeout=1)) == 1


def test_message_held_by_a_live_claim_is_not_sent_again(
    tenant, person, smtp_mail, django_capture_on_commit_callbacks
):
    _queue_verification(tenant, person, django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status="sending", claimed_at=timezone.now(), attempts=1
    )
    outcome = service.message_deliver(message_id=message.pk)
    assert outcome.status == "busy" and outcome.retry_in > 0
    assert smtp_mail.messages == []
    # A claim older than the lease belongs to a worker that died: it is taken over.
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now() - timedelta(hours=1)
    )
    assert service.message_deliver(message_id=message.pk).status == "sent"
    assert len(smtp_mail.handler.wait_for(1)) == 1
    assert OutboxMessage.objects.get().attempts == 2


def test_transient_smtp_failure_is_retried_with_backoff_then_gives_up(
    tenant, person, smtp_mail, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp_mail.handler.refuse_with = "451 try again later"
    _queue_verification(tenant, person, django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get()
    outcome = service.message_deliver(message_id=message.pk)
    assert outcome.status == "retry" and 0 < outcome.retry_in < settings.CELERY_MAX_RETRY_DELAY
    message.refresh_from_db()
    assert message.status == "queued" and message.attempts == 1 and "451" in message.last_error
    assert message.available_at > timezone.now()
    assert service.message_deliver(message_id=message.pk).status == "busy"  # not before the backoff
    for _attempt in (2, 3):
        OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
        outcome = service.message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert outcome.status == "failed" and message.status == "failed" and message.attempts == 3
    assert message.context_encrypted == ""
    assert smtp_mail.messages == []


def test_permanent_smtp_refusal_fails_at_once(
    tenant, person, smtp_mail, django_capture_on_commit_callbacks
):
    smtp_mail.handler.refuse_with = "550 mailbox unavailable"
    _queue_verification(tenant, person, django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get()
    assert service.message_deliver(message_id=message.pk).status == "failed"
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == 1 and "550" in message.last_error


def test_unreachable_smtp_server_is_transient(
    tenant, person, settings, django_capture_on_commit_callbacks
):
    from tests.messages.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    _queue_verification(tenant, person, django_capture_on_commit_callbacks)
    assert service.message_deliver(message_id=OutboxMessage.objects.get().pk).status == "retry"


def test_retry_delay_grows_with_jitter_and_stays_below_the_cap(settings):
    settings.CELERY_MAX_RETRY_DELAY = 60
    delays = [[service.retry_delay(n) for _ in range(50)] for n in range(1, 12)]
    assert max(delays[0]) <= 2.0 and min(delays[3]) >= 8.0
    assert len({round(d, 3) for d in delays[5]}) > 10  # jittered
    assert max(max(d) for d in delays) < 60


def test_expired_token_is_never_sent(tenant, person, smtp_mail, django_capture_on_commit_callbacks):
    _queue_verification(tenant, person, django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert service.message_deliver(message_id=message.pk).status == "failed"
    message.refresh_from_db()
    assert message.status == "failed" and message.last_error == "expired before delivery"
    assert smtp_mail.messages == []


def test_superseded_token_is_not_sent(
    tenant, person, smtp_mail, django_capture_on_commit_callbacks
):
    tenant.settings = {"send_cooldown_seconds": 0}
    tenant.save()
    _queue_verification(tenant, person, django_capture_on_commit_callbacks)
    _queue_verification(tenant, person, django_capture_on_commit_callbacks)
    old, new = OutboxMessage.objects.order_by("id")
    assert service.message_deliver(message_id=old.pk).status == "failed"
    assert service.message_deliver(message_id=new.pk).status == "sent"
    assert len(smtp_mail.handler.wait_for(1)) == 1


def test_relay_hands_stuck_messages_to_the_broker(
    tenant, person, smtp_mail, settings, eager_tasks, django_capture_on_commit_callbacks
):
    settings.OUTBOX_RELAY_AFTER_SECONDS = 30
    _queue_verification(
        tenant, person, django_capture_on_commit_callbacks
    )  # scheduled callback dropped
    assert service.outbox_relay() == 0  # too young: its own task may still be on the way
    OutboxMessage.objects.update(modified=timezone.now() - timedelta(minutes=5))
    assert service.outbox_relay() == 1
    assert OutboxMessage.objects.get().status == "sent"
    assert len(smtp_mail.handler.wait_for(1)) == 1
    assert service.outbox_relay() == 0


def test_message_enqueue_contract_with_unknown_template_uses_generic(
    tenant, person, smtp_mail, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        service.message_enqueue(
            tenant=tenant,
            account=person,
            channel="email",
            template="no-such-template",
            recipient="person@example.com",
            context={"subject": "Your code", "code": "123456"},
        )
    [received] = smtp_mail.handler.wait_for(1)
    assert received["Subject"] == "Your code"
    assert "Your code is 123456." in received.get_body(("plain",)).get_content()
    assert OutboxMessage.objects.get().template == "generic"


# --- SMS -----------------------------------------------------------------------------------


def test_phone_verification_sms_through_twilio_shaped_provider(
    tenant, person, sms_provider, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        issued = service.phone_verification_send(
            PhoneVerificationSend(), tenant=tenant, account=person, actor=Actor.system("test")
        )
    [request] = sms_provider.requests
    assert request["path"].endswith("/Messages.json")
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["form"]["To"] == "+14155550123"
    assert request["form"]["From"] == "+15005550006"
    assert issued.value in request["form"]["Body"]
    message = OutboxMessage.objects.get()
    assert message.status == "sent" and message.provider_message_id == request["sid"]


def test_voice_otp_goes_to_the_calls_resource(
    tenant, person, sms_provider, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        issued = service.phone_verification_send(
            PhoneVerificationSend(voice=True),
            tenant=tenant,
            account=person,
            actor=Actor.system("test"),
        )
    [request] = sms_provider.requests
    assert request["path"].endswith("/Calls.json")
    assert (
        request["form"]["Twiml"].startswith("<Response><Say>")
        and issued.value in request["form"]["Twiml"]
    )


@pytest.mark.parametrize("failure", [500, 503, 429, "timeout"])
def test_sms_provider_5xx_and_timeouts_are_retried(
    tenant, person, sms_provider, failure, django_capture_on_commit_callbacks
):
    sms_provider.script = [failure]
    sms_provider.timeout_sleep = 1.5
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        service.phone_verification_send(
            PhoneVerificationSend(), tenant=tenant, account=person, actor=Actor.system("test")
        )
    message = OutboxMessage.objects.get()
    assert service.message_deliver(message_id=message.pk).status == "retry"
    message.refresh_from_db()
    assert message.status == "queued" and message.last_error
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert service.message_deliver(message_id=message.pk).status == "sent"
    assert len(sms_provider.requests) == 1


def test_sms_provider_4xx_is_permanent(
    tenant, person, sms_provider, django_capture_on_commit_callbacks
):
    sms_provider.script = [400]
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        service.phone_verification_send(
            PhoneVerificationSend(), tenant=tenant, account=person, actor=Actor.system("test")
        )
    message = OutboxMessage.objects.get()
    assert service.message_deliver(message_id=message.pk).status == "failed"
    assert "400" in OutboxMessage.objects.get().last_error


def test_wrong_provider_credentials_fail(
    tenant, person, sms_provider, settings, django_capture_on_commit_callbacks
):
    settings.SMS_HTTP_AUTH_TOKEN = "wrong"
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        service.phone_verification_send(
            PhoneVerificationSend(), tenant=tenant, account=person, actor=Actor.system("test")
        )
    assert service.message_deliver(message_id=OutboxMessage.objects.get().pk).status == "failed"
    assert sms_provider.requests == []


def test_file_sms_backend_is_the_embedded_default(
    tenant, person, settings, tmp_path, eager_tasks, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "tokens.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        issued = service.phone_verification_send(
            PhoneVerificationSend(), tenant=tenant, account=person, actor=Actor.system("test")
        )
    [path] = list((tmp_path / "sms").iterdir())
    record = json.loads(path.read_text())
    assert (
        record["to"] == "+14155550123"
        and issued.value in record["body"]
        and record["voice"] is False
    )
    assert OutboxMessage.objects.get().provider_message_id == record["sid"]


def test_console_sms_backend_prints(
    tenant, person, settings, capsys, eager_tasks, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "tokens.sms.ConsoleSmsBackend"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        issued = service.phone_verification_send(
            PhoneVerificationSend(), tenant=tenant, account=person, actor=Actor.system("test")
        )
    out = capsys.readouterr().out
    assert "to=+14155550123" in out and issued.value in out


def test_a_tenant_can_override_a_template(
    tenant, person, settings, tmp_path, eager_tasks, django_capture_on_commit_callbacks
):
    from django.core import mail

    base = tmp_path / "emails" / "tenants" / tenant.slug / "emailverification"
    base.mkdir(parents=True)
    (base / "subject.txt").write_text("Welcome to {{ email }}")
    (base / "body.txt").write_text("Tenant text {{ link }}")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        issued = service.verification_email_send(
            VerificationEmailSend(email="person@example.com"),
            tenant=tenant,
            account=person,
            actor=Actor.system("test"),
        )
    [sent] = mail.outbox
    assert sent.subject == "Welcome to person@example.com"
    assert sent.body.startswith("Tenant text ") and issued.value in sent.body
    assert sent.alternatives == []  # this tenant's template has no HTML part
    assert OutboxMessage.objects.get().template == f"tenants/{tenant.slug}/emailverification"

"""`POST /api/v1/messages/{id}/resend`: an outbox message that was sent or failed goes back
to the queue through the MessageResend command (one `message.resent` event), while its
content is still held; delivery then sends it through the real SMTP server on loopback."""

import pytest

from portal.audit import Actor
from portal.models import AuditEvent
from tests.conftest import LRClient
from tests.factories import AccountFactory, ApiCredentialFactory
from tokens.commands import VerificationEmailSend
from tokens.models import OutboxMessage
from tokens.services import multipurpose as service

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def path(message_id) -> str:
    return f"/api/v1/messages/{message_id}/resend"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    return response.json()


def notice(account, capture, **kwargs) -> OutboxMessage:
    """A message the way a service writes one (queued; its delivery captured, not run)."""
    with capture(execute=False):
        return service.message_enqueue(
            tenant=account.tenant,
            account=account,
            channel="email",
            template="notice",
            recipient="pat@example.com",
            context={"subject": "Your account", "body": "Something changed."},
            check_limits=False,
            **kwargs,
        )


def state():
    return (
        sorted(
            OutboxMessage.objects.values_list(
                "pk", "status", "attempts", "context_encrypted", "available_at"
            )
        ),
        AuditEvent.objects.count(),
    )


def test_a_failed_message_with_its_content_is_queued_and_delivered_again(
    lr, account, smtp_mail, eager_tasks, django_capture_on_commit_callbacks
):
    message = notice(account, django_capture_on_commit_callbacks)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status="failed", attempts=5, last_error="550 mailbox unavailable"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = lr.post(path(message.pk), HTTP_X_REASON="mailbox fixed", HTTP_X_TICKET="S-9")
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["id"], body["status"], body["attempts"]) == (message.pk, "queued", 0)
    assert body["created_at"].endswith("Z")
    [received] = smtp_mail.handler.wait_for(1)
    assert received["To"] == "pat@example.com"
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 1 and message.last_error == ""
    event = AuditEvent.objects.get(action="message.resent")
    assert (event.reason, event.ticket, event.subject_uid) == ("mailbox fixed", "S-9", account.uid)
    assert event.diff["status"] == ["failed", "queued"] and event.diff["message"] == message.pk


def test_a_sent_message_whose_content_was_erased_is_409(
    lr, account, smtp_mail, django_capture_on_commit_callbacks
):
    message = notice(account, django_capture_on_commit_callbacks)
    assert service.message_deliver(message_id=message.pk).status == "sent"
    message.refresh_from_db()
    assert message.context_encrypted == ""
    before = state()
    body = problem(lr.post(path(message.pk)), 409, "message.not_resendable")
    assert "new token" in body["detail"]
    assert state() == before


def test_a_message_still_queued_or_expired_is_409(lr, account, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    queued = notice(account, django_capture_on_commit_callbacks)
    expired = notice(account, django_capture_on_commit_callbacks)
    OutboxMessage.objects.filter(pk=expired.pk).update(
        status="failed", expires_at=timezone.now() - timedelta(minutes=1)
    )
    before = state()
    problem(lr.post(path(queued.pk)), 409, "message.not_resendable")
    problem(lr.post(path(expired.pk)), 409, "message.not_resendable")
    assert state() == before


def test_a_message_whose_token_was_used_is_409(lr, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        issued = service.verification_email_send(
            VerificationEmailSend(email=account.emails.first().value),
            tenant=account.tenant,
            account=account,
            actor=Actor.system("test"),
        )
    message = OutboxMessage.objects.get(token__isnull=False)
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed")
    message.token.used_at = message.token.created
    message.token.save(update_fields=["used_at"])
    assert issued is not None
    before = state()
    problem(lr.post(path(message.pk)), 409, "message.not_resendable")
    assert state() == before


def test_another_tenants_or_unknown_message_is_404(
    lr, lr_other, other_tenant, django_capture_on_commit_callbacks
):
    theirs = notice(AccountFactory(tenant=other_tenant), django_capture_on_commit_callbacks)
    OutboxMessage.objects.filter(pk=theirs.pk).update(status="failed")
    before = state()
    problem(lr.post(path(theirs.pk)), 404, "message.not_found")
    problem(lr.post(path("abc")), 404, "message.not_found")
    problem(lr.post(path(10**30)), 404, "message.not_found")
    assert state() == before
    assert lr_other.post(path(theirs.pk)).status_code == 202


def test_a_credential_scoped_away_from_tokens_is_refused(
    tenant, account, django_capture_on_commit_callbacks
):
    message = notice(account, django_capture_on_commit_callbacks)
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed")
    scoped = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts", "sessions"]))
    before = state()
    problem(scoped.post(path(message.pk)), 403, "credential.scope_refused")
    assert state() == before


def test_unknown_query_parameters_are_400(lr, account, django_capture_on_commit_callbacks):
    message = notice(account, django_capture_on_commit_callbacks)
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed")
    before = state()
    problem(lr.post(path(message.pk), params={"force": "1"}), 400, "input.invalid")
    assert state() == before

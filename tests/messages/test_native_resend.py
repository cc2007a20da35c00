"""`POST /api/v1/messages/{id}/resend`. Delivery erases a message's content once it is sent
or given up, so a message that carried a multipurpose token is reached again with a FRESH
token of the same purpose, to the same account and address, in a new message (the old token
retired); a message without a token goes back to the queue while its content is held;
anything else answers 409. One `message.resent` event per resend, and the fresh token's
`multipurpose_token.issued` points to it."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AccountEmail
from portal import crypto
from portal.audit import Actor
from portal.models import AuditEvent
from tests.conftest import LRClient
from tests.factories import AccountFactory, ApiCredentialFactory
from tokens.commands import PhoneVerificationSend, TokenIssue, VerificationEmailSend
from tokens.models import MultipurposeToken, OutboxMessage
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


@pytest.fixture
def person(tenant):
    tenant.settings = {"send_cooldown_seconds": 0}
    tenant.save()
    account = AccountFactory(tenant=tenant, email="pat@example.com", first_name="Pat")
    account.phone_id = "+14155550123"
    account.save()
    return account


def notice(account, capture, **kwargs) -> OutboxMessage:
    """A message without a token, the way a service writes one (its delivery not run)."""
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


def verification_sent(account, capture, *, link_base="") -> OutboxMessage:
    """A verification email issued and delivered (to a file): its content is erased."""
    with capture(execute=False):
        service.verification_email_send(
            VerificationEmailSend(email="pat@example.com", verification_url=link_base),
            tenant=account.tenant,
            account=account,
            actor=Actor.system("test"),
        )
    message = OutboxMessage.objects.get(token__isnull=False, channel="email")
    assert service.message_deliver(message_id=message.pk).status == "sent"
    message.refresh_from_db()
    assert message.context_encrypted == ""
    return message


def state():
    return (
        sorted(
            OutboxMessage.objects.values_list(
                "pk", "status", "attempts", "context_encrypted", "available_at"
            )
        ),
        sorted(MultipurposeToken.objects.values_list("pk", "used_at", "retired_at")),
        AuditEvent.objects.count(),
    )


def link_token(received) -> str:
    text = received.get_body(("plain",)).get_content()
    return re.search(r"vtoken=([0-9a-f]{32})", text).group(1)


# --- a token's message: a fresh token in a new message ---------------------------------


def test_a_sent_verification_email_is_reached_again_with_a_fresh_token(
    lr, person, smtp_mail, eager_tasks, django_capture_on_commit_callbacks
):
    old = verification_sent(
        person, django_capture_on_commit_callbacks, link_base="https://app.example/verify"
    )
    old_token = old.token
    with django_capture_on_commit_callbacks(execute=True):
        response = lr.post(path(old.pk), HTTP_X_REASON="never arrived", HTTP_X_TICKET="S-1")
    assert response.status_code == 202, response.content
    body = response.json()
    new = OutboxMessage.objects.get(pk=body["id"])
    assert new.pk != old.pk and new.token_id != old_token.pk
    assert body == {
        "id": new.pk,
        "uid": person.uid,
        "channel": "email",
        "template": "emailverification",
        "purpose": "emailverification",
        "recipient": "pat@example.com",
        "status": "queued",
        "attempts": 0,
        "last_error": "",
        "provider_message_id": "",
        "created_at": body["created_at"],
        "sent_at": None,
        "expires_at": body["expires_at"],
    }
    assert body["created_at"].endswith("Z") and body["expires_at"].endswith("Z")
    # Delivered through the SMTP server, with the caller's link base and a fresh token.
    *_, received = smtp_mail.handler.wait_for(2)
    assert received["To"] == "pat@example.com"
    text = received.get_body(("plain",)).get_content()
    assert "https://app.example/verify?vtype=emailverification&vtoken=" in text
    fresh = link_token(received)
    new.refresh_from_db()
    assert new.status == "sent" and new.context_encrypted == ""
    assert new.token.token_hash == crypto.token_hash(fresh) != old_token.token_hash
    # The old message stays as it was; the old token is retired by the new issue.
    old.refresh_from_db()
    old_token.refresh_from_db()
    assert old.status == "sent" and old_token.retired_at is not None
    # The fresh token verifies the address.
    verified = APIClient().get(
        "/identity/v2/auth/email", {"apikey": person.tenant.api_key, "verificationtoken": fresh}
    )
    assert verified.status_code == 200, verified.json()
    assert AccountEmail.objects.get(account=person).verified
    # One event of the resend; the token's issue points to it.
    resent = AuditEvent.objects.get(action="message.resent")
    assert (resent.reason, resent.ticket, resent.subject_uid) == (
        "never arrived",
        "S-1",
        person.uid,
    )
    assert resent.diff["message"] == old.pk and resent.diff["reissued"] is True
    assert resent.diff["purpose"] == "emailverification"
    issued = AuditEvent.objects.filter(action="multipurpose_token.issued").latest("id")
    assert issued.caused_by == resent.pk and issued.reason == "never arrived"


def test_an_expired_reset_link_that_failed_gets_a_fresh_one(
    lr, person, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        service.token_issue(
            TokenIssue(
                kind="email", purpose="forgotpassword", destination="pat@example.com", send=True
            ),
            tenant=person.tenant,
            account=person,
            actor=Actor.system("test"),
        )
    old = OutboxMessage.objects.get()
    MultipurposeToken.objects.filter(pk=old.token_id).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert service.message_deliver(message_id=old.pk).status == "failed"
    with django_capture_on_commit_callbacks(execute=False):
        response = lr.post(path(old.pk))
    assert response.status_code == 202, response.content
    new = OutboxMessage.objects.get(pk=response.json()["id"])
    assert new.token.purpose == "forgotpassword" and new.token.is_live
    assert new.recipient == "pat@example.com" and response.json()["purpose"] == "forgotpassword"


def test_an_sms_otp_is_sent_again_as_a_fresh_code_keeping_the_voice_choice(
    lr, person, sms_provider, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        service.phone_verification_send(
            PhoneVerificationSend(voice=True),
            tenant=person.tenant,
            account=person,
            actor=Actor.system("test"),
        )
    old = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=old.pk).update(status="failed", context_encrypted="")
    with django_capture_on_commit_callbacks(execute=True):
        response = lr.post(path(old.pk))
    assert response.status_code == 202, response.content
    assert (
        response.json()["channel"] == "sms" and response.json()["purpose"] == "phoneidverification"
    )
    [call] = sms_provider.requests
    assert call["path"].endswith("Calls.json") and call["form"]["To"] == "+14155550123"
    new = OutboxMessage.objects.get(pk=response.json()["id"])
    assert new.status == "sent" and new.voice and new.token_id != old.token_id


def test_a_resend_within_the_cooldown_is_429_and_changes_nothing(
    lr, tenant, django_capture_on_commit_callbacks
):
    account = AccountFactory(tenant=tenant, email="pat@example.com")
    message = verification_sent(account, django_capture_on_commit_callbacks)
    before = state()
    response = lr.post(path(message.pk))
    assert response.status_code == 429 and "Retry-After" in response
    assert state() == before


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("used", "was used"),
        ("retired", "replaced or withdrawn"),
        ("address_removed", "no longer belongs"),
    ],
)
def test_a_token_message_with_nothing_to_reissue_is_409(
    lr, person, change, words, django_capture_on_commit_callbacks
):
    message = verification_sent(person, django_capture_on_commit_callbacks)
    if change == "used":
        MultipurposeToken.objects.filter(pk=message.token_id).update(used_at=timezone.now())
    elif change == "retired":
        MultipurposeToken.objects.filter(pk=message.token_id).update(retired_at=timezone.now())
    else:
        AccountEmail.objects.filter(account=person).update(value="new@example.com")
    before = state()
    body = problem(lr.post(path(message.pk)), 409, "message.not_resendable")
    assert words in body["detail"]
    assert state() == before


# --- a message without a token -----------------------------------------------------------


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
    assert body["purpose"] is None
    [received] = smtp_mail.handler.wait_for(1)
    assert received["To"] == "pat@example.com"
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 1 and message.last_error == ""
    event = AuditEvent.objects.get(action="message.resent")
    assert (event.reason, event.ticket, event.subject_uid) == ("mailbox fixed", "S-9", account.uid)
    assert event.diff["status"] == ["failed", "queued"] and event.diff["message"] == message.pk


def test_a_sent_notice_whose_content_was_erased_is_409(
    lr, account, smtp_mail, django_capture_on_commit_callbacks
):
    message = notice(account, django_capture_on_commit_callbacks)
    assert service.message_deliver(message_id=message.pk).status == "sent"
    before = state()
    body = problem(lr.post(path(message.pk)), 409, "message.not_resendable")
    assert "nothing to send again" in body["detail"]
    assert state() == before


def test_a_message_still_queued_or_expired_is_409(lr, account, django_capture_on_commit_callbacks):
    queued = notice(account, django_capture_on_commit_callbacks)
    expired = notice(account, django_capture_on_commit_callbacks)
    OutboxMessage.objects.filter(pk=expired.pk).update(
        status="failed", expires_at=timezone.now() - timedelta(minutes=1)
    )
    before = state()
    assert "waiting" in problem(lr.post(path(queued.pk)), 409, "message.not_resendable")["detail"]
    assert "expired" in problem(lr.post(path(expired.pk)), 409, "message.not_resendable")["detail"]
    assert state() == before


# --- the conventions -------------------------------------------------------------------


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
    body = problem(lr.post(path(message.pk), params={"force": "1"}), 400, "input.invalid")
    assert body["errors"] == [
        {
            "field": "force",
            "message": "This resource has no such query parameter.",
            "code": "unknown",
        }
    ]
    assert state() == before


def test_an_idempotent_resend_is_replayed_once_and_a_reused_key_is_422(
    lr, person, django_capture_on_commit_callbacks
):
    first = verification_sent(person, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        response = lr.post(path(first.pk), HTTP_IDEMPOTENCY_KEY="resend-1")
    assert response.status_code == 202, response.content
    after_first = state()
    replay = lr.post(path(first.pk), HTTP_IDEMPOTENCY_KEY="resend-1")
    assert replay.status_code == 202 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == response.json()
    assert state() == after_first
    assert OutboxMessage.objects.filter(token__isnull=False).count() == 2
    other = lr.post(path(response.json()["id"]), HTTP_IDEMPOTENCY_KEY="resend-1")
    problem(other, 422, "idempotency.key_reused")
    assert state() == after_first


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_of_one_message_issue_one_fresh_token(credential, tenant):
    from tests.concurrency import run_concurrently

    tenant.settings = {"send_cooldown_seconds": 0}
    tenant.save()
    account = AccountFactory(tenant=tenant, email="pat@example.com")
    with transaction.atomic():
        service.verification_email_send(
            VerificationEmailSend(email="pat@example.com"),
            tenant=tenant,
            account=account,
            actor=Actor.system("test"),
        )
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed", context_encrypted="")
    outcomes = run_concurrently(lambda: LRClient(credential).post(path(message.pk)).status_code, 6)
    assert sorted(outcomes) == [202] + [409] * 5
    assert MultipurposeToken.objects.filter(account=account).count() == 2
    assert [t.is_live for t in MultipurposeToken.objects.order_by("pk")] == [False, True]
    assert AuditEvent.objects.filter(action="message.resent").count() == 1

"""`GET /api/v1/messages`: the tenant's outbox, newest first, on the native list conventions
(declared filters, `after` cursor, exact count), showing metadata only: never a message's
content nor a token."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portal.audit import Actor
from tests.conftest import LRClient
from tests.factories import AccountFactory, ApiCredentialFactory
from tokens.commands import VerificationEmailSend
from tokens.models import OutboxMessage
from tokens.services import multipurpose as service

pytestmark = pytest.mark.django_db

MESSAGES = "/api/v1/messages"
PROBLEM = "application/problem+json"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    return response.json()


@pytest.fixture
def person(tenant):
    return AccountFactory(tenant=tenant, email="pat@example.com")


def write(account, n, *, channel="email"):
    with transaction.atomic():
        return [
            service.message_enqueue(
                tenant=account.tenant,
                account=account,
                channel=channel,
                template="generic",
                recipient=f"r{i}@example.com" if channel == "email" else f"+1415555010{i}",
                context={"body": f"secret body {i}"},
                check_limits=False,
            )
            for i in range(n)
        ]


def test_pages_newest_first_with_an_exact_count_and_a_cursor(
    lr, person, django_assert_max_num_queries
):
    messages = write(person, 5)
    OutboxMessage.objects.filter(pk=messages[0].pk).update(
        status="failed", attempts=8, last_error="550 no such user"
    )
    with django_assert_max_num_queries(8):
        first = lr.get(MESSAGES, {"page_size": "2"})
    assert first.status_code == 200, first.content
    page = first.json()
    assert page["count"] == 5 and page["previous"] is None
    assert [m["recipient"] for m in page["results"]] == ["r4@example.com", "r3@example.com"]
    assert f"after={messages[3].pk}" in page["next"] and "apisecret" not in page["next"]
    seen = [m["id"] for m in page["results"]]
    while page["next"]:
        page = lr.client.get(page["next"], HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw).json()
        assert page["count"] == 5
        seen += [m["id"] for m in page["results"]]
    assert seen == [m.pk for m in reversed(messages)]
    last = lr.get(MESSAGES, {"after": str(messages[1].pk)}).json()["results"]
    assert last == [
        {
            "id": messages[0].pk,
            "uid": person.uid,
            "channel": "email",
            "template": "generic",
            "purpose": None,
            "recipient": "r0@example.com",
            "status": "failed",
            "attempts": 8,
            "last_error": "550 no such user",
            "provider_message_id": "",
            "created_at": last[0]["created_at"],
            "sent_at": None,
            "expires_at": None,
        }
    ]
    assert last[0]["created_at"].endswith("Z")


def test_never_shows_content_or_a_token(lr, person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        issued = service.verification_email_send(
            VerificationEmailSend(email="pat@example.com"),
            tenant=person.tenant,
            account=person,
            actor=Actor.system("test"),
        )
    response = lr.get(MESSAGES)
    [shown] = response.json()["results"]
    assert shown["purpose"] == "emailverification"
    assert issued.value not in response.content.decode()
    assert "context" not in shown and "token" not in shown and "idempotency_key" not in shown


def test_filters_by_account_status_channel_and_time(lr, tenant, person):
    other = AccountFactory(tenant=tenant)
    emails = write(person, 2)
    texts = write(person, 1, channel="sms")
    theirs = write(other, 1)
    OutboxMessage.objects.filter(pk=emails[0].pk).update(status="sent")
    old = timezone.now() - timedelta(days=2)
    OutboxMessage.objects.filter(pk=theirs[0].pk).update(created=old)

    def ids(**params):
        body = lr.get(MESSAGES, params).json()
        assert body["count"] == len(body["results"])
        return [m["id"] for m in body["results"]]

    assert ids(uid=person.uid) == [texts[0].pk, emails[1].pk, emails[0].pk]
    assert ids(uid=other.uid) == [theirs[0].pk]
    assert ids(status="sent") == [emails[0].pk]
    assert ids(channel="sms") == [texts[0].pk]
    assert ids(uid=person.uid, channel="email", status="queued") == [emails[1].pk]
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(until=yesterday) == [theirs[0].pk]
    assert theirs[0].pk not in ids(since=yesterday.replace("+00:00", "Z"))


def test_another_tenants_messages_and_accounts_are_not_seen(lr, lr_other, tenant, person):
    write(person, 2)
    assert lr_other.get(MESSAGES).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    problem(lr_other.get(MESSAGES, {"uid": person.uid}), 404, "account.not_found")
    problem(lr.get(MESSAGES, {"uid": "nobody"}), 404, "account.not_found")


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"stauts": "sent"}, "stauts", "unknown"),
        ({"page": "2"}, "page", "unknown"),
        ({"status": "weird"}, "status", "invalid"),
        ({"channel": "fax"}, "channel", "invalid"),
        ({"since": "yesterday"}, "since", "invalid"),
        ({"until": "2026-01-01T00:00:00"}, "until", "invalid"),
        ({"page_size": "201"}, "page_size", "invalid"),
        ({"page_size": "0"}, "page_size", "invalid"),
        ({"after": "-1"}, "after", "invalid"),
    ],
)
def test_bad_query_parameters_are_400(lr, person, params, field, code):
    body = problem(lr.get(MESSAGES, params), 400, "input.invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]


def test_a_credential_scoped_away_from_tokens_is_refused(tenant, person):
    write(person, 1)
    scoped = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts"]))
    problem(scoped.get(MESSAGES), 403, "credential.scope_refused")
    allowed = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["tokens"]))
    assert allowed.get(MESSAGES).json()["count"] == 1

"""Per-destination cooldown, per-tenant daily caps (1178/1179 with Retry-After), and the
native delivery-status listing."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from portal.audit import Actor
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory
from tokens.commands import PhoneVerificationSend, VerificationEmailSend
from tokens.errors import DailyCapReached, SendCooldownActive, SmsDailyCapReached
from tokens.models import DailySendCount, MultipurposeToken, OutboxMessage
from tokens.services import multipurpose as service

M = "/identity/v2/manage/account"


@pytest.fixture
def person(tenant):
    account = AccountFactory(tenant=tenant, email="person@example.com")
    account.phone_id = "+14155550123"
    account.save()
    return account


SEND = {"sendemail": "true"}


def test_email_cooldown_per_destination_answers_1178_with_retry_after(lr, tenant, person):
    AccountFactory(tenant=tenant, email="other@example.com")
    assert lr.post(f"{M}/forgot/token", {"email": "person@example.com"}, SEND).status_code == 200
    limited = lr.post(f"{M}/forgot/token", {"email": "person@example.com"}, SEND)
    assert limited.status_code == 429 and limited.json()["ErrorCode"] == 1178
    assert 1 <= int(limited["Retry-After"]) <= 30
    assert MultipurposeToken.objects.filter(purpose="forgotpassword").count() == 1
    assert MultipurposeToken.objects.get(
        purpose="forgotpassword"
    ).is_live  # the first one stays usable
    assert lr.post(f"{M}/forgot/token", {"email": "other@example.com"}, SEND).status_code == 200
    with freeze_time(timezone.now() + timedelta(seconds=31)):
        assert (
            lr.post(f"{M}/forgot/token", {"email": "person@example.com"}, SEND).status_code == 200
        )


def test_sms_cooldown_answers_1179(lr, tenant, person):
    person.phone_id_verified = True
    person.save()
    assert lr.put(f"{M}/{person.uid}/invalidatephone").status_code == 200
    person.phone_id_verified = True
    person.save()
    limited = lr.put(f"{M}/{person.uid}/invalidatephone")
    assert limited.status_code == 429 and limited.json()["ErrorCode"] == 1179
    assert int(limited["Retry-After"]) >= 1


def test_daily_email_cap_counts_sent_mail_only(
    lr, tenant, person, django_capture_on_commit_callbacks
):
    tenant.settings = {"send_cooldown_seconds": 0, "daily_email_cap": 2}
    tenant.save()
    for _ in range(3):  # tokens without mail do not count
        assert lr.post(f"{M}/forgot/token", {"email": "person@example.com"}).status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(2):
            assert (
                lr.post(
                    f"{M}/forgot/token",
                    {"email": "person@example.com"},
                    params={"sendemail": "true"},
                ).status_code
                == 200
            )
        capped = lr.post(
            f"{M}/forgot/token", {"email": "person@example.com"}, params={"sendemail": "true"}
        )
    assert capped.status_code == 429 and capped.json()["ErrorCode"] == 1178
    assert 0 < int(capped["Retry-After"]) <= 86400
    assert OutboxMessage.objects.count() == 2
    assert DailySendCount.objects.get(tenant=tenant, channel="email").count == 2


def test_daily_sms_cap_is_refused_by_the_service(tenant, person):
    tenant.settings = {"send_cooldown_seconds": 0, "daily_sms_cap": 1}
    tenant.save()
    with transaction.atomic():
        service.phone_verification_send(
            PhoneVerificationSend(), tenant=tenant, account=person, actor=Actor.system("test")
        )
    with pytest.raises(SmsDailyCapReached) as caught:
        service.phone_verification_send(
            PhoneVerificationSend(), tenant=tenant, account=person, actor=Actor.system("test")
        )
    assert caught.value.retry_after >= 1
    assert OutboxMessage.objects.count() == 1 and MultipurposeToken.objects.count() == 1


def _parallel(n, call):
    """`call(i)` from n threads at once, each in its own transaction: "ok" or the error's code."""

    def attempt(i):
        with transaction.atomic():
            call(i)
        return "ok"

    return run_concurrently(attempt, n, pass_index=True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_daily_cap_is_counted_atomically(tenant, person):
    tenant.settings = {"send_cooldown_seconds": 0, "daily_email_cap": 3}
    tenant.save()
    results = _parallel(
        10,
        lambda i: service.message_enqueue(
            tenant=tenant,
            account=person,
            channel="email",
            template="generic",
            recipient=f"r{i}@example.com",
            context={"body": "hi"},
        ),
    )
    assert sorted(results, key=str) == [DailyCapReached.code] * 7 + ["ok"] * 3
    assert OutboxMessage.objects.count() == 3
    assert DailySendCount.objects.get().count == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cooldown_is_taken_atomically(tenant, person):
    results = _parallel(
        10,
        lambda i: service.verification_email_send(
            VerificationEmailSend(email="person@example.com"),
            tenant=tenant,
            account=person,
            actor=Actor.system("test"),
        ),
    )
    assert sorted(results, key=str) == [SendCooldownActive.code] * 9 + ["ok"]
    assert OutboxMessage.objects.count() == 1

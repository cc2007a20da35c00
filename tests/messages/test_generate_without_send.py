"""Generating a multipurpose token or OTP that is only handed back to the back end (no
message) is not a send: it neither takes the destination's cooldown nor counts against the
daily caps or the per-destination send limit. Only the credential's API rate limits apply.
A real send keeps every limit. Driven through the real LoginRadius Python SDK where it has
the method, raw HTTP otherwise."""

import pytest
from django.core import mail

from accounts.models import AccountEmail
from portal.models import AuditEvent
from tests.factories import AccountFactory
from tokens.models import DailySendCount, MultipurposeToken, OutboxMessage, SendCooldown

M = "/identity/v2/manage/account"
PHONE = "+14155550123"
NEW_PHONE = "+14155550199"
EMAIL_TYPES = (
    "emailverification",
    "addemail",
    "forgotpassword",
    "deleteuser",
    "passwordlesslogin",
    "forgotpin",
    "onetouchlogin",
    "autologin",
)
SMS_TYPES = (
    "addphone",
    "phoneidverification",
    "forgotpassword",
    "forgotpin",
    "onetouchlogin",
    "smartlogin",
    "passwordlesslogin",
    "deleteuser",
)
# Every send limit at its tightest: one message per destination per window, one per day.
TIGHT_SEND_LIMITS = {
    "send_cooldown_seconds": 3600,
    "daily_email_cap": 1,
    "daily_sms_cap": 1,
    "rate_limit_token_send": 1,
}


def set_settings(tenant, **values) -> None:
    tenant.settings = {**(tenant.settings or {}), **values}
    tenant.save(update_fields=["settings"])


@pytest.fixture
def person(tenant):
    account = AccountFactory(
        tenant=tenant, email="person@example.com", username="person", first_name="Pat"
    )
    account.phone_id = PHONE
    account.save()
    return account


def ok(result):
    assert isinstance(result, dict) and "ErrorCode" not in result, result
    return result


def assert_nothing_sent_or_counted(tenant):
    assert not OutboxMessage.objects.filter(tenant=tenant).exists()
    assert mail.outbox == []
    assert not SendCooldown.objects.filter(tenant=tenant).exists()
    assert not DailySendCount.objects.filter(tenant=tenant).exists()


def issued_events(account, *, sent: bool) -> int:
    return sum(
        1
        for diff in AuditEvent.objects.filter(
            action="multipurpose_token.issued", subject_uid=account.uid
        ).values_list("diff", flat=True)
        if diff.get("sent") is sent
    )


def live_tokens(account, purpose: str) -> list[MultipurposeToken]:
    return [
        t for t in MultipurposeToken.objects.filter(account=account, purpose=purpose) if t.is_live
    ]


# ------------------------------------------------------------------ through the SDK


@pytest.mark.django_db(transaction=True)
def test_forgot_token_without_send_twenty_times_then_a_real_send_keeps_its_cooldown(
    lr_sdk, lr, tenant, person
):
    set_settings(tenant, **{**TIGHT_SEND_LIMITS, "rate_limit_token_send": 5})
    sdk = lr_sdk()
    tokens = []
    for i in range(20):
        # The default (no sendEmail) and an explicit sendEmail=false are both "no send".
        answer = ok(
            sdk.account.get_forgot_password_token(
                "person@example.com", send_email=False if i % 2 else None
            )
        )
        tokens.append(answer["ForgotToken"])
    assert len(set(tokens)) == 20
    assert_nothing_sent_or_counted(tenant)
    assert issued_events(person, sent=False) == 20
    assert len(live_tokens(person, "forgotpassword")) == 1  # each retires the one before

    # A real send right after is the first send: it goes, and takes every limit.
    ok(sdk.account.get_forgot_password_token("person@example.com", send_email=True))
    assert OutboxMessage.objects.filter(tenant=tenant, recipient="person@example.com").count() == 1
    assert DailySendCount.objects.get(tenant=tenant, channel="email").count == 1
    again = sdk.account.get_forgot_password_token("person@example.com", send_email=True)
    assert again["ErrorCode"] == 106  # the SDK's own answer to any HTTP 429
    raw = lr.post(f"{M}/forgot/token", {"email": "person@example.com"}, {"sendemail": "true"})
    assert raw.status_code == 429 and raw.json()["ErrorCode"] == 1178  # the cooldown
    assert 1 <= int(raw["Retry-After"]) <= 3600
    assert OutboxMessage.objects.filter(tenant=tenant).count() == 1
    assert issued_events(person, sent=True) == 1

    # Generating without a send still works while the sends are limited.
    ok(sdk.account.get_forgot_password_token("person@example.com"))
    assert OutboxMessage.objects.filter(tenant=tenant).count() == 1


@pytest.mark.django_db(transaction=True)
def test_email_verification_token_v11_is_never_limited_as_a_send(lr_sdk, tenant, person):
    set_settings(tenant, **TIGHT_SEND_LIMITS)
    sdk = lr_sdk()
    for _ in range(12):
        assert ok(sdk.account.get_email_verification_token("person@example.com"))[
            "VerificationToken"
        ]
    assert_nothing_sent_or_counted(tenant)
    assert issued_events(person, sent=False) == 12


@pytest.mark.django_db(transaction=True)
def test_every_email_token_type_is_generated_without_send_limits(lr_sdk, tenant, person):
    set_settings(tenant, **TIGHT_SEND_LIMITS)
    sdk = lr_sdk()
    bodies = {
        "addemail": {"email": "added@example.com", "type": "Secondary", "uid": person.uid},
        "deleteuser": {"uid": person.uid},
        "onetouchlogin": {"email": "person@example.com", "ClientGuid": "guid-1"},
        "autologin": {"username": "person", "ClientGuid": "guid-2"},
    }
    for tokentype in EMAIL_TYPES:
        body = bodies.get(tokentype, {"email": "person@example.com"})
        for _ in range(3):
            answer = ok(sdk.account.multipurpose_email_token_generation(body, tokentype))
            assert answer["Token"] and answer["ExpiresIn"].endswith("Z")
        assert len(live_tokens(person, tokentype)) == 1
    assert_nothing_sent_or_counted(tenant)
    assert issued_events(person, sent=False) == 3 * len(EMAIL_TYPES)


@pytest.mark.django_db(transaction=True)
def test_every_sms_otp_type_is_generated_without_send_limits(lr_sdk, tenant, person):
    set_settings(tenant, **TIGHT_SEND_LIMITS)
    sdk = lr_sdk()
    for smsotptype in SMS_TYPES:
        body = (
            {"Phone": NEW_PHONE, "Uid": person.uid}
            if smsotptype == "addphone"
            else {"Phone": PHONE}
        )
        for _ in range(3):
            answer = ok(sdk.account.multipurpose_sms_otp_generation(body, smsotptype))
            assert answer["Token"].isdigit()
        assert len(live_tokens(person, smsotptype)) == 1
    assert_nothing_sent_or_counted(tenant)
    assert issued_events(person, sent=False) == 3 * len(SMS_TYPES)


# ------------------------------------------------------------------ raw HTTP (no SDK method)


def test_vtoken_without_send_is_not_limited_but_with_send_it_is(lr, tenant, person):
    set_settings(tenant, **TIGHT_SEND_LIMITS)
    query = {"vtype": "email", "email": "person@example.com"}
    for flag in (None, "false", "False") * 4:
        params = query if flag is None else {**query, "sendemail": flag}
        response = lr.get(f"{M}/vtoken", params)
        assert response.status_code == 200, response.json()
    assert_nothing_sent_or_counted(tenant)
    assert issued_events(person, sent=False) == 12

    sent = lr.get(f"{M}/vtoken", {**query, "sendemail": "true"})
    assert sent.status_code == 200, sent.json()
    assert OutboxMessage.objects.filter(tenant=tenant).count() == 1
    refused = lr.get(f"{M}/vtoken", {**query, "sendemail": "true"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert OutboxMessage.objects.filter(tenant=tenant).count() == 1
    assert issued_events(person, sent=True) == 1


def test_real_sends_keep_the_daily_cap(lr, tenant, person):
    set_settings(tenant, send_cooldown_seconds=0, daily_email_cap=1)
    AccountFactory(tenant=tenant, email="other@example.com")
    for _ in range(5):
        assert lr.post(f"{M}/forgot/token", {"email": "person@example.com"}).status_code == 200
    send = {"sendemail": "true"}
    assert lr.post(f"{M}/forgot/token", {"email": "person@example.com"}, send).status_code == 200
    capped = lr.post(f"{M}/forgot/token", {"email": "other@example.com"}, send)
    assert capped.status_code == 429 and capped.json()["ErrorCode"] == 1178
    assert DailySendCount.objects.get(tenant=tenant, channel="email").count == 1
    # ...and generating without a send is still served once the cap is reached.
    assert lr.post(f"{M}/forgot/token", {"email": "other@example.com"}).status_code == 200
    assert OutboxMessage.objects.filter(tenant=tenant).count() == 1


def test_the_credential_rate_limit_still_applies(lr, tenant, person):
    set_settings(tenant, rate_limit_per_credential=4, rate_limit_window_seconds=60)
    for _ in range(4):
        assert lr.post(f"{M}/forgot/token", {"email": "person@example.com"}).status_code == 200
    issued = MultipurposeToken.objects.filter(account=person).count()
    limited = lr.post(f"{M}/smsotp/forgotpassword", {"phone": PHONE})
    assert limited.status_code == 429, limited.json()
    assert limited.json()["ErrorCode"] == 429 and int(limited["Retry-After"]) >= 1
    assert MultipurposeToken.objects.filter(account=person).count() == issued  # nothing issued
    assert issued_events(person, sent=False) == 4


def test_bad_input_still_answers_its_error_and_issues_nothing(lr, tenant, person):
    set_settings(tenant, **TIGHT_SEND_LIMITS)
    assert lr.post(f"{M}/forgot/token", {"email": "not-an-email"}).json()["ErrorCode"] == 1038
    assert lr.post(f"{M}/emailtoken/nosuchtype", {"email": "x@y.z"}).json()["ErrorCode"] == 1181
    assert lr.post(f"{M}/smsotp/forgotpassword", {"phone": "12"}).json()["ErrorCode"] == 1096
    taken = lr.post(
        f"{M}/emailtoken/addemail",
        {"email": "person@example.com", "uid": AccountFactory(tenant=tenant).uid},
    )
    assert taken.json()["ErrorCode"] == 936
    assert not MultipurposeToken.objects.filter(tenant=tenant).exists()
    assert AccountEmail.objects.filter(tenant=tenant, value="person@example.com").count() == 1
    assert_nothing_sent_or_counted(tenant)

import json
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from portal.audit import Actor
from portal.crypto import decrypt, token_hash
from portal.models import AuditEvent
from security import services
from security.commands import OtpFactorSet, SecurityAnswersSet
from security.errors import SecondFactorNotSetUp, SecurityAnswersMissing
from security.models import OtpCode, OtpFactor, SecurityAnswer
from tests.factories import AccountFactory
from tests.security.conftest import bearer, reauth
from tokens.models import OutboxMessage

PASSWORD = "pw-123456"
LOGIN = "/identity/v2/auth/login"


def last_code(account, channel):
    message = OutboxMessage.objects.filter(account=account, channel=channel).latest("id")
    return message, json.loads(decrypt(message.context_encrypted))["code"]


@pytest.fixture
def member(tenant, tokens):
    account = AccountFactory(tenant=tenant, email="otp@example.com")
    account.password = make_password(PASSWORD)
    account.save()
    tokens["tok-member"] = account
    return account


def sms(tenant, account, confirmed=True):
    services.otp_factor_set(
        OtpFactorSet(channel="sms", destination="+15550009999"),
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
    )
    OtpFactor.objects.filter(account=account, channel="sms").update(confirmed=confirmed)


def email(tenant, account, confirmed=True):
    services.otp_factor_set(
        OtpFactorSet(channel="email", destination="otp@example.com"),
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
    )
    OtpFactor.objects.filter(account=account, channel="email").update(confirmed=confirmed)


def test_send_queues_message_and_stores_only_a_hash(tenant, member):
    sms(tenant, member)
    services.otp_send(tenant=tenant, account=member, channel="sms")
    message, code = last_code(member, "sms")
    assert message.recipient == "+15550009999" and message.status == OutboxMessage.QUEUED
    assert len(code) == tenant.setting("sms_otp_length") and code.isdigit()
    row = OtpCode.objects.get(account=member)
    assert row.code_hash == token_hash(code)
    assert message.expires_at == row.expires_at


def test_sms_code_length_follows_tenant(tenant, member):
    tenant.settings = {"sms_otp_length": 8}
    tenant.save()
    sms(tenant, member)
    services.otp_send(tenant=tenant, account=member, channel="sms")
    assert len(last_code(member, "sms")[1]) == 8


def test_code_is_single_use_and_a_new_one_retires_the_old(tenant, member):
    email(tenant, member)
    services.otp_send(tenant=tenant, account=member, channel="email")
    _, first = last_code(member, "email")
    with freeze_time(
        timezone.now() + timedelta(seconds=tenant.setting("send_cooldown_seconds") + 1)
    ):
        services.otp_send(tenant=tenant, account=member, channel="email")
    _, second = last_code(member, "email")
    assert first != second or OtpCode.objects.count() == 1
    if first != second:
        assert not services.otp_verify(account=member, channel="email", code=first)
    with freeze_time(timezone.now() + timedelta(seconds=5)):
        assert services.otp_verify(account=member, channel="email", code=second)
    with freeze_time(timezone.now() + timedelta(seconds=60)):
        assert not services.otp_verify(account=member, channel="email", code=second)


def test_expired_code_is_refused(tenant, member):
    sms(tenant, member)
    services.otp_send(tenant=tenant, account=member, channel="sms")
    _, code = last_code(member, "sms")
    with freeze_time(
        timezone.now() + timedelta(minutes=tenant.setting("sms_otp_lifetime_minutes"), seconds=1)
    ):
        assert not services.otp_verify(account=member, channel="sms", code=code)


def test_first_good_code_confirms_the_factor(tenant, member):
    sms(tenant, member, confirmed=False)
    services.otp_factor_code_send(tenant=tenant, account=member, channel="sms")
    _, code = last_code(member, "sms")
    assert not services.otp_verify(account=member, channel="sms", code=code)  # not a sign-in code
    with freeze_time(timezone.now() + timedelta(seconds=2)):
        assert services.otp_factor_confirm(
            tenant=tenant, actor=Actor.system("t"), account=member, channel="sms", code=code
        )
    assert OtpFactor.objects.get(account=member, channel="sms").confirmed
    assert AuditEvent.objects.filter(action="otp_factor.enrolled", subject_uid=member.uid).exists()


def test_send_without_factor_is_refused(tenant, member):
    with pytest.raises(SecondFactorNotSetUp) as info:
        services.otp_send(tenant=tenant, account=member, channel="sms")
    assert info.value.field == "sms"
    assert not OutboxMessage.objects.exists()


def test_channels_do_not_cross(tenant, member):
    sms(tenant, member)
    email(tenant, member)
    services.otp_send(tenant=tenant, account=member, channel="sms")
    _, code = last_code(member, "sms")
    assert not services.otp_verify(account=member, channel="email", code=code)
    assert services.otp_verify(account=member, channel="sms", code=code)


# ------------------------------------------------------------------ sign-in


def api(tenant):
    return APIClient(), f"?apikey={tenant.api_key}"


def test_sms_only_sign_in_sends_code_and_completes(tenant, member):
    sms(tenant, member)
    client, q = api(tenant)
    data = client.post(
        LOGIN + q, {"email": "otp@example.com", "password": PASSWORD}, format="json"
    ).json()
    sfa = data["SecondFactorAuthentication"]
    assert sfa["IsOTPAuthenticatorVerified"] and sfa["OTPStatus"] == {"IsPosted": True}
    assert sfa["OTPPhoneNo"].endswith("9999") and "555000" not in sfa["OTPPhoneNo"]
    token = sfa["SecondFactorAuthenticationToken"]
    _, code = last_code(member, "sms")
    path = (
        f"/identity/v2/auth/login/2fa/verification/otp{q}&secondfactorauthenticationtoken={token}"
    )
    assert (
        client.put(path, {"otp": "000000" if code != "000000" else "111111"}, format="json").json()[
            "ErrorCode"
        ]
        == 1067
    )
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        done = client.put(path, {"otp": code}, format="json")
    assert done.status_code == 200 and done.json()["access_token"]


def test_sms_resend_and_email_otp_sign_in(tenant, member):
    sms(tenant, member)
    email(tenant, member)
    client, q = api(tenant)
    token = client.post(
        LOGIN + q, {"email": "otp@example.com", "password": PASSWORD}, format="json"
    ).json()["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]
    with freeze_time(
        timezone.now() + timedelta(seconds=tenant.setting("send_cooldown_seconds") + 1)
    ):
        resend = client.get(
            f"/identity/v2/auth/login/2fa/resend{q}&secondFactorAuthenticationToken={token}"
        )
    assert resend.json() == {"IsPosted": True}
    sent = client.post(
        f"/identity/v2/auth/login/2fa/otp/email{q}&secondfactorauthenticationtoken={token}",
        {"EmailId": "otp@example.com"},
        format="json",
    )
    assert sent.json() == {"IsPosted": True}
    _, code = last_code(member, "email")
    done = client.put(
        f"/identity/v2/auth/login/2fa/verification/otp/email{q}&secondfactorauthenticationtoken={token}",
        {"EmailId": "otp@example.com", "Otp": code},
        format="json",
    )
    assert done.status_code == 200 and done.json()["refresh_token"]


def test_send_with_bad_challenge(tenant, member):
    client, q = api(tenant)
    assert (
        client.get(
            f"/identity/v2/auth/login/2fa/resend{q}&secondfactorauthenticationtoken=nope"
        ).json()["ErrorCode"]
        == 1193
    )
    assert client.get(f"/identity/v2/auth/login/2fa/resend{q}").json()["ErrorCode"] == 908
    assert not OutboxMessage.objects.exists()


def test_security_question_sign_in(tenant, member):
    services.security_answers_set(
        SecurityAnswersSet(answers={"q1": "Blue Whale"}),
        tenant=tenant,
        actor=Actor.system("t"),
        account=member,
    )
    client, q = api(tenant)
    token = client.post(
        LOGIN + q, {"email": "otp@example.com", "password": PASSWORD}, format="json"
    ).json()["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]
    path = f"/identity/v2/auth/login/2fa/verification/securityquestionanswer{q}&secondfactorauthenticationtoken={token}"
    wrong = client.post(path, {"securityquestionanswer": {"q1": "orca"}}, format="json")
    assert wrong.json()["ErrorCode"] == 1134
    assert (
        client.post(path, {"securityquestionanswer": "x"}, format="json").json()["ErrorCode"] == 908
    )
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        done = client.post(
            path, {"securityquestionanswer": {"q1": "  blue   WHALE "}}, format="json"
        )
    assert done.status_code == 200, done.json()


# ------------------------------------------------------------------ reauthentication


def test_reauth_by_sms_otp(tenant, member, lr):
    sms(tenant, member)
    client = APIClient()
    trigger = client.get(
        f"/identity/v2/auth/account/reauth/2fa?apikey={tenant.api_key}",
        HTTP_AUTHORIZATION=f"Bearer {bearer('tok-member')}",
    )
    assert trigger.json()["IsOTPAuthenticatorVerified"] and trigger.json()["OTPStatus"] == {
        "IsPosted": True
    }
    _, code = last_code(member, "sms")
    response = reauth(tenant, "2fa/otp", {"otp": code})
    assert response.status_code == 200
    token = response.json()["SecondFactorValidationToken"]
    assert lr.post(
        f"/identity/v2/manage/account/{member.uid}/reauth/2fa",
        {"SecondFactorValidationToken": token},
    ).json() == {"IsValid": True}


def test_reauth_by_email_otp(tenant, member):
    email(tenant, member)
    client = APIClient()
    sent = client.get(
        f"/identity/v2/auth/account/reauth/2fa/otp/email?apikey={tenant.api_key}&emailid=otp@example.com",
        HTTP_AUTHORIZATION=f"Bearer {bearer('tok-member')}",
    )
    assert sent.json() == {"IsPosted": True}
    _, code = last_code(member, "email")
    assert (
        reauth(tenant, "2fa/otp/email/verify", {"EmailId": "otp@example.com", "Otp": "x"}).json()[
            "ErrorCode"
        ]
        == 1067
    )
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        assert (
            reauth(
                tenant, "2fa/otp/email/verify", {"EmailId": "otp@example.com", "Otp": code}
            ).status_code
            == 200
        )


def test_reauth_by_security_answer(tenant, member):
    services.security_answers_set(
        SecurityAnswersSet(answers={"q1": "Paris", "q2": "Rex"}),
        tenant=tenant,
        actor=Actor.system("t"),
        account=member,
    )
    client = APIClient()
    path = f"/identity/v2/auth/account/reauth/2fa/securityquestionanswer/verify?apikey={tenant.api_key}"
    ok = client.post(
        path,
        {"securityquestionanswer": {"q1": "PARIS"}},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {bearer('tok-member')}",
    )
    assert ok.status_code == 200 and ok.json()["SecondFactorValidationToken"]
    bad = client.post(
        path,
        {"securityquestionanswer": {"q3": "x"}},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {bearer('tok-member')}",
    )
    assert bad.json()["ErrorCode"] == 1134


def test_security_answers_stored_hashed_and_validated(tenant, member):
    services.security_answers_set(
        SecurityAnswersSet(answers={"q1": "Secret Place"}),
        tenant=tenant,
        actor=Actor.system("t"),
        account=member,
    )
    row = SecurityAnswer.objects.get(account=member)
    assert "Secret" not in row.answer_hash and "secret" not in row.answer_hash
    event = AuditEvent.objects.get(action="security_answers.updated")
    assert "Secret" not in json.dumps(event.diff)
    with pytest.raises(SecurityAnswersMissing):
        services.security_answers_set(
            SecurityAnswersSet(answers={"q1": "   "}),
            tenant=tenant,
            actor=Actor.system("t"),
            account=member,
        )
    assert SecurityAnswer.objects.get(account=member).answer_hash == row.answer_hash

import base64
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from portal.crypto import decrypt
from security import services
from security.models import OtpFactor, SecurityAnswer, TotpFactor
from tests.factories import AccountFactory
from tests.security.conftest import bearer
from tokens.models import OutboxMessage

A = "/identity/v2/auth/account/2fa"


@pytest.fixture
def member(tenant, tokens):
    account = AccountFactory(tenant=tenant)
    tokens["tok-member"] = account
    return account


def call(tenant, method, path, body=None, token="tok-member"):
    client = APIClient()
    kwargs = {"format": "json"} if body is not None else {}
    sep = "&" if "?" in path else "?"
    return getattr(client, method)(
        f"{path}{sep}apikey={tenant.api_key}",
        body,
        HTTP_AUTHORIZATION=f"Bearer {bearer(token)}",
        **kwargs,
    )


def test_authenticator_enrollment_shows_seed_and_qr_until_confirmed(tenant, member):
    data = call(tenant, "get", A).json()
    secret = data["ManualEntryCode"]
    assert data["IsAuthenticatorVerified"] is False
    assert data["QRCode"].startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(data["QRCode"].split(",", 1)[1]).startswith(b"<?xml")
    assert (
        call(
            tenant, "put", A + "/verification/authenticatorcode", {"authenticatorcode": "000000"}
        ).json()["ErrorCode"]
        == 1102
    )
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        code = services.totp_code(secret, for_time=time.time())
        done = call(
            tenant, "put", A + "/verification/authenticatorcode", {"authenticatorcode": code}
        )
    assert done.status_code == 200 and done.json()["IsAuthenticatorVerified"] is True
    assert TotpFactor.objects.get(account=member).confirmed
    again = call(tenant, "get", A).json()
    assert (
        again["ManualEntryCode"] is None
        and again["QRCode"] is None
        and again["IsAuthenticatorVerified"]
    )


def test_new_enrollment_replaces_unconfirmed_seed(tenant, member):
    first = call(tenant, "get", A).json()["ManualEntryCode"]
    second = call(tenant, "get", A).json()["ManualEntryCode"]
    assert first != second
    assert decrypt(TotpFactor.objects.get(account=member).secret_encrypted) == second


def test_sms_factor_setup(tenant, member):
    assert call(tenant, "put", A, {}).json()["ErrorCode"] == 908
    assert call(tenant, "put", A, {"phoneno2fa": "12345"}).json()["ErrorCode"] == 1096
    response = call(tenant, "put", A, {"phoneno2fa": "+15550002222"})
    assert response.status_code == 200 and response.json()["OTPStatus"] == {"IsPosted": True}
    message = OutboxMessage.objects.get(account=member, channel="sms")
    assert message.recipient == "+15550002222"
    code = json.loads(decrypt(message.context_encrypted))["code"]
    assert not OtpFactor.objects.get(account=member).confirmed
    done = call(tenant, "put", A + "/verification/otp", {"otp": code})
    assert done.json()["IsOTPAuthenticatorVerified"] is True


def test_setup_needs_access_token(tenant, member):
    assert call(tenant, "get", A, token="nope").json()["ErrorCode"] == 905
    assert not TotpFactor.objects.exists()


def test_email_factor_setup(tenant, member):
    email = member.emails.first().value
    assert call(tenant, "get", A + "/otp/email").json()["ErrorCode"] == 908
    assert (
        call(tenant, "get", A + "/otp/email?emailid=stranger@example.com").json()["ErrorCode"]
        == 1340
    )
    assert not OutboxMessage.objects.exists()
    assert call(tenant, "get", A + f"/otp/email?emailId={email.upper()}").json() == {
        "IsPosted": True
    }
    message = OutboxMessage.objects.get(account=member, channel="email")
    code = json.loads(decrypt(message.context_encrypted))["code"]
    assert (
        call(tenant, "put", A + "/verification/otp/email", {"EmailId": email, "Otp": "x"}).json()[
            "ErrorCode"
        ]
        == 1067
    )
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        done = call(tenant, "put", A + "/verification/otp/email", {"EmailId": email, "Otp": code})
    assert done.json()["IsEmailOtpAuthenticatorVerified"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"securityquestionanswer": {"q1": "Answer One", "q2": "two"}},
        {
            "SecurityQuestionAnswer": [
                {"QuestionId": "q1", "Answer": "Answer One"},
                {"questionid": "q2", "answer": "two"},
            ]
        },
    ],
)
def test_security_question_setup(tenant, member, body):
    assert call(tenant, "put", A + "/securityquestionanswer", body).json() == {"IsPosted": True}
    assert sorted(
        SecurityAnswer.objects.filter(account=member).values_list("question_id", flat=True)
    ) == ["q1", "q2"]
    assert services.security_answers_verify(account=member, answers={"q1": "answerone"})


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"securityquestionanswer": {"q1": 5}},
        {"securityquestionanswer": ["x"]},
        {"securityquestionanswer": {"q1": " "}},
    ],
)
def test_security_question_setup_errors(tenant, member, body):
    assert call(tenant, "put", A + "/securityquestionanswer", body).json()["ErrorCode"] in (
        908,
        1134,
    )
    assert not SecurityAnswer.objects.exists()

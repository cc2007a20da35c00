from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from portal.models import AuditEvent
from security.models import PushChallenge, PushDevice
from tests.factories import AccountFactory
from tests.security.conftest import bearer
from tests.security.fake_push import INBOX, FakeDevice, push_relay  # noqa: F401 (a fixture)

A = "/identity/v2/auth"


# The tenant pushes through a signed webhook to a local relay (tests.security.fake_push).
pytestmark = pytest.mark.usefixtures("push_relay")


@pytest.fixture
def member(tenant, tokens):
    account = AccountFactory(tenant=tenant, email="push@example.com")
    account.password = make_password("pw-push")
    account.save()
    tokens["tok-member"] = account
    return account


@pytest.fixture
def device(tenant, member):
    phone = FakeDevice(tenant, "device-address-1")
    response = phone.register(bearer("tok-member"))
    assert response.status_code == 200, response.json()
    return phone


def start(tenant, capture):
    client = APIClient()
    q = f"?apikey={tenant.api_key}"
    login = client.post(
        f"{A}/login{q}", {"email": "push@example.com", "password": "pw-push"}, format="json"
    ).json()
    sfa = login["SecondFactorAuthentication"]
    assert sfa["IsPushAuthenticatorVerified"] is True
    token = sfa["SecondFactorAuthenticationToken"]
    with capture(execute=True):
        started = client.post(
            f"{A}/login/2fa/push{q}&secondfactorauthenticationtoken={token}", format="json"
        )
    assert started.status_code == 200, started.json()
    return client, q, token, started.json()["ChallengeId"]


def status(client, q, token, challenge_id):
    return client.get(
        f"{A}/login/2fa/push/status{q}&secondfactorauthenticationtoken={token}&challengeid={challenge_id}"
    )


def test_device_registration_stores_secret_hashed(member, device):
    row = PushDevice.objects.get(account=member)
    assert device.secret and device.secret not in row.device_secret_hash
    assert "device-address-1" not in row.device_token_encrypted
    assert (
        AuditEvent.objects.filter(action="push_device.registered", subject_uid=member.uid).count()
        == 1
    )


def test_approved_push_completes_sign_in(
    tenant, member, device, django_capture_on_commit_callbacks
):
    client, q, token, challenge_id = start(tenant, django_capture_on_commit_callbacks)
    assert device.notifications()[-1]["ChallengeId"] == challenge_id
    assert device.notifications()[-1]["Uid"] == member.uid
    assert status(client, q, token, challenge_id).json() == {"Status": "pending"}
    assert device.answer(True).json() == {"IsPosted": True}
    done = status(client, q, token, challenge_id)
    assert done.status_code == 200 and done.json()["access_token"]
    assert (
        status(client, q, token, challenge_id).json()["ErrorCode"] == 1193
    )  # the sign-in is spent
    assert device.answer(False).json()["ErrorCode"] == 1193  # decided already


def test_denied_push_refuses_sign_in(tenant, member, device, django_capture_on_commit_callbacks):
    client, q, token, challenge_id = start(tenant, django_capture_on_commit_callbacks)
    device.answer(False)
    refused = status(client, q, token, challenge_id)
    assert refused.json()["ErrorCode"] == 1193 and "denied" in refused.json()["Description"]
    assert PushChallenge.objects.get().status == PushChallenge.DENIED


def test_expired_push_cannot_be_approved(
    tenant, member, device, django_capture_on_commit_callbacks
):
    client, q, token, challenge_id = start(tenant, django_capture_on_commit_callbacks)
    with freeze_time(timezone.now() + timedelta(seconds=200)):
        assert device.answer(True).json()["ErrorCode"] == 1193
        assert "expired" in status(client, q, token, challenge_id).json()["Description"]
    assert PushChallenge.objects.get().status == PushChallenge.PENDING


def test_only_the_device_can_answer(tenant, member, device, django_capture_on_commit_callbacks):
    client, q, token, challenge_id = start(tenant, django_capture_on_commit_callbacks)
    assert device.answer(True, secret="stolen").json()["ErrorCode"] == 1134
    assert device.answer(True, challenge_id="other").json()["ErrorCode"] == 1134
    assert status(client, q, token, challenge_id).json() == {"Status": "pending"}


def test_input_errors(tenant, member, device, django_capture_on_commit_callbacks):
    client, q, token, challenge_id = start(tenant, django_capture_on_commit_callbacks)
    respond = f"{A}/login/2fa/push/respond{q}"
    assert (
        client.put(respond, {"DeviceSecret": "x", "Approve": True}, format="json").json()[
            "ErrorCode"
        ]
        == 908
    )
    assert (
        client.put(respond, {"ChallengeId": challenge_id, "Approve": True}, format="json").json()[
            "ErrorCode"
        ]
        == 908
    )
    assert (
        client.put(
            respond, {"ChallengeId": challenge_id, "DeviceSecret": device.secret}, format="json"
        ).json()["ErrorCode"]
        == 908
    )
    assert (
        client.post(f"{A}/login/2fa/push{q}&secondfactorauthenticationtoken=bogus").json()[
            "ErrorCode"
        ]
        == 1193
    )
    assert status(client, q, token, "nope").json()["ErrorCode"] == 1134
    assert (
        device.client.post(
            f"{A}/account/2fa/push?apikey={tenant.api_key}",
            {},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {bearer('tok-member')}",
        ).json()["ErrorCode"]
        == 908
    )


def test_sign_in_without_device_cannot_start_push(tenant, member, tokens):
    from portal.crypto import encrypt
    from security.models import TotpFactor

    TotpFactor.objects.create(
        tenant=tenant,
        account=member,
        secret_encrypted=encrypt("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
        confirmed=True,
    )
    client = APIClient()
    q = f"?apikey={tenant.api_key}"
    token = client.post(
        f"{A}/login{q}", {"email": "push@example.com", "password": "pw-push"}, format="json"
    ).json()["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]
    assert (
        client.post(f"{A}/login/2fa/push{q}&secondfactorauthenticationtoken={token}").json()[
            "ErrorCode"
        ]
        == 1134
    )
    assert not INBOX

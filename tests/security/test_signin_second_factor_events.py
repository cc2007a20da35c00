"""A second factor that does not verify at sign-in is recorded as `signin.failed` with the
reason `second_factor_failed`: one event per refused attempt, none for a request that named
no code (the console's account page shows it: tests/console/test_signin_history.py). A push
prompt denied on the device and a Duo prompt Duo refused count the same way, once each."""

import time

import pytest
from django.contrib.auth.hashers import make_password
from rest_framework.test import APIClient

from portal.crypto import encrypt
from portal.models import AuditEvent
from security import services
from security.models import PushChallenge, TotpFactor
from tests.factories import AccountFactory
from tests.security.conftest import bearer
from tests.security.fake_push import FakeDevice, push_relay  # noqa: F401 (a fixture)
from tests.security.test_duo import configured, duo, prompt  # noqa: F401 (fixtures)
from tests.security.test_push import start, status

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PASSWORD = "correct horse battery"
VERIFY = "/identity/v2/auth/login/2fa/verification/authenticatorcode"


@pytest.fixture
def member(tenant):
    account = AccountFactory(
        tenant=tenant, email="two.step@example.com", first_name="Tess", last_name="Step"
    )
    account.password = make_password(PASSWORD)
    account.save()
    TotpFactor.objects.create(
        tenant=tenant, account=account, secret_encrypted=encrypt(SECRET), confirmed=True
    )
    return account


@pytest.fixture
def api(tenant):
    client = APIClient()

    def call(method, path, body, **params):
        query = "&".join(f"{k}={v}" for k, v in {"apikey": tenant.api_key, **params}.items())
        return getattr(client, method)(
            f"{path}?{query}",
            body,
            format="json",
            HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0",
            REMOTE_ADDR="203.0.113.7",
        )

    return call


def challenge(api) -> str:
    response = api(
        "post", "/identity/v2/auth/login", {"email": "two.step@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return response.json()["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]


def failures(tenant):
    return list(AuditEvent.objects.filter(tenant=tenant, action="signin.failed").order_by("id"))


def test_a_wrong_authenticator_code_is_recorded_as_second_factor_failed(api, tenant, member):
    token = challenge(api)
    wrong = api(
        "put", VERIFY, {"authenticatorcode": "000000"}, secondfactorauthenticationtoken=token
    )
    assert wrong.json()["ErrorCode"] == 1102
    [event] = failures(tenant)
    assert event.subject_uid == member.uid
    assert event.diff == {"method": "authenticatorcode", "reason": "second_factor_failed"}
    assert (event.ip, event.actor_type) == ("203.0.113.7", AuditEvent.ACTOR_ACCOUNT)
    assert not AuditEvent.objects.filter(tenant=tenant, action="signin.succeeded").exists()


def test_a_missing_code_or_a_right_code_records_no_failure(api, tenant, member):
    token = challenge(api)
    missing = api("put", VERIFY, {}, secondfactorauthenticationtoken=token)
    assert missing.json()["ErrorCode"] == 908
    assert failures(tenant) == []
    code = services.totp_code(SECRET, for_time=time.time())
    good = api("put", VERIFY, {"authenticatorcode": code}, secondfactorauthenticationtoken=token)
    assert good.status_code == 200, good.content
    assert failures(tenant) == []
    assert AuditEvent.objects.filter(tenant=tenant, action="signin.succeeded").count() == 1


def test_a_wrong_backup_code_is_recorded_too(api, tenant, member):
    token = challenge(api)
    path = "/identity/v2/auth/login/2fa/verification/backupcode"
    wrong = api("put", path, {"backupcode": "nope-nope"}, secondfactorauthenticationtoken=token)
    assert wrong.status_code == 400
    assert [e.diff for e in failures(tenant)] == [
        {"method": "backupcode", "reason": "second_factor_failed"}
    ]


# Push: the device's denial is the refused attempt -------------------------------------------


@pytest.fixture
def phone(tenant, tokens):
    account = AccountFactory(tenant=tenant, email="push@example.com")
    account.password = make_password("pw-push")
    account.save()
    tokens["tok-push"] = account
    device = FakeDevice(tenant, "device-address-1")
    assert device.register(bearer("tok-push")).status_code == 200
    return account, device


@pytest.mark.usefixtures("push_relay")
def test_a_push_denied_on_the_device_is_recorded_once(
    tenant, phone, django_capture_on_commit_callbacks
):
    account, device = phone
    client, q, token, challenge_id = start(tenant, django_capture_on_commit_callbacks)
    for _ in range(2):  # polls of a pending push record nothing
        assert status(client, q, token, challenge_id).json() == {"Status": "pending"}
    assert failures(tenant) == []
    assert device.answer(False).json() == {"IsPosted": True}
    assert PushChallenge.objects.get().status == PushChallenge.DENIED
    for _ in range(2):  # the sign-in learns of it, as often as it asks: still one attempt
        assert status(client, q, token, challenge_id).json()["ErrorCode"] == 1193
    assert device.answer(False).json()["ErrorCode"] == 1193  # answered already
    [event] = failures(tenant)
    assert event.subject_uid == account.uid
    assert event.diff == {"method": "push", "reason": "second_factor_failed"}
    assert event.actor_type == AuditEvent.ACTOR_ACCOUNT


@pytest.mark.usefixtures("push_relay")
def test_an_approved_or_unanswered_push_records_no_failure(
    tenant, phone, django_capture_on_commit_callbacks
):
    _, device = phone
    client, q, token, challenge_id = start(tenant, django_capture_on_commit_callbacks)
    assert device.answer(True, secret="stolen").json()["ErrorCode"] == 1134
    assert device.answer(True).json() == {"IsPosted": True}
    assert status(client, q, token, challenge_id).json()["access_token"]
    assert failures(tenant) == []
    assert AuditEvent.objects.filter(tenant=tenant, action="signin.succeeded").count() == 1


# Duo: a prompt Duo refused (through the local fake Duo of tests/security/test_duo.py) ------

duo_warnings = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
def duo_member(tenant):
    account = AccountFactory(tenant=tenant, email="duo@example.com")
    account.password = make_password("pw-duo")
    account.save()
    return account


@duo_warnings
def test_a_duo_denial_is_recorded_once(tenant, duo_member, duo, configured):  # noqa: F811
    duo.decision = "deny"
    client, callback = prompt(tenant, duo)
    assert client.get(callback).json()["ErrorCode"] == 1193
    assert client.get(callback).json()["ErrorCode"] == 1193  # the state is spent: no attempt
    [event] = failures(tenant)
    assert event.subject_uid == duo_member.uid
    assert event.diff == {"method": "duo", "reason": "second_factor_failed"}


@duo_warnings
def test_a_duo_code_that_does_not_exchange_is_recorded_a_forged_state_is_not(
    tenant,
    duo_member,
    duo,  # noqa: F811
    configured,  # noqa: F811
):
    client, callback = prompt(tenant, duo)
    path, _, query = callback.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    forged = f"{path}?apikey={params['apikey']}&state={'x' * 36}&duo_code={params['duo_code']}"
    assert client.get(forged).json()["ErrorCode"] == 1193
    assert failures(tenant) == []
    bad_code = f"{path}?apikey={params['apikey']}&state={params['state']}&duo_code=nope"
    assert client.get(bad_code).json()["ErrorCode"] == 1193
    assert [e.diff for e in failures(tenant)] == [
        {"method": "duo", "reason": "second_factor_failed"}
    ]


@duo_warnings
def test_an_approved_duo_prompt_records_no_failure(tenant, duo_member, duo, configured):  # noqa: F811
    client, callback = prompt(tenant, duo)
    assert client.get(callback).status_code == 200
    assert failures(tenant) == []
    assert AuditEvent.objects.filter(tenant=tenant, action="signin.succeeded").count() == 1

"""What sign-in answers give away: never a password hash (only the manage password
endpoint returns it), and a passkey sign-in answers an unknown identifier exactly as it
answers a known one with a bad assertion, with a limit of attempts per identifier."""

import time

import pytest
from django.contrib.auth.hashers import make_password
from rest_framework.test import APIClient

from accounts.models import Account
from portal.audit import Actor
from portal.crypto import encrypt
from security import services
from security.models import PasskeyCredential, PushDevice, TotpFactor
from tests.factories import AccountFactory
from tests.security.fake_push import FakeDevice, push_relay  # noqa: F401 (a fixture)
from tests.security.soft_authenticator import SoftAuthenticator
from tokens.commands import SessionIssue
from tokens.services.sessions import session_issue

A = "/identity/v2/auth"
M = "/identity/v2/manage/account"
PASSWORD = "signin-answers-pw-1"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ORIGIN = "https://id.example.com"
PHONE = "+14155550123"


# The tenant pushes through a signed webhook to a local relay (tests.security.fake_push).
pytestmark = pytest.mark.usefixtures("push_relay")


@pytest.fixture(autouse=True)
def _setup(tenant, settings):
    settings.PUBLIC_BASE_URL = ORIGIN
    tenant.settings = {"send_cooldown_seconds": 0}
    tenant.save()


@pytest.fixture
def member(tenant):
    account = AccountFactory(tenant=tenant, email="answers@example.com", username="answers")
    account.password = make_password(PASSWORD)
    account.phone_id = PHONE
    account.save()
    return account


def url(tenant, path, **params):
    query = "&".join(f"{k}={v}" for k, v in {"apikey": tenant.api_key, **params}.items())
    return f"{path}?{query}"


def assert_no_hash(response, account):
    stored = Account.objects.get(pk=account.pk).password
    assert stored and len(stored) > 20
    assert stored not in response.content.decode(), response.content[:300]


def signed_in(response, account):
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["access_token"] and data["Profile"]["Uid"] == account.uid
    assert data["Profile"]["Password"] is None
    assert_no_hash(response, account)


# ------------------------------------------------------------------ no hash in sign-in answers


@pytest.mark.real_hasher
@pytest.mark.parametrize(
    "body", [{"email": "answers@example.com"}, {"username": "answers"}, {"phone": PHONE}]
)
def test_password_sign_in_answers_without_the_hash(tenant, member, body):
    member.password = make_password(PASSWORD)  # the production hasher (Argon2)
    member.save()
    assert member.password.startswith("argon2")
    signed_in(
        APIClient().post(url(tenant, f"{A}/login"), {**body, "password": PASSWORD}, format="json"),
        member,
    )


def test_second_factor_sign_in_answers_without_the_hash(tenant, member):
    TotpFactor.objects.create(
        tenant=tenant, account=member, secret_encrypted=encrypt(SECRET), confirmed=True
    )
    first = APIClient().post(
        url(tenant, f"{A}/login"),
        {"email": "answers@example.com", "password": PASSWORD},
        format="json",
    )
    assert first.json()["Profile"] is None
    assert_no_hash(first, member)
    token = first.json()["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]
    done = APIClient().put(
        url(
            tenant,
            f"{A}/login/2fa/verification/authenticatorcode",
            secondfactorauthenticationtoken=token,
        ),
        {"authenticatorcode": services.totp_code(SECRET, for_time=time.time())},
        format="json",
    )
    signed_in(done, member)


def test_passkey_sign_in_answers_without_the_hash(tenant, member):
    device = SoftAuthenticator()
    options = services.passkey_registration_begin(tenant=tenant, account=member)
    services.passkey_register(
        tenant=tenant,
        actor=Actor.system("t"),
        account=member,
        credential=device.create(options, origin=ORIGIN),
    )
    begin = APIClient().get(
        url(tenant, f"{A}/login/passkey/begin", identifier="answers@example.com")
    )
    assertion = device.get(begin.json()["LoginBeginCredential"]["publicKey"], origin=ORIGIN)
    finish = APIClient().post(
        url(tenant, f"{A}/login/passkey/finish"),
        {"email": "answers@example.com", "PasskeyCredential": assertion},
        format="json",
    )
    signed_in(finish, member)


def test_phone_otp_sign_in_answers_without_the_hash(tenant, member, lr):
    otp = lr.post(f"{M}/smsotp/phoneidverification", {"phone": PHONE}).json()["Token"]
    response = APIClient().put(
        url(tenant, f"{A}/phone/otp", otp=otp), {"phone": PHONE}, format="json"
    )
    signed_in(response, member)


def test_push_approved_sign_in_answers_without_the_hash(
    tenant, member, django_capture_on_commit_callbacks
):
    token = session_issue(
        SessionIssue(), tenant=tenant, account=member, actor=Actor.account(member.uid)
    ).access_token
    client = APIClient()
    client.put(
        url(tenant, f"{A}/account/reauth/password"),
        {"password": PASSWORD},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    phone = FakeDevice(tenant, "answers-device")
    assert phone.register(token).status_code == 200
    assert PushDevice.objects.filter(account=member).exists()
    login = client.post(
        url(tenant, f"{A}/login"),
        {"email": "answers@example.com", "password": PASSWORD},
        format="json",
    ).json()
    sfa_token = login["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            url(tenant, f"{A}/login/2fa/push", secondfactorauthenticationtoken=sfa_token)
        )
    challenge_id = started.json()["ChallengeId"]
    assert phone.answer(True, challenge_id=challenge_id).json() == {"IsPosted": True}
    done = client.get(
        url(
            tenant,
            f"{A}/login/2fa/push/status",
            secondfactorauthenticationtoken=sfa_token,
            challengeid=challenge_id,
        )
    )
    signed_in(done, member)


# ------------------------------------------------------------------ no hash in any other profile


def test_manage_answers_carry_no_hash_but_the_password_endpoint_does(tenant, member, lr):
    created = lr.post(
        M,
        {
            "Email": [{"Type": "Primary", "Value": "made@example.com"}],
            "Password": "Made-passw0rd-123",
        },
    )
    assert created.status_code == 200, created.json()
    made = Account.objects.get(uid=created.json()["Uid"])
    assert_no_hash(created, made)
    for response in (
        lr.get(f"{M}/{member.uid}"),
        lr.put(f"{M}/{member.uid}", {"FirstName": "Changed"}),
        lr.get(M, {"email": "answers@example.com"}),
        lr.get(M, {"username": "answers"}),
        lr.get(M, {"phone": PHONE}),
        lr.get(f"{M}/identities", {"email": "answers@example.com"}),
        lr.put(
            f"{M}/{member.uid}/email",
            {"Email": [{"Type": "Secondary", "Value": "second@example.com"}]},
        ),
        lr.get("/api/v1/accounts", {"email": "answers@example.com"}),
    ):
        assert response.status_code == 200, response.json()
        assert_no_hash(response, member)
    hashed = lr.get(f"{M}/{member.uid}/password")
    assert hashed.json() == {"PasswordHash": Account.objects.get(pk=member.pk).password}


# ------------------------------------------------------------------ passkey sign-in errors


def _finish(tenant, identifier, credential):
    return APIClient().post(
        url(tenant, f"{A}/login/passkey/finish"),
        {"email": identifier, "PasskeyCredential": credential},
        format="json",
    )


def _bad_assertions(tenant, member):
    """Assertions that fail for a known account, each for another reason."""
    device = SoftAuthenticator()
    options = services.passkey_registration_begin(tenant=tenant, account=member)
    services.passkey_register(
        tenant=tenant,
        actor=Actor.system("t"),
        account=member,
        credential=device.create(options, origin=ORIGIN),
    )
    begin = services.passkey_authentication_begin(tenant=tenant, account=member)
    good = device.get(begin, origin=ORIGIN)
    return {
        "malformed": {
            "id": good["id"],
            "rawId": good["rawId"],
            "type": "public-key",
            "response": {"clientDataJSON": "!!"},
        },
        "unknown challenge": device.get(
            {**begin, "challenge": "AAAAAAAAAAAAAAAAAAAAAA"}, origin=ORIGIN
        ),
        "wrong origin": device.get(begin, origin="https://evil.example.com"),
    }, good


def test_unknown_identifier_and_bad_assertion_answer_alike(tenant, member):
    bad, good = _bad_assertions(tenant, member)
    answers = [_finish(tenant, "ghost@example.com", good)]
    answers += [_finish(tenant, "answers@example.com", credential) for credential in bad.values()]
    bodies = [(r.status_code, r.json()) for r in answers]
    assert all(body == bodies[0] for body in bodies), bodies
    status, body = bodies[0]
    assert status == 400 and body["ErrorCode"] == 1134
    assert PasskeyCredential.objects.get(account=member).sign_count == 0


def test_passkey_attempts_are_limited_per_identifier(tenant, member):
    tenant.settings = {**tenant.settings, "rate_limit_passkey_login": 3}
    tenant.save()
    bad, good = _bad_assertions(tenant, member)
    for _ in range(3):
        assert (
            _finish(tenant, "answers@example.com", bad["unknown challenge"]).json()["ErrorCode"]
            == 1134
        )
    limited = _finish(tenant, "ANSWERS@example.com", good)
    assert limited.status_code == 429 and limited.json()["ErrorCode"] == 429
    assert limited.headers.get("Retry-After")
    assert (
        PasskeyCredential.objects.get(account=member).sign_count == 0
    )  # not even a good assertion gets through
    # An unknown identifier is limited the same way, and the limit is per identifier.
    for _ in range(3):
        assert _finish(tenant, "ghost@example.com", good).json()["ErrorCode"] == 1134
    assert _finish(tenant, "ghost@example.com", good).status_code == 429
    assert _finish(tenant, "someone-else@example.com", good).json()["ErrorCode"] == 1134


def test_passkey_attempt_limit_has_a_default(tenant, member):
    _, good = _bad_assertions(tenant, member)
    limit = tenant.setting("rate_limit_passkey_login")
    assert 3 <= limit <= 20
    codes = [_finish(tenant, "ghost@example.com", good).status_code for _ in range(limit + 1)]
    assert codes == [400] * limit + [429]

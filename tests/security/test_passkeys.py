from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from portal.audit import Actor
from portal.models import AuditEvent
from security import services
from security.errors import PasskeyInvalid
from security.models import PasskeyChallenge, PasskeyCredential
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory, AccountLockoutFactory, TenantFactory
from tests.security.conftest import bearer
from tests.security.soft_authenticator import SoftAuthenticator

ORIGIN = "https://id.example.com"
RP_ID = "id.example.com"
A = "/identity/v2/auth"
M = "/identity/v2/manage/account"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = ORIGIN


@pytest.fixture
def member(tenant, tokens):
    account = AccountFactory(tenant=tenant, email="pk@example.com")
    account.password = make_password("pw")
    account.save()
    tokens["tok-member"] = account
    return account


def tokens_reissued(account, alias="tok-member"):
    from tests.security.conftest import IssuedTokens

    IssuedTokens()[alias] = account


def call(tenant, method, path, body=None, token="tok-member"):
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer(token)}"} if token else {}
    kwargs = {"format": "json"} if body is not None else {}
    sep = "&" if "?" in path else "?"
    return getattr(client, method)(f"{path}{sep}apikey={tenant.api_key}", body, **headers, **kwargs)


def register(tenant, device, fmt="none", token="tok-member", **kwargs):
    begin = call(
        tenant, "get", f"{A}/account/register/passkey/begin?identifier=pk@example.com", token=token
    )
    assert begin.status_code == 200, begin.json()
    options = begin.json()["RegisterBeginCredential"]["publicKey"]
    credential = device.create(options, origin=kwargs.pop("origin", ORIGIN), fmt=fmt, **kwargs)
    return (
        options,
        credential,
        call(tenant, "post", f"{A}/account/register/passkey/finish", credential, token=token),
    )


@pytest.mark.parametrize("fmt", ["none", "packed"])
def test_registration_ceremony(tenant, member, fmt):
    device = SoftAuthenticator()
    options, credential, finish = register(tenant, device, fmt)
    assert options["rp"]["id"] == RP_ID and options["challenge"]
    assert finish.status_code == 200 and finish.json() == {"IsPosted": True}, finish.json()
    row = PasskeyCredential.objects.get(account=member)
    assert (
        row.credential_id == credential["id"]
        and row.sign_count == 0
        and row.identifier == "pk@example.com"
    )
    assert (
        AuditEvent.objects.filter(action="passkey.registered", subject_uid=member.uid).count() == 1
    )
    assert PasskeyChallenge.objects.get().used_at is not None


def test_challenge_works_once(tenant, member):
    device = SoftAuthenticator()
    options, _, finish = register(tenant, device)
    assert finish.status_code == 200
    again = device.create(options, origin=ORIGIN)
    response = call(tenant, "post", f"{A}/account/register/passkey/finish", again)
    assert response.json()["ErrorCode"] == 1134
    assert PasskeyCredential.objects.count() == 1


def test_expired_challenge_is_refused(tenant, member):
    # The token's elevation outlasts the challenge here, so the challenge's expiry is what refuses.
    tenant.settings["elevation_minutes"] = 10
    tenant.save()
    tokens_reissued(member)
    begin = call(tenant, "get", f"{A}/account/register/passkey/begin").json()[
        "RegisterBeginCredential"
    ]["publicKey"]
    credential = SoftAuthenticator().create(begin, origin=ORIGIN)
    with freeze_time(timezone.now() + timedelta(seconds=services.PASSKEY_CHALLENGE_SECONDS + 1)):
        response = call(tenant, "post", f"{A}/account/register/passkey/finish", credential)
    assert response.json()["ErrorCode"] == 1134
    assert not PasskeyCredential.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [{"origin": "https://evil.example.com"}, {"rp_id": "evil.example.com"}, {"challenge": "AAAA"}],
)
def test_wrong_origin_rp_or_challenge_is_refused(tenant, member, bad):
    _, _, finish = register(tenant, SoftAuthenticator(), **bad)
    assert finish.json()["ErrorCode"] == 1134
    assert not PasskeyCredential.objects.exists()


@pytest.mark.parametrize("second", ["tok-member", "tok-other"])
def test_duplicate_credential_id_is_refused(tenant, member, tokens, second):
    device = SoftAuthenticator()
    cid = b"same-credential-id-0123456789abc"
    assert register(tenant, device, credential_id=cid)[2].status_code == 200
    tokens["tok-other"] = AccountFactory(tenant=tenant)
    _, _, finish = register(tenant, device, credential_id=cid, token=second)
    assert finish.json()["ErrorCode"] == 1134
    assert list(PasskeyCredential.objects.values_list("account_id", flat=True)) == [member.pk]


def test_register_needs_access_token_and_credential(tenant, member):
    assert (
        call(tenant, "get", f"{A}/account/register/passkey/begin", token="nope").json()["ErrorCode"]
        == 905
    )
    assert (
        call(tenant, "post", f"{A}/account/register/passkey/finish", {}).json()["ErrorCode"] == 908
    )
    assert (
        call(
            tenant, "post", f"{A}/account/register/passkey/finish", {"id": "x", "response": {}}
        ).json()["ErrorCode"]
        == 1134
    )
    assert (
        call(
            tenant,
            "post",
            f"{A}/account/register/passkey/finish",
            {"id": "x", "response": {"clientDataJSON": "!!"}},
        ).json()["ErrorCode"]
        == 1134
    )


def login(tenant, device, identifier="pk@example.com", **kwargs):
    begin = call(tenant, "get", f"{A}/login/passkey/begin?identifier={identifier}", token=None)
    options = begin.json()["LoginBeginCredential"]["publicKey"]
    assertion = device.get(options, origin=ORIGIN, **kwargs)
    return (
        options,
        assertion,
        call(
            tenant,
            "post",
            f"{A}/login/passkey/finish",
            {"email": identifier, "PasskeyCredential": assertion},
            token=None,
        ),
    )


def test_authentication_ceremony_gives_session_and_stores_count(tenant, member):
    device = SoftAuthenticator()
    register(tenant, device)
    options, _, finish = login(tenant, device)
    assert (
        options["rpId"] == RP_ID
        and options["allowCredentials"][0]["id"] == PasskeyCredential.objects.get().credential_id
    )
    assert finish.status_code == 200, finish.json()
    assert finish.json()["access_token"] and finish.json()["Profile"]["Uid"] == member.uid
    assert PasskeyCredential.objects.get().sign_count == 1
    assert login(tenant, device)[2].status_code == 200
    assert PasskeyCredential.objects.get().sign_count == 2


def test_sign_count_going_backwards_is_refused(tenant, member):
    device = SoftAuthenticator()
    register(tenant, device)
    login(tenant, device)
    login(tenant, device)
    _, _, finish = login(tenant, device, sign_count=1)
    assert finish.json()["ErrorCode"] == 1134
    assert PasskeyCredential.objects.get().sign_count == 2


def test_authenticator_without_counter_is_accepted(tenant, member):
    device = SoftAuthenticator(counts=False)
    register(tenant, device)
    assert login(tenant, device)[2].status_code == 200
    assert login(tenant, device)[2].status_code == 200
    assert PasskeyCredential.objects.get().sign_count == 0


def test_assertion_replay_is_refused(tenant, member):
    device = SoftAuthenticator()
    register(tenant, device)
    _, assertion, finish = login(tenant, device)
    assert finish.status_code == 200
    replay = call(
        tenant,
        "post",
        f"{A}/login/passkey/finish",
        {"email": "pk@example.com", "PasskeyCredential": assertion},
        token=None,
    )
    assert replay.json()["ErrorCode"] == 1134


def test_key_of_another_account_is_refused(tenant, member, tokens):
    device = SoftAuthenticator()
    register(tenant, device)
    other = AccountFactory(tenant=tenant, email="other@example.com")
    _, _, finish = login(tenant, device, identifier="other@example.com")
    assert finish.json()["ErrorCode"] == 1134
    assert other.passkeys.count() == 0


def test_unknown_identifier_gets_decoy_options(tenant, member):
    begin = call(tenant, "get", f"{A}/login/passkey/begin?identifier=ghost@example.com", token=None)
    options = begin.json()["LoginBeginCredential"]["publicKey"]
    assert options["rpId"] == RP_ID and options["challenge"]
    assert not PasskeyChallenge.objects.exists()
    assert call(tenant, "get", f"{A}/login/passkey/begin", token=None).json()["ErrorCode"] == 908


def test_locked_account_cannot_sign_in_with_passkey(tenant, member):
    device = SoftAuthenticator()
    register(tenant, device)
    AccountLockoutFactory(account=member, locked_until=timezone.now() + timedelta(minutes=5))
    assert login(tenant, device)[2].json()["ErrorCode"] == 1132


def test_manage_list_and_delete(lr, lr_other, tenant, member):
    device = SoftAuthenticator()
    register(tenant, device)
    register(tenant, device)
    listed = lr.get(f"{M}/passkey", {"uid": member.uid})
    assert listed.status_code == 200
    creds = listed.json()["Credentials"]
    assert len(creds) == 2 and set(creds[0]) == {"Id", "Authenticator", "Identifier", "CreatedAt"}
    assert lr_other.get(f"{M}/passkey", {"uid": member.uid}).json()["ErrorCode"] == 938
    assert lr.get(f"{M}/passkey").json()["ErrorCode"] == 908
    assert (
        lr_other.delete(f"{M}/passkey/{creds[0]['Id']}", None, {"uid": member.uid}).json()[
            "ErrorCode"
        ]
        == 938
    )
    assert lr.delete(f"{M}/passkey/nope", None, {"uid": member.uid}).json()["ErrorCode"] == 1134
    assert lr.delete(f"{M}/passkey/{creds[0]['Id']}", None, {"uid": member.uid}).json() == {
        "IsDeleted": True
    }
    assert [c["Id"] for c in lr.get(f"{M}/passkey", {"uid": member.uid}).json()["Credentials"]] == [
        creds[1]["Id"]
    ]
    assert AuditEvent.objects.filter(action="passkey.deleted").count() == 1


def test_account_side_list_and_delete(tenant, member):
    device = SoftAuthenticator()
    register(tenant, device)
    creds = call(tenant, "get", f"{A}/account/passkey").json()["Credentials"]
    assert len(creds) == 1
    assert call(tenant, "delete", f"{A}/account/passkey/{creds[0]['Id']}", {}).json() == {
        "IsDeleted": True
    }
    assert not PasskeyCredential.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_assertion_in_parallel_is_accepted_once(settings):
    settings.PUBLIC_BASE_URL = ORIGIN
    tenant = TenantFactory()
    account = AccountFactory(tenant=tenant)
    device = SoftAuthenticator()
    options = services.passkey_registration_begin(tenant=tenant, account=account)
    services.passkey_register(
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
        credential=device.create(options, origin=ORIGIN),
    )
    assertion = device.get(
        services.passkey_authentication_begin(tenant=tenant, account=account), origin=ORIGIN
    )

    def attempt():
        try:
            services.passkey_authenticate(account=account, credential=assertion)
        except PasskeyInvalid:
            return False
        return True

    results = run_concurrently(attempt, 8)
    assert sorted(results) == [False] * 7 + [True]
    assert PasskeyCredential.objects.get().sign_count == 1

import contextlib
import socket
import threading
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth.hashers import make_password
from rest_framework.test import APIClient

from portal.audit import Actor
from portal.crypto import encrypt
from portal.models import AuditEvent
from security import services
from security.commands import DuoConfigSet
from security.errors import DuoConfigInvalid, DuoHostRefused
from security.models import DuoConfig, DuoEnrollment
from tests.factories import AccountFactory
from tests.security.fake_duo import FakeDuo

CLIENT_ID = "DIXXXXXXXXXXXXXXXXXX"
CLIENT_SECRET = "s" * 40
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
A = "/identity/v2/auth"


@pytest.fixture
def duo(settings):
    """The fake Duo on loopback, admitted (with its CA) through the test-only
    OUTBOUND_TEST_HOSTS setting: the production host rule and address checks stay on."""
    server = FakeDuo(CLIENT_ID, CLIENT_SECRET).start()
    settings.OUTBOUND_TEST_HOSTS = {server.host: server.ca_path}
    yield server
    server.stop()


@pytest.fixture
def configured(tenant, duo):
    return services.duo_config_set(
        DuoConfigSet(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_host=duo.host),
        tenant=tenant,
        actor=Actor.system("t"),
    )


@pytest.fixture
def member(tenant):
    account = AccountFactory(tenant=tenant, email="duo@example.com")
    account.password = make_password("pw-duo")
    account.save()
    return account


def prompt(tenant, duo):
    client = APIClient()
    q = f"?apikey={tenant.api_key}"
    login = client.post(
        f"{A}/login{q}", {"email": "duo@example.com", "password": "pw-duo"}, format="json"
    ).json()
    token = login["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]
    start = client.get(f"{A}/login/2fa/duo{q}&secondfactorauthenticationtoken={token}")
    assert start.status_code == 200, start.json()
    auth_url = start.json()["AuthUrl"]
    assert auth_url.startswith(f"https://{duo.host}/oauth/v1/authorize?")
    redirect = requests.get(auth_url, verify=duo.ca_path, allow_redirects=False, timeout=10)
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["Location"])
    return client, f"{location.path}?{location.query}"


def test_config_is_stored_encrypted_and_audited(tenant, configured):
    row = DuoConfig.objects.get(tenant=tenant)
    assert CLIENT_SECRET not in row.client_secret_encrypted
    event = AuditEvent.objects.get(action="duo.configured")
    assert CLIENT_SECRET not in str(event.diff)


def test_config_is_validated(tenant):
    with pytest.raises(DuoConfigInvalid):
        services.duo_config_set(
            DuoConfigSet(client_id="short", client_secret=CLIENT_SECRET, api_host="h"),
            tenant=tenant,
            actor=Actor.system("t"),
        )
    assert not DuoConfig.objects.exists()


@pytest.mark.parametrize(
    "api_host",
    [
        "LOOPBACK",
        "127.0.0.1",
        "localhost",
        "169.254.169.254",
        "10.0.0.1",
        "example.com",
        "api-1.duosecurity.com.evil.example",
        "evil.example/api-1.duosecurity.com",
        "api-1.duosecurity.com:8443",
        "api-1.duosecurity.com@127.0.0.1",
        "api-1.duosecurity.com/x",
        "x.duosecurity.com",
        "api-.duosecurity.com",
        "api-1.duosecurity.com.",
        "api-1.duosecurity.co",
        "api-1.duofederal.com.evil.example",
    ],
)
def test_api_host_other_than_duo_is_refused_and_never_called(tenant, api_host):
    server = FakeDuo(CLIENT_ID, CLIENT_SECRET).start()  # listening, but not admitted by any setting
    try:
        api_host = server.host if api_host == "LOOPBACK" else api_host
        with pytest.raises(DuoHostRefused) as refused:
            services.duo_config_set(
                DuoConfigSet(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_host=api_host),
                tenant=tenant,
                actor=Actor.system("t"),
            )
        assert refused.value.field == "api_host"
        assert "duosecurity.com" in refused.value.field_errors[0].message
        assert not DuoConfig.objects.exists() and not AuditEvent.objects.exists()
        assert server.calls == []
    finally:
        server.stop()


@pytest.mark.parametrize(
    "api_host",
    ["api-1a2b3c4d.duosecurity.com", "API-1A2B3C4D.DuoSecurity.com", "api-1a2b3c4d.duofederal.com"],
)
def test_duo_api_hosts_are_accepted(tenant, api_host):
    config = services.duo_config_set(
        DuoConfigSet(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_host=api_host),
        tenant=tenant,
        actor=Actor.system("t"),
    )
    assert config.api_host == api_host.lower()


def test_stored_non_duo_host_is_not_contacted_at_sign_in(tenant, member):
    """A row written before the host rule (or behind its back) reaches nothing: the outbound
    client refuses the host before opening any connection, and the sign-in gets 950."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    accepted = []

    def accept():
        with contextlib.suppress(OSError):
            accepted.append(listener.accept())

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        DuoConfig.objects.create(
            tenant=tenant,
            client_id=CLIENT_ID,
            client_secret_encrypted=encrypt(CLIENT_SECRET),
            api_host=f"127.0.0.1:{listener.getsockname()[1]}",
        )
        client = APIClient()
        q = f"?apikey={tenant.api_key}"
        token = client.post(
            f"{A}/login{q}", {"email": "duo@example.com", "password": "pw-duo"}, format="json"
        ).json()["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]
        answer = client.get(f"{A}/login/2fa/duo{q}&secondfactorauthenticationtoken={token}").json()
        assert answer["ErrorCode"] == 950
        thread.join()
        assert accepted == []
    finally:
        listener.close()
        for connection, _ in accepted:
            connection.close()


def test_tenant_without_duo_signs_in_without_it(tenant, member):
    client = APIClient()
    response = client.post(
        f"{A}/login?apikey={tenant.api_key}",
        {"email": "duo@example.com", "password": "pw-duo"},
        format="json",
    )
    assert response.json()["access_token"]


def test_duo_prompt_approves_sign_in(tenant, member, duo, configured):
    client, callback = prompt(tenant, duo)
    assert callback.startswith("/identity/v2/auth/login/2fa/duo/callback?apikey=")
    done = client.get(callback)
    assert done.status_code == 200, done.json()
    assert done.json()["access_token"] and done.json()["Profile"]["Uid"] == member.uid
    assert DuoEnrollment.objects.filter(account=member).exists()
    assert (
        duo.calls.count("/oauth/v1/health_check") == 1 and duo.calls.count("/oauth/v1/token") == 1
    )
    assert client.get(callback).json()["ErrorCode"] == 1193  # state is single-use


def test_duo_denial_refuses_sign_in(tenant, member, duo, configured):
    duo.decision = "deny"
    client, callback = prompt(tenant, duo)
    assert client.get(callback).json()["ErrorCode"] == 1193
    assert not DuoEnrollment.objects.exists()


def test_forged_state_or_code(tenant, member, duo, configured):
    client, callback = prompt(tenant, duo)
    path, _, query = callback.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    forged = f"{path}?apikey={params['apikey']}&state={'x' * 36}&duo_code={params['duo_code']}"
    assert client.get(forged).json()["ErrorCode"] == 1193
    bad_code = f"{path}?apikey={params['apikey']}&state={params['state']}&duo_code=nope"
    assert client.get(bad_code).json()["ErrorCode"] == 1193
    assert client.get(f"{path}?apikey={params['apikey']}").json()["ErrorCode"] == 908


def test_wrong_secret_fails_health_check(tenant, member, duo):
    services.duo_config_set(
        DuoConfigSet(client_id=CLIENT_ID, client_secret="t" * 40, api_host=duo.host),
        tenant=tenant,
        actor=Actor.system("t"),
    )
    client = APIClient()
    q = f"?apikey={tenant.api_key}"
    token = client.post(
        f"{A}/login{q}", {"email": "duo@example.com", "password": "pw-duo"}, format="json"
    ).json()["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]
    assert (
        client.get(f"{A}/login/2fa/duo{q}&secondfactorauthenticationtoken={token}").json()[
            "ErrorCode"
        ]
        == 950
    )


# --------------------------------------------------------------------------- reauthentication by Duo

BACK = "https://app.example/duo/back"


def session_token(account) -> str:
    from tokens.commands import SessionIssue
    from tokens.services.sessions import session_issue

    return session_issue(
        SessionIssue(), tenant=account.tenant, account=account, actor=Actor.account(account.uid)
    ).access_token


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def reauth_prompt(tenant, duo, token, redirect=BACK):
    """Trigger with duoredirecturi, let the fake Duo answer, return Duo's (state, duo_code)."""
    from urllib.parse import parse_qs

    trigger = APIClient().get(
        f"{A}/account/reauth/2fa?apikey={tenant.api_key}&duoredirecturi={redirect}", **bearer(token)
    )
    assert trigger.status_code == 200, trigger.json()
    auth_url = trigger.json()["DuoAuthEndpoint"]
    assert auth_url.startswith(f"https://{duo.host}/oauth/v1/authorize?")
    location = requests.get(
        auth_url, verify=duo.ca_path, allow_redirects=False, timeout=10
    ).headers["Location"]
    assert location.startswith(BACK + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return query["state"], query["duo_code"]


def reauth_duo(tenant, token, body):
    return APIClient().put(
        f"{A}/account/reauth/2fa/duo?apikey={tenant.api_key}", body, format="json", **bearer(token)
    )


def test_duo_reauth_yields_a_token_the_manage_side_accepts_once(
    lr, tenant, member, duo, configured
):
    from security.models import SecondFactorToken

    token = session_token(member)
    state, code = reauth_prompt(tenant, duo, token)

    response = reauth_duo(tenant, token, {"State": state, "Code": code})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"SecondFactorValidationToken", "ExpireIn"}
    row = SecondFactorToken.objects.get(account=member, purpose="reauth")
    assert row.method == "2fa" and body["SecondFactorValidationToken"] not in row.token_hash
    event = AuditEvent.objects.get(action="reauth_token.issued", subject_uid=member.uid)
    assert event.diff == {"method": [None, "duo"]}
    assert DuoEnrollment.objects.filter(account=member).exists()
    path = f"/identity/v2/manage/account/{member.uid}/reauth"
    validation = {"secondfactorvalidationtoken": body["SecondFactorValidationToken"]}
    assert (
        lr.post(f"{path}/password", validation).json()["ErrorCode"] == 1193
    )  # another kind of proof
    assert lr.post(f"{path}/2fa", validation).json() == {"IsValid": True}
    assert lr.post(f"{path}/2fa", validation).json()["ErrorCode"] == 1193  # single use
    assert (
        reauth_duo(tenant, token, {"state": state, "code": code}).json()["ErrorCode"] == 1193
    )  # state spent


def test_trigger_reports_duo_and_starts_no_prompt_without_a_redirect(
    tenant, member, duo, configured
):
    from security.models import DuoState

    token = session_token(member)
    body = (
        APIClient().get(f"{A}/account/reauth/2fa?apikey={tenant.api_key}", **bearer(token)).json()
    )
    assert body["DuoAuthEndpoint"] is None and body["IsDuoAuthenticatorVerified"] is False
    assert not DuoState.objects.exists() and duo.calls == []
    bad = APIClient().get(
        f"{A}/account/reauth/2fa?apikey={tenant.api_key}&duoredirecturi=javascript:alert(1)",
        **bearer(token),
    )
    assert bad.json()["ErrorCode"] == 908
    assert not DuoState.objects.exists()


def test_trigger_without_duo_configured(tenant, member):
    token = session_token(member)
    body = (
        APIClient()
        .get(
            f"{A}/account/reauth/2fa?apikey={tenant.api_key}&duoredirecturi={BACK}", **bearer(token)
        )
        .json()
    )
    assert body["DuoAuthEndpoint"] is None and body["IsDuoAuthenticatorVerified"] is False


def test_another_accounts_prompt_cannot_be_used(tenant, member, duo, configured):
    from security.models import SecondFactorToken

    other = AccountFactory(tenant=tenant, email="other@example.com")
    mine, theirs = session_token(member), session_token(other)
    state, code = reauth_prompt(tenant, duo, theirs)
    assert reauth_duo(tenant, mine, {"State": state, "Code": code}).json()["ErrorCode"] == 1193
    assert not SecondFactorToken.objects.filter(purpose="reauth").exists()
    # The owner's prompt was not spent by the attempt.
    assert reauth_duo(tenant, theirs, {"State": state, "Code": code}).status_code == 200


def test_duo_denial_or_forgery_gives_no_token(tenant, member, duo, configured):
    from security.models import SecondFactorToken

    token = session_token(member)
    duo.decision = "deny"
    state, code = reauth_prompt(tenant, duo, token)
    assert reauth_duo(tenant, token, {"State": state, "Code": code}).json()["ErrorCode"] == 1193
    duo.decision = "allow"
    state, code = reauth_prompt(tenant, duo, token)
    assert reauth_duo(tenant, token, {"State": "x" * 36, "Code": code}).json()["ErrorCode"] == 1193
    assert reauth_duo(tenant, token, {"State": state, "Code": "nope"}).json()["ErrorCode"] == 1193
    assert not SecondFactorToken.objects.filter(purpose="reauth").exists()
    assert not DuoEnrollment.objects.exists()


def test_duo_reauth_input_errors(tenant, member, duo, configured):
    token = session_token(member)
    assert reauth_duo(tenant, token, {}).json()["ErrorCode"] == 908
    assert "state" in reauth_duo(tenant, token, {"Code": "c"}).json()["Description"]
    assert "code" in reauth_duo(tenant, token, {"State": "s", "Code": 5}).json()["Description"]
    assert reauth_duo(tenant, "not-a-token", {"State": "s", "Code": "c"}).json()["ErrorCode"] == 905
    no_token = APIClient().put(
        f"{A}/account/reauth/2fa/duo?apikey={tenant.api_key}",
        {"State": "s", "Code": "c"},
        format="json",
    )
    assert no_token.json()["ErrorCode"] == 1060


def test_sign_in_and_reauth_prompts_do_not_cross(tenant, member, duo, configured):
    from security.models import SecondFactorToken

    client, callback = prompt(tenant, duo)
    _, _, query = callback.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    token = session_token(member)
    # A sign-in's state does not reauthenticate...
    assert (
        reauth_duo(tenant, token, {"State": params["state"], "Code": params["duo_code"]}).json()[
            "ErrorCode"
        ]
        == 1193
    )
    assert client.get(callback).status_code == 200  # ...and was not spent by the attempt.
    # A reauthentication's state does not sign in.
    state, code = reauth_prompt(tenant, duo, token)
    path = callback.partition("?")[0]
    crossed = client.get(f"{path}?apikey={tenant.api_key}&state={state}&duo_code={code}")
    assert crossed.json()["ErrorCode"] == 1193
    assert reauth_duo(tenant, token, {"State": state, "Code": code}).status_code == 200
    assert SecondFactorToken.objects.filter(purpose="reauth").count() == 1

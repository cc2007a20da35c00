from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth.hashers import make_password
from rest_framework.test import APIClient

from portal.audit import Actor
from portal.lrapi.errors import LRError
from portal.models import AuditEvent
from security import services
from security.models import DuoConfig, DuoEnrollment
from tests.factories import AccountFactory
from tests.security.fake_duo import FakeDuo

CLIENT_ID = "DIXXXXXXXXXXXXXXXXXX"
CLIENT_SECRET = "s" * 40
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
A = "/identity/v2/auth"


@pytest.fixture
def duo():
    server = FakeDuo(CLIENT_ID, CLIENT_SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def configured(tenant, duo):
    return services.duo_config_set(
        tenant=tenant, actor=Actor.system("t"), client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        api_host=duo.host, ca_bundle=duo.cert_pem.decode(),
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
    login = client.post(f"{A}/login{q}", {"email": "duo@example.com", "password": "pw-duo"}, format="json").json()
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
    with pytest.raises(LRError):
        services.duo_config_set(tenant=tenant, actor=Actor.system("t"), client_id="short", client_secret=CLIENT_SECRET, api_host="h")
    assert not DuoConfig.objects.exists()


def test_tenant_without_duo_signs_in_without_it(tenant, member):
    client = APIClient()
    response = client.post(f"{A}/login?apikey={tenant.api_key}", {"email": "duo@example.com", "password": "pw-duo"}, format="json")
    assert response.json()["access_token"]


def test_duo_prompt_approves_sign_in(tenant, member, duo, configured):
    client, callback = prompt(tenant, duo)
    assert callback.startswith("/identity/v2/auth/login/2fa/duo/callback?apikey=")
    done = client.get(callback)
    assert done.status_code == 200, done.json()
    assert done.json()["access_token"] and done.json()["Profile"]["Uid"] == member.uid
    assert DuoEnrollment.objects.filter(account=member).exists()
    assert duo.calls.count("/oauth/v1/health_check") == 1 and duo.calls.count("/oauth/v1/token") == 1
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
    services.duo_config_set(tenant=tenant, actor=Actor.system("t"), client_id=CLIENT_ID, client_secret="t" * 40,
                            api_host=duo.host, ca_bundle=duo.cert_pem.decode())
    client = APIClient()
    q = f"?apikey={tenant.api_key}"
    token = client.post(f"{A}/login{q}", {"email": "duo@example.com", "password": "pw-duo"}, format="json").json()[
        "SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]
    assert client.get(f"{A}/login/2fa/duo{q}&secondfactorauthenticationtoken={token}").json()["ErrorCode"] == 950

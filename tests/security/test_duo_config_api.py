"""/api/v1/security/duo: the tenant's Duo application, a native resource (problem details,
snake_case keys, ETag); the secret is write-only."""

import pytest
from rest_framework.test import APIClient

from portal.audit import Actor
from portal.crypto import decrypt
from portal.models import AuditEvent
from security import services
from security.commands import DuoConfigSet
from security.models import DuoConfig, DuoState
from tests.factories import ApiCredentialFactory

PATH = "/api/v1/security/duo"
CLIENT_ID = "DIXXXXXXXXXXXXXXXXXX"
SECRET = "s" * 40
NEW_SECRET = "n" * 40
pytestmark = pytest.mark.django_db


def put(lr, body):
    return lr.put(PATH, body)


def test_get_before_any_configuration_is_404(lr):
    response = lr.get(PATH)
    assert response.status_code == 404 and response.json()["code"] == "duo.not_configured"
    assert response["Content-Type"].startswith("application/problem+json")


def test_put_creates_and_never_returns_the_secret(lr, tenant):
    response = put(
        lr,
        {"client_id": CLIENT_ID, "client_secret": SECRET, "api_host": "api-1234.duosecurity.com"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"client_id", "client_secret_set", "api_host", "enabled", "modified_at"}
    assert body["client_id"] == CLIENT_ID and body["enabled"] is True
    assert body["client_secret_set"] is True and response["ETag"]
    row = DuoConfig.objects.get(tenant=tenant)
    assert (
        SECRET not in row.client_secret_encrypted and decrypt(row.client_secret_encrypted) == SECRET
    )
    shown = lr.get(PATH)
    assert shown.json() == body and SECRET not in shown.content.decode()
    event = AuditEvent.objects.get(action="duo.configured")
    assert event.actor_type == "credential" and SECRET not in str(event.diff)
    assert event.diff["client_id"] == [None, CLIENT_ID] and event.diff["credential_replaced"] == [
        False,
        True,
    ]


def test_keys_are_snake_case_and_other_spellings_are_refused(lr, tenant):
    response = put(
        lr,
        {
            "Client_Id": CLIENT_ID,
            "CLIENT_SECRET": SECRET,
            "Api_Host": "api-1.duosecurity.com",
            "Enabled": False,
        },
    )
    assert response.status_code == 400, response.json()
    assert {e["field"] for e in response.json()["errors"]} == {
        "Client_Id",
        "CLIENT_SECRET",
        "Api_Host",
        "Enabled",
    }
    assert not DuoConfig.objects.exists()


def test_update_without_the_secret_keeps_it(lr, tenant):
    put(lr, {"client_id": CLIENT_ID, "client_secret": SECRET, "api_host": "api-1.duosecurity.com"})
    response = put(
        lr, {"client_id": CLIENT_ID, "api_host": "api-2.duosecurity.com", "enabled": False}
    )
    assert response.status_code == 200, response.json()
    row = DuoConfig.objects.get(tenant=tenant)
    assert (
        decrypt(row.client_secret_encrypted) == SECRET and row.api_host == "api-2.duosecurity.com"
    )
    assert row.enabled is False
    event = AuditEvent.objects.filter(action="duo.configured").latest("id")
    assert event.diff == {
        "api_host": ["api-1.duosecurity.com", "api-2.duosecurity.com"],
        "enabled": [True, False],
    }
    assert not services.duo_required(tenant=tenant)

    put(
        lr,
        {
            "client_id": CLIENT_ID,
            "client_secret": NEW_SECRET,
            "api_host": "api-2.duosecurity.com",
        },
    )
    row.refresh_from_db()
    assert decrypt(row.client_secret_encrypted) == NEW_SECRET and row.enabled is False
    event = AuditEvent.objects.filter(action="duo.configured").latest("id")
    assert event.diff == {"credential_replaced": [False, True]}


def test_custom_ca_bundle_is_refused(lr):
    """Duo's pinned CAs are the only trust: a PEM bundle is refused, not stored."""
    response = put(
        lr,
        {
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "api_host": "api-1.duosecurity.com",
            "ca_bundle": "-----BEGIN CERTIFICATE-----",
        },
    )
    assert response.status_code == 400 and response.json()["code"] == "input.invalid"
    assert [e["field"] for e in response.json()["errors"]] == ["ca_bundle"]
    assert "pinned" in response.json()["errors"][0]["message"]
    assert (
        not DuoConfig.objects.exists()
        and not AuditEvent.objects.filter(action="duo.configured").exists()
    )
    assert "ca_bundle" not in {f.name for f in DuoConfig._meta.get_fields()}


@pytest.mark.parametrize(
    "api_host",
    [
        "127.0.0.1:8443",
        "localhost",
        "169.254.169.254",
        "duo.example.com",
        "api-1.duosecurity.com.example.com",
        "api-1.duosecurity.com:444",
    ],
)
def test_api_host_must_be_a_duo_host(lr, api_host):
    response = put(lr, {"client_id": CLIENT_ID, "client_secret": SECRET, "api_host": api_host})
    assert response.status_code == 400 and response.json()["code"] == "duo.host_refused"
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["api_host"] and "duosecurity.com" in errors[0][
        "message"
    ]
    assert (
        not DuoConfig.objects.exists()
        and not AuditEvent.objects.filter(action="duo.configured").exists()
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client_id": CLIENT_ID, "api_host": "api-1.duosecurity.com"}, "client_secret"),
        ({"client_secret": SECRET, "api_host": "api-1.duosecurity.com"}, "client_id"),
        ({"client_id": CLIENT_ID, "client_secret": SECRET}, "api_host"),
        (
            {"client_id": 7, "client_secret": SECRET, "api_host": "api-1.duosecurity.com"},
            "client_id",
        ),
        (
            {"client_id": "short", "client_secret": SECRET, "api_host": "api-1.duosecurity.com"},
            "duo",
        ),
        (
            {"client_id": CLIENT_ID, "client_secret": "short", "api_host": "api-1.duosecurity.com"},
            "duo",
        ),
    ],
)
def test_invalid_configuration_is_refused_and_stores_nothing(lr, body, field):
    response = put(lr, body)
    assert response.status_code == 400 and response.json()["status"] == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    assert (
        not DuoConfig.objects.exists()
        and not AuditEvent.objects.filter(action="duo.configured").exists()
    )


def test_bad_enabled_flag(lr):
    response = put(
        lr,
        {
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "api_host": "api-1.duosecurity.com",
            "enabled": "maybe",
        },
    )
    assert response.status_code == 400 and not DuoConfig.objects.exists()


def test_delete_removes_configuration_and_open_prompts(lr, tenant, account):
    from security.models import SecondFactorToken

    services.duo_config_set(
        DuoConfigSet(client_id=CLIENT_ID, client_secret=SECRET, api_host="api-1.duosecurity.com"),
        tenant=tenant,
        actor=Actor.system("t"),
    )
    login = SecondFactorToken.objects.create(
        tenant=tenant,
        account=account,
        purpose="login",
        token_hash="x" * 64,
        expires_at="2999-01-01T00:00:00Z",
    )
    DuoState.objects.create(
        tenant=tenant, login=login, state_hash="y" * 64, expires_at="2999-01-01T00:00:00Z"
    )
    response = lr.delete(PATH, params={"reason": "moving to passkeys"})
    assert response.status_code == 204
    assert not DuoConfig.objects.exists() and not DuoState.objects.exists()
    event = AuditEvent.objects.get(action="duo.removed")
    assert event.reason == "moving to passkeys" and event.diff["client_id"] == [CLIENT_ID, None]
    assert event.diff["open_prompts"] == [1, 0]
    assert not services.duo_required(tenant=tenant)
    assert lr.delete(PATH).json()["code"] == "duo.not_configured"
    assert AuditEvent.objects.filter(action="duo.removed").count() == 1


def test_other_tenant_sees_and_changes_nothing(lr_other, tenant):
    services.duo_config_set(
        DuoConfigSet(client_id=CLIENT_ID, client_secret=SECRET, api_host="api-1.duosecurity.com"),
        tenant=tenant,
        actor=Actor.system("t"),
    )
    assert lr_other.get(PATH).json()["code"] == "duo.not_configured"
    assert lr_other.delete(PATH).json()["code"] == "duo.not_configured"
    assert (
        lr_other.put(
            PATH, {"client_id": CLIENT_ID, "api_host": "api-1.duosecurity.com"}
        ).status_code
        == 400
    )
    assert DuoConfig.objects.filter(tenant=tenant).exists()


def test_credential_without_security_scope_is_refused(tenant):
    credential = ApiCredentialFactory(tenant=tenant, scopes=["accounts"])
    client = APIClient()
    response = client.put(
        f"{PATH}?apikey={tenant.api_key}",
        {"client_id": CLIENT_ID, "client_secret": SECRET, "api_host": "api-1.duosecurity.com"},
        format="json",
        HTTP_X_LOGINRADIUS_APISECRET=credential.raw,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "credential.scope_refused"
    assert not DuoConfig.objects.exists()

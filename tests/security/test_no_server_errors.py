"""Bad input of every shape gets a LoginRadius error, never a 500."""

import pytest
from rest_framework.test import APIClient

from tests.factories import AccountFactory
from tests.security.conftest import bearer

BODIES = [
    None,
    [],
    "x",
    5,
    {"x": 1},
    {"PasskeyCredential": {"id": "a", "response": {"clientDataJSON": 5}}},
    {"id": "a", "response": {"clientDataJSON": "e30", "attestationObject": "!!"}},
    {
        "id": "a",
        "response": {
            "clientDataJSON": "eyJjaGFsbGVuZ2UiOiJ4In0",
            "authenticatorData": 3,
            "signature": [],
        },
    },
    {"email": {"a": 1}, "password": ["x"]},
    {"otp": 123456},
    {"authenticatorcode": None},
    {"backupcode": {"a": 1}},
    {"securityquestionanswer": {"q": 1}},
    {"securityquestionanswer": []},
    {"Approve": "maybe", "ChallengeId": "x", "DeviceSecret": "y"},
    {"phoneno2fa": 12},
    {"secondfactorvalidationtoken": ["x"]},
    {"otpauthenticator": {"x": 1}},
    {"State": 5, "Code": []},
    {"State": "s" * 5000, "Code": "c"},
    {
        "client_id": ["x"],
        "client_secret": {"a": 1},
        "api_host": 3,
        "ca_bundle": 4,
        "enabled": {"a": 1},
    },
    {
        "client_id": "DIXXXXXXXXXXXXXXXXXX",
        "client_secret": "s" * 40,
        "api_host": "h",
        "enabled": [],
    },
]

TOKEN_PATHS = [
    ("put", "/identity/v2/auth/account/reauth/password"),
    ("put", "/identity/v2/auth/account/reauth/2fa/otp"),
    ("put", "/identity/v2/auth/account/reauth/2fa/backupcode"),
    ("put", "/identity/v2/auth/account/reauth/2fa/authenticatorcode"),
    ("put", "/identity/v2/auth/account/reauth/2fa/otp/email/verify"),
    ("post", "/identity/v2/auth/account/reauth/2fa/securityquestionanswer/verify"),
    ("put", "/identity/v2/auth/account/2fa"),
    ("put", "/identity/v2/auth/account/2fa/verification/authenticatorcode"),
    ("put", "/identity/v2/auth/account/2fa/verification/otp"),
    ("post", "/identity/v2/auth/account/register/passkey/finish"),
    ("post", "/identity/v2/auth/account/2fa/push"),
    ("put", "/identity/v2/auth/account/reauth/2fa/duo"),
]
KEY_PATHS = [
    ("post", "/identity/v2/auth/login"),
    ("post", "/identity/v2/auth/login/passkey/finish"),
    ("put", "/identity/v2/auth/login/2fa/verification/otp?secondfactorauthenticationtoken=x"),
    ("put", "/identity/v2/auth/login/2fa/push/respond"),
]
MANAGE_PATHS = [
    ("delete", "/identity/v2/manage/account/2fa/authenticator"),
    ("post", "/identity/v2/manage/account/{uid}/reauth/password"),
    ("put", "/api/v1/security/duo"),
]


@pytest.mark.parametrize("method,path", TOKEN_PATHS + KEY_PATHS)
def test_token_and_key_endpoints(tenant, tokens, method, path):
    tokens["tok"] = AccountFactory(tenant=tenant)
    client = APIClient()
    sep = "&" if "?" in path else "?"
    for body in BODIES:
        response = getattr(client, method)(
            f"{path}{sep}apikey={tenant.api_key}",
            body,
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {bearer('tok')}",
        )
        assert response.status_code < 500, (body, response.content)
        assert "ErrorCode" in response.json(), (body, response.json())


@pytest.mark.parametrize("method,path", MANAGE_PATHS)
def test_manage_endpoints(lr, account, method, path):
    for body in BODIES:
        response = lr.request(
            method.upper(),
            path.format(uid=account.uid),
            {"uid": account.uid},
            body if body is not None else {},
        )
        assert response.status_code < 500, (body, response.content)
        answer = response.json()
        if path.startswith("/api/v1/"):  # native: problem details, never an auth refusal
            assert answer["status"] == response.status_code and answer["code"], (body, answer)
            assert not answer["code"].startswith("credential."), (body, answer)
        else:
            assert "ErrorCode" in answer, (body, answer)
            assert answer["ErrorCode"] not in (901, 902, 922, 923)

"""The conventions every native security operation shares: declared query parameters only,
problem details, the Duo settings' ETag; the behaviour of each operation is tested in
test_native_unlock.py, test_account_secure.py and test_duo_config_api.py."""

import pytest

from security.models import DuoConfig

pytestmark = pytest.mark.django_db

DUO = "/api/v1/security/duo"
CLIENT_ID = "DIXXXXXXXXXXXXXXXXXX"
SECRET = "s" * 40


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    return response.json()


def test_unknown_query_parameters_are_400_and_change_nothing(lr, account):
    body = {"client_id": CLIENT_ID, "client_secret": SECRET, "api_host": "api-1.duosecurity.com"}
    problem(lr.put(DUO, body, {"force": "1"}), 400, "input.invalid")
    problem(lr.get(DUO, {"fields": "client_id"}), 400, "input.invalid")
    secure = lr.post(f"/api/v1/accounts/{account.uid}/secure", {"reason": "x"}, {"dry": "1"})
    problem(secure, 400, "input.invalid")
    assert not DuoConfig.objects.exists()


def test_the_duo_etag_moves_with_each_change(lr):
    body = {"client_id": CLIENT_ID, "client_secret": SECRET, "api_host": "api-1.duosecurity.com"}
    first = lr.put(DUO, body)
    assert first.status_code == 200 and lr.get(DUO)["ETag"] == first["ETag"]
    second = lr.put(DUO, {**body, "enabled": False})
    assert second["ETag"] != first["ETag"] and lr.get(DUO)["ETag"] == second["ETag"]

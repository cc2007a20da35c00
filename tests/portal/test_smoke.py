from tests.portal.conftest import LR_PING


def test_tenant_endpoint_answers_with_secret_header(lr, tenant):
    response = lr.get("/api/v1/tenant")
    assert response.status_code == 200, response.content
    assert response.json()["api_key"] == tenant.api_key


def test_missing_api_key_is_908(client, db):
    response = client.get(LR_PING)
    assert response.status_code == 400
    assert response.json()["ErrorCode"] == 908

"""OAuth2 client-credentials endpoint (LoginRadius POST /service/oauth/token) and M2M
bearer tokens on management calls."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.utils import timezone
from freezegun import freeze_time

from portal.lrapi import m2m
from portal.models import ApiCredential, AuditEvent
from portal.tenant_commands import CredentialRevoke
from tests.factories import ApiCredentialFactory
from tests.portal.conftest import LR_PING, assert_lr_error

pytestmark = pytest.mark.django_db
TOKEN_URL = "/service/oauth/token"


def _issue_json(api, credential, **extra):
    body = {
        "grant_type": "client_credentials",
        "client_id": credential.tenant.api_key,
        "client_secret": credential.raw,
        "audience": "http://testserver/identity/v2/manage",
        **extra,
    }
    return api.post(TOKEN_URL, json.dumps(body), content_type="application/json")


def test_json_body_issues_a_bearer_token_that_works(api, credential):
    response = _issue_json(api, credential)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600 and body["expire_in"] == "3600"
    assert response["Cache-Control"] == "no-store"
    tenant = api.get("/api/v1/tenant", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert tenant.status_code == 200, tenant.content
    assert tenant.json()["api_key"] == credential.tenant.api_key
    assert tenant.json()["credential"] == {
        "id": credential.pk,
        "label": credential.label,
        "scopes": [],
        "expires_at": None,
        "authenticated_via": "m2m",
    }


def test_form_body_issues_a_token(api, credential):
    response = api.post(
        TOKEN_URL,
        f"grant_type=client_credentials&client_id={credential.tenant.api_key}&client_secret={credential.raw}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    assert m2m.credential_for_token(response.json()["access_token"]) == credential


def test_http_basic_issues_a_token(api, credential):
    basic = base64.b64encode(f"{credential.tenant.api_key}:{credential.raw}".encode()).decode()
    response = api.post(
        TOKEN_URL,
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content


def test_token_endpoint_path_is_case_insensitive(api, credential):
    body = {
        "grant_type": "client_credentials",
        "client_id": credential.tenant.api_key,
        "client_secret": credential.raw,
    }
    response = api.post("/Service/OAuth/Token", body, format="json")
    assert response.status_code == 200


def test_token_works_with_the_api_key_alongside(api, credential):
    token = _issue_json(api, credential).json()["access_token"]
    response = api.get(
        f"/api/v1/tenant?apikey={credential.tenant.api_key}", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 200, response.content


def test_token_with_another_tenants_key_is_902(api, credential, other_tenant):
    token = _issue_json(api, credential).json()["access_token"]
    response = api.get(
        f"{LR_PING}?apikey={other_tenant.api_key}", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert_lr_error(response, 902, 401)


@pytest.mark.parametrize(
    "body, error, status",
    [
        ({"grant_type": "password"}, "unsupported_grant_type", 400),
        ({"grant_type": None}, "invalid_request", 400),
        ({"client_secret": "00000000-0000-0000-0000-000000000000"}, "invalid_client", 401),
        ({"client_id": "not-a-guid"}, "invalid_client", 401),
        ({"client_secret": ""}, "invalid_client", 401),
    ],
)
def test_oauth_style_errors(api, credential, body, error, status):
    payload = {
        "grant_type": "client_credentials",
        "client_id": credential.tenant.api_key,
        "client_secret": credential.raw,
    }
    payload.update({k: v for k, v in body.items() if v is not None})
    if body.get("grant_type", "x") is None:
        payload.pop("grant_type")
    response = api.post(TOKEN_URL, json.dumps(payload), content_type="application/json")
    assert response.status_code == status, response.content
    assert set(response.json()) == {"error", "error_description"}
    assert response.json()["error"] == error


def test_malformed_body_and_other_content_types_are_invalid_request(api):
    broken = api.post(TOKEN_URL, "{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_request"
    xml = api.post(TOKEN_URL, "<x/>", content_type="application/xml")
    assert xml.status_code == 400 and xml.json()["error"] == "invalid_request"
    get = api.get(TOKEN_URL)
    assert get.status_code == 405 and get.json()["error"] == "invalid_request"


def test_basic_with_wrong_secret_gets_a_challenge(api, credential):
    basic = base64.b64encode(f"{credential.tenant.api_key}:{'1' * 32}".encode()).decode()
    response = api.post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        format="json",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")


def test_revoked_credential_cannot_get_a_token(api, credential):
    ApiCredential.objects.filter(pk=credential.pk).update(revoked_at=timezone.now())
    assert _issue_json(api, credential).status_code == 401


def test_issuing_writes_nothing_but_the_last_used_stamp(api, credential):
    before = AuditEvent.objects.count()
    _issue_json(api, credential)
    assert AuditEvent.objects.count() == before
    credential.refresh_from_db()
    assert credential.last_used_at is not None


# Refused tokens


def test_expired_token_is_906(api, credential):
    with freeze_time(timezone.now() - timedelta(hours=2)):
        token = _issue_json(api, credential).json()["access_token"]
    response = api.get(LR_PING, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_lr_error(response, 906, 403)


def test_tampered_token_is_905(api, credential, other_credential):
    token = _issue_json(api, credential).json()["access_token"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(other_credential.pk)
    claims["tid"] = other_credential.tenant.api_key
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    response = api.get(LR_PING, HTTP_AUTHORIZATION=f"Bearer {header}.{forged}.{signature}")
    assert_lr_error(response, 905, 403)
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    response = api.get(LR_PING, HTTP_AUTHORIZATION=f"Bearer {header}.{payload}.{flipped}")
    assert_lr_error(response, 905, 403)


def test_token_signed_with_another_key_or_alg_none_is_905(api, credential):
    claims = {
        "iss": m2m.ISSUER,
        "aud": m2m.AUDIENCE,
        "sub": str(credential.pk),
        "tid": credential.tenant.api_key,
        "iat": timezone.now(),
        "exp": timezone.now() + timedelta(hours=1),
    }
    for token in (
        jwt.encode(claims, "a-guessed-signing-key-of-enough-length-0123456789", algorithm="HS256"),
        jwt.encode(claims, None, algorithm="none"),
    ):
        response = api.get(LR_PING, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert_lr_error(response, 905, 403)


def test_token_of_a_revoked_credential_is_refused_immediately(api, credential):
    token = _issue_json(api, credential).json()["access_token"]
    assert api.get(LR_PING, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    from portal import services
    from portal.audit import Actor

    services.credential_revoke(
        CredentialRevoke(credential_id=credential.pk),
        tenant=credential.tenant,
        actor=Actor.system("test"),
    )
    response = api.get(LR_PING, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_lr_error(response, 902, 401)


def test_token_carries_the_credential_scope(api, tenant):
    scoped = ApiCredentialFactory(tenant=tenant, scopes=["accounts"])
    token = _issue_json(api, scoped).json()["access_token"]
    response = api.get(LR_PING, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_lr_error(response, 1143, 403)


def test_m2m_call_costs_at_most_two_queries(api, credential, django_assert_max_num_queries):
    token = _issue_json(api, credential).json()["access_token"]
    with django_assert_max_num_queries(2):
        assert api.get("/api/v1/tenant", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

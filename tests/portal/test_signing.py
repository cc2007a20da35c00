"""Signed requests (`digest: SHA-256=...` + `X-Request-Expires`), every SDK variant."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from freezegun import freeze_time

from portal import services
from portal.audit import Actor
from portal.lrapi import signing
from portal.lrapi.errors import LRError
from portal.tenant_commands import CredentialRevoke, TenantSettingsChange
from tests.portal.conftest import (
    LR_PING,
    PROBE_URLS,
    assert_lr_error,
    dotnet_digest,
    dotnet_expiry,
    node_digest,
    python_sdk_digest,
    utc_expiry,
)

VECTOR_URL = "http://127.0.0.1:8765/identity/v2/manage/account/uid123?apiKey=my-api-key"
VECTOR_EXPIRY = "2026-11-27 06:18:08"
VECTOR_DIGEST = "/Wx4knh7KSn8vl2vtU32DzAUt2VdHydD1vYlHk2/PT4="


# The reference's verified vector (Python SDK on the wire)


@freeze_time("2026-11-27 05:18:08")
def test_reference_vector_verifies_with_its_expiry_valid():
    signing.check_expiry(VECTOR_EXPIRY)  # an hour ahead: valid
    assert signing.parse_digest_header(f"SHA-256={VECTOR_DIGEST}") == VECTOR_DIGEST
    assert signing.signature_matches(
        secret="my-api-secret",
        supplied=VECTOR_DIGEST,
        url=VECTOR_URL,
        expiry=VECTOR_EXPIRY,
        body=b"",
    )


def test_reference_vector_fails_with_another_secret_url_or_expiry():
    assert not signing.signature_matches(
        secret="my-api-secreT",
        supplied=VECTOR_DIGEST,
        url=VECTOR_URL,
        expiry=VECTOR_EXPIRY,
        body=b"",
    )
    assert not signing.signature_matches(
        secret="my-api-secret",
        supplied=VECTOR_DIGEST,
        url=VECTOR_URL.replace("uid123", "uid124"),
        expiry=VECTOR_EXPIRY,
        body=b"",
    )
    assert not signing.signature_matches(
        secret="my-api-secret",
        supplied=VECTOR_DIGEST,
        url=VECTOR_URL,
        expiry="2026-11-27 06:18:09",
        body=b"",
    )


def test_reference_vector_is_rebuilt_by_the_python_recipe():
    assert python_sdk_digest("my-api-secret", VECTOR_URL, VECTOR_EXPIRY, "{}") == VECTOR_DIGEST


# Expiry


@freeze_time("2026-11-27 12:00:00")
@pytest.mark.parametrize(
    "value",
    [
        "2026-11-27 13:00:00",
        "2026-11-27 1:0:0 PM",
        "2026-11-27 01:00:00 PM",
        "2026-11-27T13:00:00Z",
        "2026-11-27 12:03:00",
    ],
)
def test_expiry_formats_accepted(value):
    signing.check_expiry(value)


@freeze_time("2026-11-27 12:00:00")
@pytest.mark.parametrize(
    "value, code",
    [
        (None, 1210),
        ("", 1210),
        ("tomorrow", 1211),
        ("2026-13-45 99:00:00", 1211),
        ("2026-11-27 11:00:00", 1212),  # expired
        ("2026-11-27 16:06:00", 1212),  # beyond REQUEST_SIGNING_MAX_EXPIRY_SECONDS (+ skew)
        ("2027-11-27 12:00:00", 1212),
    ],
)
def test_expiry_refusals(value, code):
    with pytest.raises(LRError) as caught:
        signing.check_expiry(value)
    assert caught.value.error_code == code


@freeze_time("2026-11-27 12:00:00")
def test_max_expiry_follows_the_setting():
    with override_settings(REQUEST_SIGNING_MAX_EXPIRY_SECONDS=600):
        with pytest.raises(LRError) as caught:
            signing.check_expiry("2026-11-27 12:30:00")
        assert caught.value.error_code == 1212
        signing.check_expiry("2026-11-27 12:09:00")


# Through the wire layer

pytestmark = pytest.mark.django_db


def _url(credential, path="/api/v1/tenant", extra=""):
    return f"{path}?apiKey={credential.tenant.api_key}{extra}"


def _get(api, path_qs, expiry, digest, **headers):
    return api.get(
        path_qs, HTTP_X_REQUEST_EXPIRES=expiry, HTTP_DIGEST=f"SHA-256={digest}", **headers
    )


def test_python_sdk_get_signs_empty_object(api, credential):
    path = _url(credential)
    expiry = utc_expiry().strftime("%Y-%m-%d %H:%M:%S")
    digest = python_sdk_digest(credential.raw, "http://testserver" + path, expiry, "{}")
    response = _get(api, path, expiry, digest)
    assert response.status_code == 200, response.content
    assert response.json()["credential"]["authenticated_via"] == "signature"


def test_python_sdk_without_payload_part(api, credential):
    path = _url(credential)
    expiry = utc_expiry().strftime("%Y-%m-%d %H:%M:%S")
    digest = python_sdk_digest(credential.raw, "http://testserver" + path, expiry, None)
    assert _get(api, path, expiry, digest).status_code == 200


def test_dotnet_variant_with_12_hour_expiry_and_plus_encoding(api, credential):
    path = _url(credential, path=LR_PING, extra="&name=Ann%20Lee&email=a+b@example.com")
    expiry = dotnet_expiry(utc_expiry(900))
    digest = dotnet_digest(credential.raw, "http://testserver" + path, expiry)
    response = _get(api, path, expiry, digest)
    assert response.status_code == 200, response.content


def test_node_variant_encode_uri_component(api, credential):
    path = _url(credential, path=LR_PING, extra="&name=O'Hara(x)")
    expiry = utc_expiry().strftime("%Y-%m-%d %H:%M:%S")
    digest = node_digest(credential.raw, "http://testserver" + path, expiry)
    response = _get(api, path, expiry, digest)
    assert response.status_code == 200, response.content


@pytest.mark.urls(PROBE_URLS)
def test_go_v12_variant_with_encoded_query_and_the_secret_header_still_sent(api, credential):
    # Go v12: url.Values.Encode() (sorted; space as '+', '+' as %2B), apisecret stripped from
    # the URL, PathUnescape + encodeURIComponent, lowercased; UTC+20 min; X-LoginRadius-ApiSecret
    # header is still on the request.
    from urllib.parse import urlencode

    query = urlencode(
        sorted(
            {
                "apikey": credential.tenant.api_key,
                "email": "a+b@example.com",
                "name": "Ann Lee",
            }.items()
        )
    )
    path = f"/api/v1/_probe/echo?{query}"
    expiry = utc_expiry(1200).strftime("%Y-%m-%d %H:%M:%S")
    digest = node_digest(credential.raw, "http://testserver" + path, expiry)
    response = api.get(
        path,
        HTTP_X_REQUEST_EXPIRES=expiry,
        HTTP_DIGEST=f"SHA-256={digest}",
        HTTP_X_LOGINRADIUS_APIKEY=credential.tenant.api_key,
        HTTP_X_LOGINRADIUS_APISECRET=credential.raw,
    )
    assert response.status_code == 200, response.content
    assert response.json()["Via"] == "signature"
    assert response.json()["Email"] == "a+b@example.com" and response.json()["Name"] == "Ann Lee"


@pytest.mark.urls(PROBE_URLS)
def test_a_signature_with_a_wrong_digest_is_not_rescued_by_a_valid_secret(api, credential):
    path = _url(credential, path="/api/v1/_probe/echo")
    expiry = utc_expiry().strftime("%Y-%m-%d %H:%M:%S")
    response = api.get(
        path,
        HTTP_X_REQUEST_EXPIRES=expiry,
        HTTP_DIGEST="SHA-256=AAAA",
        HTTP_X_LOGINRADIUS_APISECRET=credential.raw,
    )
    assert_lr_error(response, 1208, 401)


@pytest.mark.urls(PROBE_URLS)
@pytest.mark.parametrize("variant", ["python", "dotnet", "node"])
def test_signed_post_with_a_raw_json_body(api, credential, variant):
    path = _url(credential, path="/api/v1/_probe/echo")
    url = "http://testserver" + path
    body = json.dumps({"FirstName": "Ann", "Tags": ["a", "b"]})
    if variant == "python":
        expiry = utc_expiry().strftime("%Y-%m-%d %H:%M:%S")
        digest = python_sdk_digest(credential.raw, url, expiry, body)
    elif variant == "dotnet":
        expiry = dotnet_expiry(utc_expiry(900))
        digest = dotnet_digest(credential.raw, url, expiry, body)
    else:
        expiry = utc_expiry().strftime("%Y-%m-%d %H:%M:%S")
        digest = node_digest(credential.raw, url, expiry, body)
    response = api.post(
        path,
        body,
        content_type="application/json",
        HTTP_X_REQUEST_EXPIRES=expiry,
        HTTP_DIGEST=f"SHA-256={digest}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["Body"] == {"FirstName": "Ann", "Tags": ["a", "b"]}
    assert response.json()["Via"] == "signature"


@pytest.mark.urls(PROBE_URLS)
def test_signature_without_payload_does_not_cover_a_substituted_body(api, credential):
    path = _url(credential, path="/api/v1/_probe/echo")
    expiry = utc_expiry().strftime("%Y-%m-%d %H:%M:%S")
    digest = node_digest(
        credential.raw, "http://testserver" + path, expiry
    )  # signed without a body
    response = api.put(
        path,
        json.dumps({"FirstName": "Mallory"}),
        content_type="application/json",
        HTTP_X_REQUEST_EXPIRES=expiry,
        HTTP_DIGEST=f"SHA-256={digest}",
    )
    assert_lr_error(response, 1208, 401)
    empty = api.put(
        path,
        "{}",
        content_type="application/json",
        HTTP_X_REQUEST_EXPIRES=expiry,
        HTTP_DIGEST=f"SHA-256={digest}",
    )
    assert empty.status_code == 200, empty.content


def test_tampered_byte_is_1208(api, credential):
    path = _url(credential, path=LR_PING)
    expiry = utc_expiry().strftime("%Y-%m-%d %H:%M:%S")
    digest = python_sdk_digest(credential.raw, "http://testserver" + path, expiry)
    tampered = ("B" if digest[0] != "B" else "C") + digest[1:]
    assert_lr_error(_get(api, path, expiry, tampered), 1208, 401)
    assert_lr_error(_get(api, path + "&x=1", expiry, digest), 1208, 401)
    response = api.get(path, HTTP_X_REQUEST_EXPIRES=expiry, HTTP_DIGEST=f"MD5={digest}")
    assert_lr_error(response, 1208, 401)


def test_expired_signature_is_1212(api, credential):
    path = _url(credential, path=LR_PING)
    expiry = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    digest = python_sdk_digest(credential.raw, "http://testserver" + path, expiry)
    assert_lr_error(_get(api, path, expiry, digest), 1212, 400)


def test_far_future_expiry_is_1212(api, credential, settings):
    path = _url(credential, path=LR_PING)
    expiry = utc_expiry(settings.REQUEST_SIGNING_MAX_EXPIRY_SECONDS + 3600).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    digest = python_sdk_digest(credential.raw, "http://testserver" + path, expiry)
    assert_lr_error(_get(api, path, expiry, digest), 1212, 400)


def test_malformed_expiry_is_1211(api, credential):
    path = _url(credential, path=LR_PING)
    digest = python_sdk_digest(credential.raw, "http://testserver" + path, "soon")
    assert_lr_error(_get(api, path, "soon", digest), 1211, 400)


def test_missing_expiry_is_1210(api, credential):
    response = api.get(_url(credential, path=LR_PING), HTTP_DIGEST="SHA-256=abc")
    assert_lr_error(response, 1210, 400)


def test_expiry_without_digest_or_secret_is_1209(api, credential):
    response = api.get(_url(credential, path=LR_PING), HTTP_X_REQUEST_EXPIRES="2026-11-27 06:18:08")
    assert_lr_error(response, 1209, 400)


def test_revoked_credential_signature_is_1208(api, credential):
    path = _url(credential, path=LR_PING)
    expiry = utc_expiry().strftime("%Y-%m-%d %H:%M:%S")
    digest = python_sdk_digest(credential.raw, "http://testserver" + path, expiry)
    services.credential_revoke(
        CredentialRevoke(credential_id=credential.pk),
        tenant=credential.tenant,
        actor=Actor.system("test"),
    )
    assert_lr_error(_get(api, path, expiry, digest), 1208, 401)


def test_strict_tenant_refuses_plain_secrets_with_1207_and_accepts_signatures(api, credential):
    services.tenant_update_settings(
        TenantSettingsChange(changes={"request_signing": "strict"}),
        tenant=credential.tenant,
        actor=Actor.system("test"),
    )
    plain = api.get(_url(credential, path=LR_PING), HTTP_X_LOGINRADIUS_APISECRET=credential.raw)
    assert_lr_error(plain, 1207, 400)
    missing = api.get(_url(credential, path=LR_PING))
    assert_lr_error(missing, 1207, 400)
    path = _url(credential, path=LR_PING)
    expiry = utc_expiry().strftime("%Y-%m-%d %H:%M:%S")
    digest = python_sdk_digest(credential.raw, "http://testserver" + path, expiry)
    assert _get(api, path, expiry, digest).status_code == 200


# The real SDK, end to end


AUTH_CODES = (404, 901, 902, 908, 923, 1207, 1208, 1209, 1210, 1211, 1212)


@pytest.mark.django_db(transaction=True)
def test_sdk_signed_post_with_json_body(lr_sdk, credential):
    from LoginRadius import LoginRadius as LR

    sdk = lr_sdk(signing=True)
    roles = {"roles": [{"name": "signed-e2e", "permissions": {"read": True}}]}
    result = sdk.role.create_roles(roles)
    assert result.get("ErrorCode") not in AUTH_CODES, result  # the signature was accepted

    LR.API_SECRET = "00000000-0000-0000-0000-000000000000"  # sign with the wrong secret
    refused = LR().role.create_roles({"roles": [{"name": "signed-e2e-2"}]})
    assert refused["ErrorCode"] == 1208, refused

"""Every credential/transport error code with its exact LoginRadius body."""

import pytest

from portal.lrapi.errors import CODES
from tests.portal.conftest import LR_PING, PROBE_URLS, assert_lr_error

pytestmark = pytest.mark.django_db


def test_missing_key_is_908_with_loginradius_wording(api):
    body = assert_lr_error(api.get(LR_PING), 908, 400)
    assert body["Description"] == "The apikey is a required parameter."
    assert body["Message"] == "A parameter is not formatted correctly"


def test_unknown_key_is_901(api):
    body = assert_lr_error(
        api.get(
            f"{LR_PING}?apikey=11111111-2222-3333-4444-555555555555&apisecret=11111111-2222-3333-4444-555555555555"
        ),
        901,
        403,
    )
    assert body["Message"] == CODES[901].message


def test_unknown_key_without_secret_is_901_not_923(api):
    assert_lr_error(api.get(f"{LR_PING}?apikey=11111111-2222-3333-4444-555555555555"), 901, 403)


def test_missing_secret_is_923(api, tenant):
    assert_lr_error(api.get(f"{LR_PING}?apikey={tenant.api_key}"), 923, 400)


def test_missing_secret_with_an_expiry_header_is_1209(api, tenant):
    response = api.get(
        f"{LR_PING}?apikey={tenant.api_key}", HTTP_X_REQUEST_EXPIRES="2030-1-1 1:1:1 PM"
    )
    assert_lr_error(response, 1209, 400)


def test_wrong_secret_is_902(api, tenant):
    response = api.get(
        f"{LR_PING}?apikey={tenant.api_key}&apisecret=11111111-2222-3333-4444-555555555555"
    )
    assert_lr_error(response, 902, 401)


def test_malformed_key_is_920_and_malformed_secret_921(api, tenant):
    assert_lr_error(api.get(f"{LR_PING}?apikey=not-a-guid&apisecret=x"), 920, 400)
    assert_lr_error(api.get(f"{LR_PING}?apikey={tenant.api_key}&apisecret=not-a-guid"), 921, 400)


def test_errors_leave_as_json_whatever_accept_says(api, tenant):
    response = api.get(f"{LR_PING}?apikey={tenant.api_key}", HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("application/json")
    assert_lr_error(response, 923, 400)


@pytest.mark.urls(PROBE_URLS)
def test_post_with_a_non_json_content_type_is_1083(lr):
    path = "/api/v1/_probe/echo"
    response = lr.client.post(
        f"{path}?apikey={lr.credential.tenant.api_key}",
        "a=1",
        content_type="application/x-www-form-urlencoded",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    body = assert_lr_error(response, 1083, 400)
    assert body["Description"] == "Please use a valid content type header as application/json."
    text = lr.client.post(
        f"{path}?apikey={lr.credential.tenant.api_key}",
        '{"a":1}',
        content_type="text/plain",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    assert_lr_error(text, 1083, 400)


@pytest.mark.urls(PROBE_URLS)
def test_non_json_body_is_1083_even_where_the_body_is_not_read(lr):
    url = f"/api/v1/_probe/nobody?apikey={lr.credential.tenant.api_key}"
    headers = {"HTTP_X_LOGINRADIUS_APISECRET": lr.credential.raw}
    form = lr.client.post(url, "a=1", content_type="application/x-www-form-urlencoded", **headers)
    assert_lr_error(form, 1083, 400)
    charset = lr.client.post(url, "{}", content_type="application/json; charset=utf-8", **headers)
    assert charset.status_code == 200 and charset.json() == {"IsPosted": True}
    empty = lr.client.post(url, "", content_type="text/plain", **headers)
    assert empty.status_code == 200  # no body, nothing to refuse


@pytest.mark.urls(PROBE_URLS)
@pytest.mark.parametrize(
    "method, code", [("post", 965), ("put", 1079), ("delete", 1082), ("patch", 1079), ("get", 1090)]
)
def test_malformed_json_body_by_method(lr, method, code):
    response = lr.client.generic(
        method.upper(),
        f"/api/v1/_probe/echo?apikey={lr.credential.tenant.api_key}",
        '{"FirstName": ',
        content_type="application/json",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    if method == "patch":  # the probe has no PATCH handler: 405 comes first, still an LR body
        assert_lr_error(response, 405, 405)
    else:
        assert_lr_error(response, code, 400)


@pytest.mark.urls(PROBE_URLS)
def test_json_array_where_an_object_is_needed_is_965(lr):
    response = lr.post("/api/v1/_probe/echo", body=[1, 2])
    assert_lr_error(response, 965, 400)


@pytest.mark.urls(PROBE_URLS)
def test_unhandled_exception_is_950_with_correlation_id_and_no_internals(lr, caplog):
    response = lr.get("/api/v1/_probe/boom", HTTP_X_REQUEST_ID="trace-42")
    body = assert_lr_error(response, 950, 500)
    assert body["Data"] == {"CorrelationId": "trace-42"}
    assert "trace-42" in body["Description"]
    assert response["X-Request-Id"] == "trace-42"
    text = response.content.decode()
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


@pytest.mark.urls(PROBE_URLS)
def test_credential_scoped_elsewhere_is_1143_on_probe(api, tenant):
    from tests.factories import ApiCredentialFactory

    scoped = ApiCredentialFactory(tenant=tenant, scopes=["roles"])
    response = api.get(f"/api/v1/_probe/echo?apikey={tenant.api_key}&apisecret={scoped.raw}")
    body = assert_lr_error(response, 1143, 403)
    assert (
        body["Description"]
        == "Your LoginRadius site secret does not have authorization to access this endpoint."
    )


@pytest.mark.parametrize(
    "path",
    ["/identity/v2/manage/nothing-here", "/api/v1/nothing", "/Identity/V2/x", "/api/v2/nothing"],
)
def test_unknown_api_paths_are_json_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body.get("ErrorCode", body.get("errorCode")) == 404
    if path.startswith("/api/v2/"):
        assert_lr_error(response, 404, lower_camel=True)


def test_unknown_html_path_is_the_html_404(client, db):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_method_not_allowed_is_an_lr_body(lr):
    assert_lr_error(lr.delete(LR_PING), 405, 405)


def test_registry_entries_are_complete():
    for code, entry in CODES.items():
        assert entry.code == code and entry.message and entry.description
        assert 400 <= entry.status < 600
    for code in (
        901,
        902,
        908,
        920,
        921,
        923,
        950,
        965,
        1079,
        1082,
        1083,
        1090,
        1143,
        *range(1207, 1213),
    ):
        assert code in CODES

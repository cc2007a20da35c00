"""The request edge: strict signing over every credential path (M2M included), key-only
traffic in its own rate-limit bucket, the request-body cap, exact body signatures with a
replay store, counted secret-only legacy calls, and lone surrogates refused at the parser."""

import base64
import io
import json
import wsgiref.util
from urllib.parse import quote, urlencode

import pytest
from django.core import signals
from django.db import close_old_connections
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import Account
from portal import services
from portal.audit import Actor
from portal.lrapi import signing
from portal.lrapi.errors import LRError
from portal.lrapi.params import CIQuery
from portal.models import AuditEvent
from portal.tenant_commands import TenantSettingsChange
from tests.factories import AccountFactory
from tests.hardening.conftest import set_tenant_settings
from tests.portal.conftest import (
    LR_PING,
    assert_lr_error,
    hmac_b64,
    node_digest,
    python_sdk_digest,
    utc_expiry,
)
from tokens.commands import SessionIssue
from tokens.models.sessions import AccessToken
from tokens.services.sessions import access_token_elevate, session_issue

pytestmark = pytest.mark.django_db

TOKEN_URL = "/service/oauth/token"
TENANT_PATH = "/api/v1/tenant"
ADMIN = Actor.system("test")


@pytest.fixture
def api():
    return APIClient()


def _strict(tenant) -> None:
    services.tenant_update_settings(
        TenantSettingsChange(changes={"request_signing": "strict"}), tenant=tenant, actor=ADMIN
    )


def _expiry() -> str:
    return utc_expiry().strftime("%Y-%m-%d %H:%M:%S")


def _signed(api, method, path, secret, *, body=None, expiry=None, digest=None, **headers):
    """A request signed the way the Python SDK signs it (`:{}` for a request without payload);
    `expiry` and `digest` replay an earlier request's signature."""
    expiry = expiry or _expiry()
    if method != "GET" and body is None:
        body = "{}"  # the SDK sends `{}` on PUT and DELETE without a payload
    digest = digest or python_sdk_digest(secret, "http://testserver" + path, expiry, body or "{}")
    headers.update(HTTP_X_REQUEST_EXPIRES=expiry, HTTP_DIGEST=f"SHA-256={digest}")
    if method == "GET":
        response = api.get(path, **headers)
    else:
        response = api.generic(method, path, body, content_type="application/json", **headers)
    return response, expiry, digest


def _token_request(api, credential, how):
    fields = {
        "grant_type": "client_credentials",
        "client_id": credential.tenant.api_key,
        "client_secret": credential.raw,
    }
    if how == "json":
        return api.post(TOKEN_URL, json.dumps(fields), content_type="application/json")
    if how == "form":
        return api.post(
            TOKEN_URL, urlencode(fields), content_type="application/x-www-form-urlencoded"
        )
    basic = base64.b64encode(f"{credential.tenant.api_key}:{credential.raw}".encode()).decode()
    return api.post(
        TOKEN_URL,
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


# --- 4. strict request signing governs every credential path ----------------------------


@pytest.mark.parametrize("how", ["json", "form", "basic"])
def test_strict_signing_refuses_the_client_credentials_grant(api, credential, how):
    _strict(credential.tenant)
    response = _token_request(api, credential, how)
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"error", "error_description"}
    assert response.json()["error"] == "unauthorized_client"
    assert response["Cache-Control"] == "no-store"


def test_strict_signing_answers_the_same_whatever_the_secret(api, credential):
    """The refusal comes before the secret is looked at: it tells nothing about the secret."""
    _strict(credential.tenant)
    wrong = api.post(
        TOKEN_URL,
        {
            "grant_type": "client_credentials",
            "client_id": credential.tenant.api_key,
            "client_secret": "00000000-0000-4000-8000-000000000000",
        },
        format="json",
    )
    right = _token_request(api, credential, "json")
    assert (wrong.status_code, wrong.json()) == (right.status_code, right.json())


def test_m2m_token_issued_before_the_switch_to_strict_stops_working(api, credential):
    token = _token_request(api, credential, "json").json()["access_token"]
    assert api.get(LR_PING, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    _strict(credential.tenant)
    assert_lr_error(api.get(LR_PING, HTTP_AUTHORIZATION=f"Bearer {token}"), 1207, 400)
    alongside = api.get(
        f"{LR_PING}?apikey={credential.tenant.api_key}", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert_lr_error(alongside, 1207, 400)
    # The mode is read at each use: back on preferred, the unexpired token works again.
    services.tenant_update_settings(
        TenantSettingsChange(changes={"request_signing": "preferred"}),
        tenant=credential.tenant,
        actor=ADMIN,
    )
    assert api.get(LR_PING, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_strict_signing_refuses_client_id_and_secret_on_management_calls(api, credential):
    _strict(credential.tenant)
    query = urlencode({"client_id": credential.tenant.api_key, "client_secret": credential.raw})
    assert_lr_error(api.get(f"{LR_PING}?{query}"), 1207, 400)


def test_strict_signing_refuses_the_unsigned_go_v12_impersonation_call(api, credential, account):
    """Go v12 never signs `manage/account/access_token?uid=`; strict mode makes no exception
    for it: it is the call that opens a session for any account."""
    _strict(credential.tenant)
    key, secret = credential.tenant.api_key, credential.raw
    path = "/identity/v2/manage/account/access_token?" + urlencode(
        {"apikey": key, "apisecret": secret, "uid": account.uid}
    )
    response = api.get(path, HTTP_X_LOGINRADIUS_APIKEY=key, HTTP_X_LOGINRADIUS_APISECRET=secret)
    assert_lr_error(response, 1207, 400)
    assert not AccessToken.objects.filter(family__account=account).exists()
    signed_path = "/identity/v2/manage/account/access_token?" + urlencode(
        {"apikey": key, "uid": account.uid}
    )
    response, _, _ = _signed(api, "GET", signed_path, secret)
    assert response.status_code == 200, response.content


def test_strict_signing_refuses_plain_secrets_on_the_legacy_access_token_paths(
    api, credential, account
):
    issued = session_issue(SessionIssue(), tenant=account.tenant, account=account, actor=ADMIN)
    _strict(credential.tenant)
    key, secret = credential.tenant.api_key, credential.raw
    for query, headers in (
        ({"key": key, "secret": secret}, {}),
        ({"secret": secret}, {}),  # the SDK's exchange and refresh calls send no key
        ({}, {"HTTP_X_LOGINRADIUS_APIKEY": key, "HTTP_X_LOGINRADIUS_APISECRET": secret}),
    ):
        path = "/api/v2/access_token/validate?" + urlencode(
            {**query, "access_token": issued.access_token}
        )
        assert_lr_error(api.get(path, **headers), 1207, 400, lower_camel=True)
    path = "/api/v2/access_token/validate?" + urlencode(
        {"key": key, "access_token": issued.access_token}
    )
    expiry = _expiry()
    response = api.get(
        path,
        HTTP_X_REQUEST_EXPIRES=expiry,
        HTTP_DIGEST=f"SHA-256={node_digest(secret, 'http://testserver' + path, expiry)}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["access_token"] == issued.access_token


# --- 5. key-only traffic has its own bucket -------------------------------------------------


def _key_only(client, tenant, **headers):
    return client.get(
        f"/identity/v2/auth/access_token/validate?apikey={tenant.api_key}&access_token=x", **headers
    )


def test_exhausting_the_key_only_bucket_leaves_management_calls_alone(tenant, lr):
    set_tenant_settings(tenant, rate_limit_key_only_per_tenant=3, rate_limit_per_tenant=5)
    public = APIClient()
    assert [_key_only(public, tenant).status_code for _ in range(3)] == [403, 403, 403]
    refused = _key_only(public, tenant)
    assert refused.status_code == 429 and refused.json()["ErrorCode"] == 429
    assert int(refused["Retry-After"]) >= 1
    assert [lr.get(TENANT_PATH).status_code for _ in range(5)] == [200] * 5


def test_exhausting_the_management_allowance_leaves_key_only_calls_alone(tenant, lr):
    set_tenant_settings(tenant, rate_limit_per_tenant=2, rate_limit_key_only_per_tenant=5)
    assert [lr.get(TENANT_PATH).status_code for _ in range(2)] == [200, 200]
    assert lr.get(TENANT_PATH).status_code == 429
    public = APIClient()
    assert [_key_only(public, tenant).status_code for _ in range(5)] == [403] * 5


def test_key_only_calls_are_limited_per_client_ip(tenant, lr, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    set_tenant_settings(tenant, rate_limit_key_only_per_ip=2, rate_limit_per_ip=2)
    public = APIClient()
    first = {"HTTP_X_FORWARDED_FOR": "203.0.113.10"}
    assert [_key_only(public, tenant, **first).status_code for _ in range(2)] == [403, 403]
    assert _key_only(public, tenant, **first).status_code == 429
    assert _key_only(public, tenant, HTTP_X_FORWARDED_FOR="203.0.113.11").status_code == 403
    # The same IP's management calls are counted apart from its key-only calls.
    assert [lr.get(TENANT_PATH, **first).status_code for _ in range(2)] == [200, 200]


def test_key_only_settings_have_defaults_and_zero_disables_them(tenant):
    assert tenant.setting("rate_limit_key_only_per_tenant") > 0
    assert tenant.setting("rate_limit_key_only_per_ip") > 0
    set_tenant_settings(
        tenant,
        rate_limit_key_only_per_tenant=0,
        rate_limit_key_only_per_ip=0,
        rate_limit_per_tenant=1,
        rate_limit_per_ip=1,
    )
    public = APIClient()
    assert {_key_only(public, tenant).status_code for _ in range(4)} == {403}


# --- 8. request-body cap --------------------------------------------------------------------


class CountingInput:
    """A wsgi.input of `size` bytes made on demand, counting what was read."""

    def __init__(self, size: int, prefix: bytes = b'{"email": "'):
        self.size, self.prefix, self.read_bytes = size, prefix, 0

    def _take(self, n: int) -> bytes:
        n = max(0, min(n, self.size - self.read_bytes))
        start = self.read_bytes
        self.read_bytes += n
        data = (self.prefix[start : start + n] + b"a" * n)[:n]
        return data

    def read(self, size: int = -1) -> bytes:
        return self._take(self.size if size is None or size < 0 else size)

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def _wsgi(path, stream, *, content_length=None, chunked=False, method="POST"):
    # The test settings deliver messages to files; the start-up refusal of that outside the
    # embedded default (portal/startup.py) has its own tests (test_no_pretend_delivery).
    with override_settings(ALLOW_UNDELIVERED_MESSAGES=True):
        from portal.wsgi import application

    environ: dict = {}
    wsgiref.util.setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": method,
            "PATH_INFO": path.split("?")[0],
            "QUERY_STRING": path.partition("?")[2],
            "CONTENT_TYPE": "application/json",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": stream,
        }
    )
    if content_length is not None:
        environ["CONTENT_LENGTH"] = str(content_length)
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = int(status.split()[0]), dict(headers)

    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return started["status"], started["headers"], body


@pytest.fixture
def wsgi_in_test_transaction():
    """Like Django's test client, keep the request signals from closing the test's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_wsgi_request_with_a_huge_content_length_is_refused_before_reading(
    tenant, settings, wsgi_in_test_transaction
):
    stream = CountingInput(100 * 1024 * 1024)
    status, headers, body = _wsgi(
        f"/identity/v2/auth/login?apikey={tenant.api_key}", stream, content_length=100 * 1024 * 1024
    )
    assert status == 413
    assert headers["Content-Type"].startswith("application/json")
    error = json.loads(body)
    assert (
        error["ErrorCode"] == 1090 and str(settings.REQUEST_BODY_MAX_BYTES) in error["Description"]
    )
    assert error["IsProviderError"] is False
    assert stream.read_bytes == 0


def test_wsgi_chunked_body_beyond_the_cap_is_refused_after_reading_at_most_the_cap(
    tenant, settings, wsgi_in_test_transaction
):
    settings.REQUEST_BODY_MAX_BYTES = 64 * 1024
    stream = CountingInput(10 * 1024 * 1024)
    status, _, body = _wsgi(
        f"/identity/v2/auth/login?apikey={tenant.api_key}", stream, chunked=True
    )
    assert status == 413 and json.loads(body)["ErrorCode"] == 1090
    assert stream.read_bytes <= settings.REQUEST_BODY_MAX_BYTES + 64 * 1024


def test_wsgi_chunked_body_within_the_cap_reaches_the_view(tenant, wsgi_in_test_transaction):
    AccountFactory(tenant=tenant, email="chunk@example.com")
    raw = json.dumps({"email": "chunk@example.com", "password": "not-the-password"}).encode()
    status, _, body = _wsgi(
        f"/identity/v2/auth/login?apikey={tenant.api_key}", io.BytesIO(raw), chunked=True
    )
    # The body was read: the password was checked (an empty body would be 908, email missing).
    assert json.loads(body)["ErrorCode"] == 966, body
    assert status == 401


def test_test_client_body_over_the_cap_is_413_with_a_loginradius_body(tenant, credential, settings):
    settings.REQUEST_BODY_MAX_BYTES = 1000
    client = APIClient()
    body = json.dumps({"email": "a" * 2000 + "@example.com", "password": "x"})
    response = client.post(
        f"/identity/v2/auth/login?apikey={tenant.api_key}", body, content_type="application/json"
    )
    assert_lr_error(response, 1090, 413)
    legacy = client.generic(
        "GET",
        f"/api/v2/access_token/validate?key={tenant.api_key}&secret={credential.raw}",
        body,
        content_type="application/json",
    )
    assert_lr_error(legacy, 1090, 413, lower_camel=True)
    small = client.post(
        f"/identity/v2/auth/login?apikey={tenant.api_key}",
        json.dumps({"email": "a@example.com"}),
        content_type="application/json",
    )
    assert small.status_code != 413


def test_default_cap_is_one_mebibyte_and_holds_the_largest_custom_object(settings):
    from customobjects.models import HARD_MAX_BYTES

    assert settings.REQUEST_BODY_MAX_BYTES == 1024 * 1024
    assert HARD_MAX_BYTES <= settings.REQUEST_BODY_MAX_BYTES


def test_custom_object_paths_keep_their_own_cap_and_error(tenant, credential, account, settings):
    """Custom-object paths are capped at their own hard limit with LoginRadius's 1002, also
    when the general cap is set lower, and refused before anything reads the body."""
    from customobjects.models import HARD_MAX_BYTES, CustomObjectType

    CustomObjectType.objects.create(tenant=tenant, name="orders")
    settings.REQUEST_BODY_MAX_BYTES = 1000
    client = APIClient()
    path = f"/identity/v2/manage/account/{account.uid}/customobject?" + urlencode(
        {"apikey": tenant.api_key, "objectname": "orders"}
    )
    fits = json.dumps({"a": "x" * 5000})  # over the general cap, within the type's 64 KiB
    response = client.post(
        path, fits, content_type="application/json", HTTP_X_LOGINRADIUS_APISECRET=credential.raw
    )
    assert response.status_code == 200, response.content
    stream = CountingInput(HARD_MAX_BYTES + 1)
    environ_path = f"/identity/v2/manage/account/{account.uid}/customobject"
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        status, _, body = _wsgi(
            f"{environ_path}?{urlencode({'apikey': tenant.api_key, 'objectname': 'orders'})}",
            stream,
            content_length=HARD_MAX_BYTES + 1,
        )
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert status == 400 and json.loads(body)["ErrorCode"] == 1002
    assert stream.read_bytes == 0


# --- 14. exact body signatures and the replay store -----------------------------------------


def test_signature_covers_the_body_exactly(api, credential, account):
    """A signature over `{"firstname": "bob"}` (the whole string lowercased, as a signer that
    folds case makes it) is good for that body only, not for `{"FirstName": "BOB"}`."""
    path = f"/identity/v2/manage/account/{account.uid}?apikey={credential.tenant.api_key}"
    expiry = _expiry()
    signed_text = (
        f"{expiry}:{quote(('http://testserver' + path).lower(), safe='')}:" + '{"firstname": "bob"}'
    )
    digest = hmac_b64(credential.raw, signed_text.lower())
    response, _, _ = _signed(
        api, "PUT", path, credential.raw, body='{"FirstName": "BOB"}', expiry=expiry, digest=digest
    )
    assert_lr_error(response, 1208, 401)
    account.refresh_from_db()
    assert account.first_name != "BOB"
    exact, _, _ = _signed(
        api, "PUT", path, credential.raw, body='{"firstname": "bob"}', expiry=expiry, digest=digest
    )
    assert exact.status_code == 200, exact.content
    account.refresh_from_db()
    assert account.first_name == "bob"


def test_signature_url_part_stays_case_folded(api, credential, account):
    """The SDKs lowercase the URL before signing, so the URL part is compared case-folded."""
    path = f"/identity/v2/manage/account/{account.uid}?apikey={credential.tenant.api_key}"
    upper = path.replace("/identity/v2/manage/account/", "/Identity/V2/Manage/Account/")
    expiry = _expiry()
    digest = python_sdk_digest(
        credential.raw, "http://testserver" + path, expiry, '{"FirstName": "Bob"}'
    )
    response, _, _ = _signed(
        api, "PUT", upper, credential.raw, body='{"FirstName": "Bob"}', expiry=expiry, digest=digest
    )
    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert account.first_name == "Bob"


def test_a_signed_get_replayed_as_a_delete_is_refused(api, credential, account):
    path = f"/identity/v2/manage/account/{account.uid}?apikey={credential.tenant.api_key}"
    read, expiry, digest = _signed(api, "GET", path, credential.raw)
    assert read.status_code == 200, read.content
    replay, _, _ = _signed(
        api, "DELETE", path, credential.raw, body="{}", expiry=expiry, digest=digest
    )
    assert_lr_error(replay, 1208, 401)
    assert Account.objects.filter(pk=account.pk).exists()


def test_an_identical_signed_get_may_repeat(api, credential, account):
    path = f"/identity/v2/manage/account/{account.uid}?apikey={credential.tenant.api_key}"
    first, expiry, digest = _signed(api, "GET", path, credential.raw)
    again, _, _ = _signed(api, "GET", path, credential.raw, expiry=expiry, digest=digest)
    assert (first.status_code, again.status_code) == (200, 200)


def test_a_signed_write_cannot_be_replayed(api, credential, account):
    path = f"/identity/v2/manage/account/{account.uid}?apikey={credential.tenant.api_key}"
    body = '{"FirstName": "Once"}'
    first, expiry, digest = _signed(api, "PUT", path, credential.raw, body=body)
    assert first.status_code == 200, first.content
    events = AuditEvent.objects.count()
    again, _, _ = _signed(api, "PUT", path, credential.raw, body=body, expiry=expiry, digest=digest)
    assert_lr_error(again, 1208, 401)
    assert AuditEvent.objects.count() == events


def test_a_digest_first_seen_as_a_delete_is_refused_as_a_get(api, credential):
    victim = AccountFactory(tenant=credential.tenant)
    path = f"/identity/v2/manage/account/{victim.uid}?apikey={credential.tenant.api_key}"
    deleted, expiry, digest = _signed(api, "DELETE", path, credential.raw, body="{}")
    assert deleted.status_code == 200, deleted.content
    read, _, _ = _signed(api, "GET", path, credential.raw, expiry=expiry, digest=digest)
    assert_lr_error(read, 1208, 401)


def test_an_unreachable_replay_store_refuses_signed_requests(api, credential, account, monkeypatch):
    """Fail closed: a signed request that cannot be recorded is refused (503); plain-secret
    requests of a tenant in preferred mode are unaffected."""

    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache down")

            return fail

    monkeypatch.setattr(signing, "cache", Down())
    path = f"/identity/v2/manage/account/{account.uid}?apikey={credential.tenant.api_key}"
    response, _, _ = _signed(api, "GET", path, credential.raw)
    assert_lr_error(response, 950, 503)
    assert int(response["Retry-After"]) >= 1
    plain = api.get(path, HTTP_X_LOGINRADIUS_APISECRET=credential.raw)
    assert plain.status_code == 200, plain.content


# --- 15. secret-only legacy calls are counted -----------------------------------------------


def _secret_only(api, secret, token="x"):
    return api.get(
        "/api/v2/access_token/validate?" + urlencode({"secret": secret, "access_token": token})
    )


def test_secret_only_legacy_calls_count_against_the_rate_limits(api, credential):
    set_tenant_settings(credential.tenant, rate_limit_per_credential=2)
    assert [_secret_only(api, credential.raw).status_code for _ in range(2)] == [403, 403]
    refused = _secret_only(api, credential.raw)
    assert refused.status_code == 429 and refused.json()["errorCode"] == 429
    assert int(refused["Retry-After"]) >= 1


def test_secret_only_legacy_failures_are_counted_per_ip(api, credential, settings):
    settings.RATE_LIMIT_AUTH_FAILURES_PER_IP = 2
    wrong = "00000000-0000-4000-8000-000000000000"
    assert [_secret_only(api, wrong).json()["errorCode"] for _ in range(2)] == [902, 902]
    refused = _secret_only(api, wrong)
    assert refused.status_code == 429, refused.content
    assert _secret_only(api, "not-a-guid").status_code == 429  # 921 counts too


# --- 16. lone surrogates are refused at the parser ------------------------------------------


SURROGATE = "\\ud800"  # the JSON escape of a lone high surrogate


def _raw(template: str) -> str:
    return template.replace("@S@", SURROGATE)


def _bearer_for(account) -> str:
    issued = session_issue(
        SessionIssue(), tenant=account.tenant, account=account, actor=Actor.account(account.uid)
    )
    access_token_elevate(
        tenant=account.tenant,
        access_token=issued.access_token,
        actor=Actor.account(account.uid),
        method="test",
    )
    return issued.access_token


SURROGATE_CASES = [
    # (name, method, path, raw body, auth: "key" | "token" | "manage", malformed-body code)
    (
        "login email",
        "post",
        "/identity/v2/auth/login",
        '{"email": "@S@x@example.com", "password": "Passw0rd!"}',
        "key",
        965,
    ),
    (
        "login password",
        "post",
        "/identity/v2/auth/login",
        '{"email": "m@example.com", "password": "a@S@"}',
        "key",
        965,
    ),
    (
        "password reset",
        "put",
        "/identity/v2/auth/password/reset",
        '{"resettoken": "t", "password": "New@S@pass1"}',
        "key",
        1079,
    ),
    (
        "forgot password",
        "post",
        "/identity/v2/manage/account/forgot/token",
        '{"email": "m@S@@example.com"}',
        "manage",
        965,
    ),
    (
        "security answers",
        "put",
        "/identity/v2/auth/account/2fa/securityquestionanswer",
        '{"securityquestionanswer": {"q1": "Town@S@"}}',
        "token",
        1079,
    ),
    (
        "push registration",
        "post",
        "/identity/v2/auth/account/2fa/push",
        '{"DeviceToken": "d@S@", "DeviceName": "p"}',
        "token",
        965,
    ),
    (
        "profile Company",
        "put",
        "/identity/v2/manage/account/{uid}",
        '{"Company": "ACME@S@"}',
        "manage",
        1079,
    ),
    ("a key", "put", "/identity/v2/manage/account/{uid}", '{"Custom@S@": 1}', "manage", 1079),
    (
        "nested in a list",
        "put",
        "/identity/v2/manage/account/{uid}",
        '{"Company": "x", "Tags": [["@S@"]]}',
        "manage",
        1079,
    ),
]


@pytest.mark.parametrize(
    "name,method,path,raw,auth,code", SURROGATE_CASES, ids=[c[0] for c in SURROGATE_CASES]
)
def test_a_lone_surrogate_in_a_json_body_is_400(
    tenant, credential, name, method, path, raw, auth, code
):
    member = AccountFactory(tenant=tenant, email="m@example.com", first_name="Kim")
    profile_before = dict(member.profile or {})
    path = path.format(uid=member.uid)
    sep = "&" if "?" in path else "?"
    client = APIClient()
    headers = {}
    if auth == "token":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {_bearer_for(member)}"
    if auth == "manage":
        headers["HTTP_X_LOGINRADIUS_APISECRET"] = credential.raw
    events = AuditEvent.objects.count()
    response = getattr(client, method)(
        f"{path}{sep}apikey={tenant.api_key}", _raw(raw), content_type="application/json", **headers
    )
    body = assert_lr_error(response, code, 400)
    assert "surrogate" in body["Description"]
    assert AuditEvent.objects.count() == events
    member.refresh_from_db()
    assert member.profile == profile_before and member.first_name == "Kim"


def test_a_lone_surrogate_in_security_answers_at_sign_in_is_400(tenant):
    from django.contrib.auth.hashers import make_password

    from portal.crypto import encrypt
    from security import services as security_services
    from security.commands import SecurityAnswersSet
    from security.models import TotpFactor

    member = AccountFactory(
        tenant=tenant, email="answers@example.com", password=make_password("answers-pw-1")
    )
    security_services.security_answers_set(
        SecurityAnswersSet(answers={"q1": "Old Town"}), tenant=tenant, actor=ADMIN, account=member
    )
    TotpFactor.objects.create(
        tenant=tenant, account=member, secret_encrypted=encrypt("JBSWY3DPEHPK3PXP"), confirmed=True
    )
    client = APIClient()
    signed_in = client.post(
        f"/identity/v2/auth/login?apikey={tenant.api_key}",
        {"email": "answers@example.com", "password": "answers-pw-1"},
        format="json",
    )
    assert signed_in.status_code == 200, signed_in.content
    challenge = signed_in.json()["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]
    events = AuditEvent.objects.count()
    path = (
        f"/identity/v2/auth/login/2fa/verification/securityquestionanswer?apikey={tenant.api_key}"
        f"&secondfactorauthenticationtoken={challenge}"
    )
    response = client.post(
        path,
        _raw('{"securityquestionanswer": {"q1": "Old Town@S@"}}'),
        content_type="application/json",
    )
    body = assert_lr_error(response, 965, 400)
    assert "surrogate" in body["Description"]
    assert AuditEvent.objects.count() == events


def test_a_surrogate_pair_is_still_accepted(lr, account):
    """A proper escaped pair (an emoji) is valid Unicode and goes through."""
    response = lr.client.put(
        f"/identity/v2/manage/account/{account.uid}?apikey={account.tenant.api_key}",
        '{"Company": "ACME \\ud83d\\ude00"}',
        content_type="application/json",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert account.profile["Company"] == "ACME \U0001f600"


def test_a_lone_surrogate_in_a_query_value_is_refused():
    with pytest.raises(LRError) as caught:
        CIQuery({"email": "\ud800@example.com"})
    assert caught.value.status_code == 400 and caught.value.error_code == 908


def test_rate_limit_keys_never_fail_on_a_surrogate(tenant):
    from portal import ratelimit

    ratelimit.sensitive_operation_hit(tenant=tenant, operation="signin", key="\ud800@example.com")

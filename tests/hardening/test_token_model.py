"""The security model for access tokens (docs/security-model.md, portal/security_model.py).

Every token here is real: a sign-in through `POST /identity/v2/auth/login`, an impersonation
token from the manage `access_token?uid=` call, and elevation through a token-side
reauthentication. The matrix at the end calls every access-token route with a plain and an
impersonation token and holds each answer against the model's table.
"""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from customobjects.models import CustomObjectRecord, CustomObjectType
from portal import security_model
from portal.models import AuditEvent
from security.models import PasskeyCredential
from tests.factories import AccountFactory, ApiCredentialFactory
from tests.hardening.test_access_matrix import changed, snapshot
from tests.security.soft_authenticator import SoftAuthenticator
from tokens.models import AccessToken, TokenFamily

pytestmark = pytest.mark.django_db

A = "/identity/v2/auth"
M = "/identity/v2/manage/account"
PASSWORD = "Model-passw0rd!"
ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
def holder(tenant):
    account = AccountFactory(tenant=tenant, email="holder@example.com")
    account.password = make_password(PASSWORD)
    account.save()
    return account


def sign_in(tenant, email="holder@example.com", password=PASSWORD) -> str:
    response = APIClient().post(
        f"{A}/login?{urlencode({'apikey': tenant.api_key})}",
        {"email": email, "password": password},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()["access_token"]


def impersonate(credential, account) -> dict:
    response = APIClient().get(
        f"{M}/access_token?{urlencode({'apikey': credential.tenant.api_key, 'uid': account.uid, 'reason': 'support ticket'})}",
        HTTP_X_LOGINRADIUS_APISECRET=credential.raw,
    )
    assert response.status_code == 200, response.json()
    return response.json()


def call(tenant, token, method, path, body=None, **query):
    url = f"{path}?{urlencode({'apikey': tenant.api_key, **query})}"
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "get":
        return client.get(url, **headers)
    return getattr(client, method)(url, body if body is not None else {}, format="json", **headers)


def reauth_password(tenant, token, password=PASSWORD):
    return call(tenant, token, "put", f"{A}/account/reauth/password", {"password": password})


def refusal(response) -> tuple[int, str]:
    body = response.json()
    return body.get("ErrorCode"), body.get("Description")


# ---- the table covers every access-token route -----------------------------------------


def _token_routes():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                cls = getattr(pattern.callback, "view_class", None)
                if cls is not None and getattr(cls, "auth_mode", None) == "access_token":
                    key_only = {m.lower() for m in getattr(cls, "key_only_methods", ())}
                    methods = [
                        m
                        for m in ("get", "post", "put", "patch", "delete")
                        if hasattr(cls, m) and m not in key_only
                    ]
                    yield prefix + str(pattern.pattern), pattern.name, methods

    return list(walk(get_resolver().url_patterns))


def test_every_access_token_route_has_a_rule_and_no_rule_is_stale():
    routes = _token_routes()
    assert routes
    missing = []
    for route, name, methods in routes:
        for method in methods:
            try:
                security_model.token_rule(route_name=name, method=method)
            except Exception:
                missing.append(f"{method.upper()} /{route} ({name})")
    assert not missing, "access-token routes the security model does not list: " + ", ".join(
        missing
    )
    served = {name for _, name, _ in routes}
    assert not set(security_model.TOKEN_ROUTES) - served


# ---- finding 1: passkeys need an elevated token; impersonation never registers one --------


def test_a_plain_sign_in_token_cannot_register_a_passkey(tenant, holder):
    token = sign_in(tenant)
    for method, path in (
        ("get", f"{A}/account/register/passkey/begin"),
        ("post", f"{A}/account/register/passkey/finish"),
    ):
        response = call(tenant, token, method, path, {"id": "x", "response": {}})
        assert response.status_code == 403
        assert refusal(response) == (1143, security_model.ELEVATION_REQUIRED)
    assert not PasskeyCredential.objects.exists()


def test_an_impersonation_token_cannot_register_a_passkey_even_after_reauth(
    tenant, holder, credential
):
    token = impersonate(credential, holder)["access_token"]
    response = call(tenant, token, "get", f"{A}/account/register/passkey/begin")
    assert refusal(response) == (1143, security_model.IMPERSONATION_REFUSED)
    # It cannot be elevated: reauthentication is refused to it, even with the right password.
    assert refusal(reauth_password(tenant, token)) == (1143, security_model.IMPERSONATION_REFUSED)
    assert AccessToken.objects.filter(elevated_until__isnull=False).count() == 0
    assert refusal(call(tenant, token, "get", f"{A}/account/register/passkey/begin"))[0] == 1143
    assert not PasskeyCredential.objects.exists()


def test_reauthentication_elevates_the_token_it_was_made_with_and_only_it(tenant, holder):
    token, other = sign_in(tenant), sign_in(tenant)
    assert refusal(call(tenant, token, "get", f"{A}/account/register/passkey/begin"))[0] == 1143
    response = reauth_password(tenant, token)
    assert response.status_code == 200, response.json()
    event = AuditEvent.objects.get(action="session.elevated")
    assert (event.actor_type, event.subject_uid) == ("account", holder.uid)

    begin = call(tenant, token, "get", f"{A}/account/register/passkey/begin")
    assert begin.status_code == 200, begin.json()
    credential = SoftAuthenticator().create(
        begin.json()["RegisterBeginCredential"]["publicKey"], origin=ORIGIN
    )
    finish = call(tenant, token, "post", f"{A}/account/register/passkey/finish", credential)
    assert finish.status_code == 200, finish.json()
    assert PasskeyCredential.objects.filter(account=holder).count() == 1
    # The account's other token was not elevated by this reauthentication, nor by a failed one.
    assert refusal(call(tenant, other, "get", f"{A}/account/register/passkey/begin")) == (
        1143,
        security_model.ELEVATION_REQUIRED,
    )
    assert reauth_password(tenant, other, password="wrong-password").status_code == 401
    assert refusal(call(tenant, other, "get", f"{A}/account/register/passkey/begin")) == (
        1143,
        security_model.ELEVATION_REQUIRED,
    )
    assert AuditEvent.objects.filter(action="session.elevated").count() == 1


def test_elevation_ends_after_the_tenants_elevation_minutes(tenant, holder):
    token = sign_in(tenant)
    assert reauth_password(tenant, token).status_code == 200
    assert call(tenant, token, "get", f"{A}/account/register/passkey/begin").status_code == 200
    later = timezone.now() + timedelta(minutes=tenant.setting("elevation_minutes"), seconds=1)
    with freeze_time(later):
        response = call(tenant, token, "get", f"{A}/account/register/passkey/begin")
    assert refusal(response) == (1143, security_model.ELEVATION_REQUIRED)


# ---- finding 2: second-factor destinations and answers need elevation --------------------


def test_a_plain_token_cannot_replace_the_sms_factor_or_set_security_answers(tenant, holder):
    from security.models import OtpFactor, SecurityAnswer

    token = sign_in(tenant)
    before = snapshot()
    phone = call(tenant, token, "put", f"{A}/account/2fa", {"phoneno2fa": "+15550009999"})
    answers = call(
        tenant,
        token,
        "put",
        f"{A}/account/2fa/securityquestionanswer",
        {"securityquestionanswer": {"q1": "paris"}},
    )
    assert refusal(phone) == refusal(answers) == (1143, security_model.ELEVATION_REQUIRED)
    assert not OtpFactor.objects.exists() and not SecurityAnswer.objects.exists()
    assert not changed(before, snapshot())


# ---- finding 3: impersonation cannot widen the asking credential's scopes ----------------


def test_impersonation_through_a_scoped_credential_reaches_only_its_sections(
    tenant, holder, credential
):
    scoped = ApiCredentialFactory(tenant=tenant, scopes=["accounts"])
    object_type = CustomObjectType.objects.create(tenant=tenant, name="notes")
    CustomObjectRecord.objects.create(
        tenant=tenant, object_type=object_type, account=holder, data={"k": "secret"}
    )
    issued = impersonate(scoped, holder)
    assert TokenFamily.objects.get(account=holder).scopes == ["accounts"]

    def refused_everywhere(token):
        read = call(tenant, token, "get", f"{A}/customobject", objectname="notes")
        assert refusal(read) == (1143, security_model.SCOPE_REFUSED), read.json()
        answers = call(
            tenant,
            token,
            "put",
            f"{A}/account/2fa/securityquestionanswer",
            {"securityquestionanswer": {"q1": "paris"}},
        )
        assert refusal(answers)[0] == 1143
        assert "secret" not in read.content.decode()

    refused_everywhere(issued["access_token"])
    # The token's own session stays usable: validate it, then keep its kind across a refresh
    # and a slide.
    assert (
        call(tenant, issued["access_token"], "get", f"{A}/access_token/validate").status_code == 200
    )
    # (The app's back end refreshes with its own, session-scoped credential.)
    refreshed = APIClient().get(
        f"{M}/access_token/refresh?{urlencode({'apikey': tenant.api_key, 'refresh_token': issued['refresh_token']})}",
        HTTP_X_LOGINRADIUS_APISECRET=credential.raw,
    )
    assert refreshed.status_code == 200, refreshed.json()
    refused_everywhere(refreshed.json()["access_token"])
    slid = call(tenant, refreshed.json()["access_token"], "get", f"{A}/access_token/sliding_token")
    assert slid.status_code == 200, slid.json()
    refused_everywhere(slid.json()["access_token"])


def test_actions_with_an_impersonation_token_are_audited_as_the_impersonator(
    tenant, holder, credential
):
    object_type = CustomObjectType.objects.create(tenant=tenant, name="notes")
    token = impersonate(credential, holder)["access_token"]
    created = call(
        tenant,
        token,
        "post",
        f"{A}/customobject",
        {"note": "left by support"},
        objectname=object_type.name,
    )
    assert created.status_code == 200, created.json()
    event = AuditEvent.objects.filter(action__startswith="customobject").latest("id")
    assert (event.actor_type, event.actor_id) == ("credential", str(credential.pk))
    assert "impersonating" in event.actor_label
    assert event.subject_uid == holder.uid
    invalidated = call(tenant, token, "get", f"{A}/access_token/invalidate")
    assert invalidated.status_code == 200
    event = AuditEvent.objects.get(action="session.invalidated")
    assert event.actor_type == "credential" and event.subject_uid == holder.uid


# ---- the matrix: every access-token route, plain and impersonation ------------------------


@pytest.fixture
def matrix_world(tenant, holder):
    object_type = CustomObjectType.objects.create(tenant=tenant, name="matrixobj")
    record = CustomObjectRecord.objects.create(
        tenant=tenant, object_type=object_type, account=holder, data={"k": "v"}
    )
    return {"passkey_id": "matrix-passkey", "objectrecordid": record.record_id}


def _path(route: str, values: dict) -> str:
    from tests.hardening.routes import PARAM_RE

    return "/" + PARAM_RE.sub(lambda m: str(values[m.group("name")]), route)


BODY = {
    "password": PASSWORD,
    "phoneno2fa": "+15550009999",
    "otp": "000000",
    "securityquestionanswer": {"q1": "x"},
    "note": "x",
    "provider": "facebook",
    "providerid": "x",
}

# The profile update's route rule covers ordinary fields, which is what it is sent here; the
# fields that identify or protect the account take their own rules
# (security_model.PROFILE_FIELD_RULES), walked in tests/accounts/test_token_side_account.py.
ROUTE_BODY = {"auth_account": {"FirstName": "Matrix"}}


def _judge(response, *, before, expected: str | None, label: str) -> str | None:
    """What is wrong with one matrix call: `expected` is the Description of the refusal the
    model demands (None: the model allows the call, so no 1143 may come back)."""
    if response.status_code >= 500:
        return f"{label}: {response.status_code}"
    code, description = refusal(response) if response.content else (None, None)
    if expected is not None:
        if (code, description) != (1143, expected):
            return f"{label}: expected refusal, got {response.status_code} {code}"
        modified = changed(before, snapshot())
        return f"{label}: refused but changed {modified}" if modified else None
    if code == 1143:
        return f"{label}: allowed by the model but refused: {description}"
    return None


def _matrix(tenant, matrix_world, failures: list, *, token_for, expected_for):
    """Call every access-token route and method with `token_for(name, method)`; the model
    refuses with `expected_for(rule)` (None: it allows). Adds what is wrong to `failures`
    and yields each call's (rule, token, route, method)."""
    # One token (and, for plain tokens, one sign-in and one reauthentication) per route:
    # more than the per-account limits allow.
    tenant.settings.update(
        rate_limit_signin=0, rate_limit_reauth=0, rate_limit_otp_verify=0, rate_limit_token_send=0
    )
    tenant.save()
    for route, name, methods in _token_routes():
        for method in methods:
            rule = security_model.token_rule(route_name=name, method=method)
            token = token_for(name, method)
            before = snapshot()
            body = ROUTE_BODY.get(name, BODY)
            response = call(
                tenant, token, method, _path(route, matrix_world), body, objectname="matrixobj"
            )
            expected = expected_for(rule)
            failure = _judge(
                response, before=before, expected=expected, label=f"{method.upper()} /{route}"
            )
            if failure:
                failures.append(failure)
            yield rule, token, route, method


def test_every_access_token_route_treats_an_impersonation_token_as_the_model_says(
    tenant, holder, credential, matrix_world
):
    failures = []
    calls = list(
        _matrix(
            tenant,
            matrix_world,
            failures,
            token_for=lambda name, method: impersonate(credential, holder)["access_token"],
            expected_for=lambda rule: (
                None if rule.impersonation else security_model.IMPERSONATION_REFUSED
            ),
        )
    )
    assert len(calls) >= 40
    assert not failures, "\n".join(failures)


def test_every_access_token_route_asks_a_plain_token_for_elevation_as_the_model_says(
    tenant, matrix_world
):
    def plain_token(name, method):
        # A fresh account each time: a factor set up by one route would ask the next
        # sign-in for a second factor.
        email = f"matrix-{name}-{method}@example.com"
        AccountFactory(tenant=tenant, email=email, password=make_password(PASSWORD))
        return sign_in(tenant, email=email)

    def needs_elevation(rule):
        return security_model.ELEVATION_REQUIRED if rule.plain == security_model.ELEVATED else None

    failures, elevated_calls = [], 0
    for rule, token, route, method in _matrix(
        tenant, matrix_world, failures, token_for=plain_token, expected_for=needs_elevation
    ):
        if needs_elevation(rule) is None:
            continue
        # After a reauthentication made with the same token, the model lets it through.
        assert reauth_password(tenant, token).status_code == 200, route
        response = call(
            tenant, token, method, _path(route, matrix_world), BODY, objectname="matrixobj"
        )
        elevated_calls += 1
        if response.status_code >= 500 or (response.content and refusal(response)[0] == 1143):
            failures.append(
                f"{method.upper()} /{route}: refused to an elevated token: {response.content[:200]!r}"
            )
    assert elevated_calls >= 10
    assert not failures, "\n".join(failures)

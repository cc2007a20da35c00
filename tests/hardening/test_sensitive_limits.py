"""Per-account limits of sensitive operations on the endpoints that perform them: sign-in
(per login id), OTP verification, reauthentication (per account) and token sends (per
account or destination). An exceeded limit answers 429 with Retry-After and changes nothing."""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from accounts.models import Account
from portal.audit import Actor
from portal.crypto import decrypt
from security import services as security_services
from security.commands import OtpFactorSet
from security.models import LoginFailureCounter, OtpFactor, SecondFactorToken
from tests.factories import AccountFactory
from tests.hardening.conftest import set_tenant_settings
from tokens.commands import SessionIssue
from tokens.models import AccessToken, MultipurposeToken, OutboxMessage
from tokens.services.sessions import access_token_elevate, session_issue

pytestmark = pytest.mark.django_db
A = "/identity/v2/auth"
M = "/identity/v2/manage/account"
PASSWORD = "pw-limits-123"
PHONE = "+14155550123"
SYSTEM = Actor.system("test")


def own_session(member, *, elevated: bool = False):
    """A session of the account's own sign-in (an impersonation token reaches none of the
    routes these tests limit), elevated as a reauthentication would when asked."""
    session = session_issue(
        SessionIssue(), tenant=member.tenant, account=member, actor=Actor.account(member.uid)
    )
    if elevated:
        access_token_elevate(
            tenant=member.tenant,
            access_token=session.access_token,
            actor=Actor.account(member.uid),
            method="test",
        )
    return session


@pytest.fixture
def member(tenant):
    set_tenant_settings(tenant, send_cooldown_seconds=0)
    account = AccountFactory(tenant=tenant, email="limit@example.com", username="limited")
    account.password = make_password(PASSWORD)
    account.phone_id = PHONE
    account.save()
    return account


class Api:
    """Authentication API calls: the API key, and the access token when given."""

    def __init__(self, tenant, access_token=None):
        self.client = APIClient()
        self.tenant = tenant
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token}"} if access_token else {}

    def _url(self, path, params):
        return f"{path}?{urlencode({'apikey': self.tenant.api_key, **(params or {})})}"

    def get(self, path, params=None):
        return self.client.get(self._url(path, params), **self.headers)

    def post(self, path, body=None, params=None):
        return self.client.post(self._url(path, params), body or {}, format="json", **self.headers)

    def put(self, path, body=None, params=None):
        return self.client.put(self._url(path, params), body or {}, format="json", **self.headers)


def sms_factor(tenant, account, confirmed=True):
    security_services.otp_factor_set(
        OtpFactorSet(channel="sms", destination="+15550009999"),
        tenant=tenant,
        actor=SYSTEM,
        account=account,
    )
    OtpFactor.objects.filter(account=account, channel="sms").update(confirmed=confirmed)


def email_factor(tenant, account):
    security_services.otp_factor_set(
        OtpFactorSet(channel="email", destination="limit@example.com"),
        tenant=tenant,
        actor=SYSTEM,
        account=account,
    )
    OtpFactor.objects.filter(account=account, channel="email").update(confirmed=True)


def last_code(account, channel):
    message = OutboxMessage.objects.filter(account=account, channel=channel).latest("id")
    return json.loads(decrypt(message.context_encrypted))["code"]


def login_challenge(tenant) -> str:
    data = (
        Api(tenant).post(f"{A}/login", {"email": "limit@example.com", "password": PASSWORD}).json()
    )
    return data["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def state(account) -> dict:
    """What a refused request must leave unchanged."""
    return {
        "failures": list(
            LoginFailureCounter.objects.filter(account=account).values_list(
                "failure_count", flat=True
            )
        ),
        "access_tokens": AccessToken.objects.filter(account=account).count(),
        "outbox": OutboxMessage.objects.filter(account=account).count(),
        "second_factor_tokens": list(
            SecondFactorToken.objects.filter(account=account).values_list("pk", "used_at")
        ),
        "multipurpose": MultipurposeToken.objects.filter(account=account).count(),
        "factors": list(
            OtpFactor.objects.filter(account=account).values_list("channel", "confirmed")
        ),
        "account": Account.objects.filter(pk=account.pk).values().get(),
    }


def assert_429(response):
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["ErrorCode"] == 429 and body["IsProviderError"] is False
    assert body["Message"] and body["Description"]
    assert 1 <= int(response["Retry-After"]) <= 300  # the sensitive-operation window


def refused_and_unchanged(account, call):
    before = state(account)
    assert_429(call())
    assert state(account) == before


# --------------------------------------------------------------------------- sign-in


def test_signin_is_limited_per_normalised_login_id(tenant, member):
    set_tenant_settings(tenant, rate_limit_signin=2)
    api = Api(tenant)
    assert (
        api.post(f"{A}/login", {"email": "limit@example.com", "password": "wrong"}).status_code
        != 429
    )
    assert (
        api.post(f"{A}/login", {"email": " LIMIT@Example.com", "password": "wrong"}).status_code
        != 429
    )
    refused_and_unchanged(
        member, lambda: api.post(f"{A}/login", {"email": "Limit@example.com", "password": PASSWORD})
    )
    # Another login id has its own allowance.
    assert api.post(f"{A}/login", {"username": "limited", "password": PASSWORD}).status_code == 200
    cache.clear()
    assert (
        api.post(f"{A}/login", {"email": "limit@example.com", "password": PASSWORD}).status_code
        == 200
    )


# --------------------------------------------------------------------------- OTP verification


def test_login_second_factor_verification_is_limited_per_account(tenant, member):
    sms_factor(tenant, member)
    token = login_challenge(tenant)
    code = last_code(member, "sms")
    set_tenant_settings(tenant, rate_limit_otp_verify=1)
    api = Api(tenant)
    path, params = f"{A}/login/2fa/verification/otp", {"secondfactorauthenticationtoken": token}
    assert api.put(path, {"otp": wrong(code)}, params).json()["ErrorCode"] == 1067
    refused_and_unchanged(member, lambda: api.put(path, {"otp": code}, params))
    cache.clear()  # the window passes: the challenge and the code are still good
    with freeze_time(timezone.now() + timedelta(seconds=3)):  # past the wrong code's back-off
        response = api.put(path, {"otp": code}, params)
    assert response.status_code == 200 and response.json()["access_token"]


def test_factor_setup_verification_is_limited_per_account(tenant, member):
    sms_factor(tenant, member, confirmed=False)
    security_services.otp_factor_code_send(tenant=tenant, account=member, channel="sms")
    code = last_code(member, "sms")
    session = own_session(member, elevated=True)
    set_tenant_settings(tenant, rate_limit_otp_verify=1)
    api = Api(tenant, session.access_token)
    path = f"{A}/account/2fa/verification/otp"
    assert api.put(path, {"otp": wrong(code)}).json()["ErrorCode"] == 1067
    refused_and_unchanged(member, lambda: api.put(path, {"otp": code}))
    assert not OtpFactor.objects.get(account=member, channel="sms").confirmed


def test_otp_password_reset_and_phone_verification_are_limited_per_phone(tenant, member, lr):
    set_tenant_settings(tenant, rate_limit_otp_verify=1)
    otp = lr.post(f"{M}/smsotp/forgotpassword", {"phone": PHONE}).json()["Token"]
    api = Api(tenant)
    assert (
        api.put(
            f"{A}/password/otp", {"phone": PHONE, "otp": wrong(otp), "password": "N3w-passw0rd!"}
        ).json()["ErrorCode"]
        == 1067
    )
    refused_and_unchanged(
        member,
        lambda: api.put(
            f"{A}/password/otp", {"phone": PHONE, "otp": otp, "password": "N3w-passw0rd!"}
        ),
    )
    # The same phone's verification shares the allowance; the spelling does not matter.
    refused_and_unchanged(
        member, lambda: api.put(f"{A}/phone/otp", {"phone": "14155550123"}, {"otp": otp})
    )


def test_phone_verification_by_otp_is_limited(tenant, member, lr):
    otp = lr.post(f"{M}/smsotp/phoneidverification", {"phone": PHONE}).json()["Token"]
    set_tenant_settings(tenant, rate_limit_otp_verify=1)
    api = Api(tenant)
    assert (
        api.put(f"{A}/phone/otp", {"phone": PHONE}, {"otp": wrong(otp)}).json()["ErrorCode"] == 1067
    )
    refused_and_unchanged(member, lambda: api.put(f"{A}/phone/otp", {"phone": PHONE}, {"otp": otp}))
    cache.clear()
    assert api.put(f"{A}/phone/otp", {"phone": PHONE}, {"otp": otp}).status_code == 200


# --------------------------------------------------------------------------- reauthentication


def test_reauthentication_is_limited_per_account(tenant, member, lr):
    session = own_session(member)
    set_tenant_settings(tenant, rate_limit_reauth=2)
    api = Api(tenant, session.access_token)
    token = api.put(f"{A}/account/reauth/password", {"password": PASSWORD}).json()[
        "SecondFactorValidationToken"
    ]
    assert api.put(f"{A}/account/reauth/password", {"password": "wrong"}).json()["ErrorCode"] == 966
    refused_and_unchanged(
        member, lambda: api.put(f"{A}/account/reauth/password", {"password": PASSWORD})
    )
    # The back end's validation counts towards the same account's reauthentications.
    refused_and_unchanged(
        member,
        lambda: lr.post(
            f"{M}/{member.uid}/reauth/password", {"secondfactorvalidationtoken": token}
        ),
    )
    cache.clear()
    assert lr.post(
        f"{M}/{member.uid}/reauth/password", {"secondfactorvalidationtoken": token}
    ).json() == {"IsValid": True}


def test_reauth_validation_is_limited_per_account(tenant, member, lr):
    set_tenant_settings(tenant, rate_limit_reauth=1)
    validate = f"{M}/{member.uid}/reauth/password"
    assert lr.post(validate, {"secondfactorvalidationtoken": "guess-1"}).json()["ErrorCode"] == 1193
    refused_and_unchanged(
        member, lambda: lr.post(validate, {"secondfactorvalidationtoken": "guess-2"})
    )


# --------------------------------------------------------------------------- token sends (security)


def test_sign_in_code_resends_are_limited_per_account(tenant, member):
    sms_factor(tenant, member)
    email_factor(tenant, member)
    token = login_challenge(tenant)
    set_tenant_settings(tenant, rate_limit_token_send=1)
    api = Api(tenant)
    params = {"secondfactorauthenticationtoken": token}
    assert api.get(f"{A}/login/2fa/resend", params).json() == {"IsPosted": True}
    refused_and_unchanged(member, lambda: api.get(f"{A}/login/2fa/resend", params))
    refused_and_unchanged(
        member,
        lambda: api.post(f"{A}/login/2fa/otp/email", {"EmailId": "limit@example.com"}, params),
    )


def test_reauth_email_code_sends_are_limited_per_account(tenant, member):
    email_factor(tenant, member)
    session = own_session(member)
    set_tenant_settings(tenant, rate_limit_token_send=1)
    api = Api(tenant, session.access_token)
    assert api.get(f"{A}/account/reauth/2fa/otp/email").json() == {"IsPosted": True}
    refused_and_unchanged(member, lambda: api.get(f"{A}/account/reauth/2fa/otp/email"))


def test_push_challenges_are_limited_per_account(tenant, member):
    sms_factor(tenant, member)
    token = login_challenge(tenant)
    set_tenant_settings(tenant, rate_limit_token_send=1)
    api = Api(tenant)
    params = {"secondfactorauthenticationtoken": token}
    assert (
        api.post(f"{A}/login/2fa/push", params=params).status_code != 429
    )  # no device: refused, but counted
    refused_and_unchanged(member, lambda: api.post(f"{A}/login/2fa/push", params=params))


# --------------------------------------------------------------------------- token sends (multipurpose)


# Only a call that sends a message counts: tokens and OTPs only handed back to the caller
# are limited by the credential's API rate limits (tests/messages/test_generate_without_send.py).
SEND = {"sendemail": "true"}
VTOKEN = {"vtype": "email", "email": "limit@example.com", "sendemail": "true"}


@pytest.mark.parametrize(
    "method,path,body,params",
    [
        ("post", f"{M}/forgot/token", {"email": "limit@example.com"}, SEND),
        ("get", f"{M}/vtoken", None, VTOKEN),
    ],
)
def test_token_sends_are_limited_per_destination(tenant, member, lr, method, path, body, params):
    set_tenant_settings(tenant, rate_limit_token_send=1)

    def call():
        if method == "get":
            return lr.get(path, params)
        return lr.post(path, body, params)

    assert call().status_code == 200
    refused_and_unchanged(member, call)


def test_token_send_destinations_are_counted_separately(tenant, member, lr):
    set_tenant_settings(tenant, rate_limit_token_send=1)
    AccountFactory(tenant=tenant, email="other@example.com")
    assert lr.get(f"{M}/vtoken", VTOKEN).status_code == 200
    assert_429(lr.post(f"{M}/forgot/token", {"email": "Limit@Example.com"}, SEND))
    assert lr.post(f"{M}/forgot/token", {"email": "other@example.com"}, SEND).status_code == 200


def test_default_limits_leave_ordinary_use_alone(tenant, member, lr):
    for _ in range(int(tenant.setting("rate_limit_token_send"))):
        assert lr.get(f"{M}/vtoken", VTOKEN).status_code == 200
    assert_429(lr.get(f"{M}/vtoken", VTOKEN))

"""A factor is confirmed or it does not exist: replacing a confirmed factor's destination
leaves the old one in force until the new one is proven with a code sent to it, sign-in
never accepts an unconfirmed factor, and every factor added tells the account holder."""

import json
import time
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from accounts.models import Account
from portal.audit import Actor
from portal.crypto import decrypt, encrypt
from portal.models import AuditEvent
from security import services
from security.commands import OtpFactorSet, SecurityAnswersSet
from security.models import OtpFactor, SecurityAnswer, TotpFactor
from tests.factories import AccountFactory
from tests.security.fake_push import FakeDevice, push_relay  # noqa: F401 (a fixture)
from tests.security.soft_authenticator import SoftAuthenticator
from tokens.commands import SessionIssue
from tokens.models import OutboxMessage
from tokens.services.sessions import session_issue

A = "/identity/v2/auth"
LOGIN = f"{A}/login"
PASSWORD = "factor-rules-pw-1"
OLD_PHONE = "+15550001111"
NEW_PHONE = "+15550002222"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOTICE = "factoradded"
ORIGIN = "https://id.example.com"


# The tenant pushes through a signed webhook to a local relay (tests.security.fake_push).
pytestmark = pytest.mark.usefixtures("push_relay")


@pytest.fixture(autouse=True)
def _quiet_limits(tenant, settings):
    settings.PUBLIC_BASE_URL = ORIGIN
    tenant.settings = {"send_cooldown_seconds": 0}
    tenant.save()


def make_member(tenant, **kwargs) -> Account:
    kwargs.setdefault("email", "holder@example.com")
    account = AccountFactory(tenant=tenant, **kwargs)
    account.password = make_password(PASSWORD)
    account.save()
    return account


@pytest.fixture
def member(tenant):
    return make_member(tenant)


class Holder:
    """The account holder's app: a real access token, reauthenticated before each factor
    change (a factor change needs a recently reauthenticated token)."""

    def __init__(self, tenant, account):
        self.tenant, self.account = tenant, account
        self.token = session_issue(
            SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
        ).access_token
        self.client = APIClient()

    def url(self, path):
        return f"{path}{'&' if '?' in path else '?'}apikey={self.tenant.api_key}"

    def elevate(self):
        response = self.client.put(
            self.url(f"{A}/account/reauth/password"),
            {"password": PASSWORD},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
        )
        assert response.status_code == 200, response.json()

    def call(self, method, path, body=None):
        self.elevate()
        kwargs = {"format": "json"} if body is not None else {}
        return getattr(self.client, method)(
            self.url(path), body, HTTP_AUTHORIZATION=f"Bearer {self.token}", **kwargs
        )


def code_of(message: OutboxMessage) -> str:
    return json.loads(decrypt(message.context_encrypted))["code"]


def last_message(account, **filters) -> OutboxMessage:
    return OutboxMessage.objects.filter(account=account, **filters).latest("id")


def confirmed_sms(tenant, account, phone=OLD_PHONE):
    OtpFactor.objects.create(
        tenant=tenant, account=account, channel="sms", destination=phone, confirmed=True
    )


def confirmed_totp(tenant, account):
    TotpFactor.objects.create(
        tenant=tenant, account=account, secret_encrypted=encrypt(SECRET), confirmed=True
    )


def sign_in(tenant, client=None):
    client = client or APIClient()
    response = client.post(
        f"{LOGIN}?apikey={tenant.api_key}",
        {"email": "holder@example.com", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


def second_factor(tenant, token, suffix, body):
    path = f"{A}/login/2fa/verification/{suffix}?apikey={tenant.api_key}&secondfactorauthenticationtoken={token}"
    return APIClient().put(path, body, format="json")


# ------------------------------------------------------------------ replacing the 2FA phone


def test_new_2fa_phone_stays_pending_until_a_code_sent_to_it_confirms_it(tenant, member):
    confirmed_sms(tenant, member)
    holder = Holder(tenant, member)

    changed = holder.call("put", f"{A}/account/2fa", {"phoneno2fa": NEW_PHONE})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["OTPStatus"] == {"IsPosted": True}
    to_new = last_message(member, channel="sms")
    assert to_new.recipient == NEW_PHONE
    factor = OtpFactor.objects.get(account=member, channel="sms")
    assert (factor.destination, factor.confirmed) == (OLD_PHONE, True)

    # Sign-in still asks for the second factor, and sends its code to the old number.
    challenge = sign_in(tenant)["SecondFactorAuthentication"]
    assert challenge is not None and challenge["IsOTPAuthenticatorVerified"] is True
    assert challenge["OTPPhoneNo"].endswith("1111")
    to_old = last_message(member, channel="sms")
    assert to_old.recipient == OLD_PHONE
    # The code sent to the new number does not open a sign-in ...
    refused = second_factor(
        tenant, challenge["SecondFactorAuthenticationToken"], "otp", {"otp": code_of(to_new)}
    )
    assert refused.json()["ErrorCode"] == 1067
    # ... and the sign-in code sent to the old number does not confirm the new number.
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        wrong = holder.call("put", f"{A}/account/2fa/verification/otp", {"otp": code_of(to_old)})
    assert wrong.json()["ErrorCode"] == 1067
    assert OtpFactor.objects.get(account=member, channel="sms").destination == OLD_PHONE

    with freeze_time(timezone.now() + timedelta(seconds=10)):
        done = holder.call("put", f"{A}/account/2fa/verification/otp", {"otp": code_of(to_new)})
    assert done.status_code == 200, done.json()
    factor.refresh_from_db()
    assert (factor.destination, factor.confirmed, factor.pending_destination) == (
        NEW_PHONE,
        True,
        "",
    )
    assert (
        AuditEvent.objects.filter(action="otp_factor.confirmed", subject_uid=member.uid).count()
        == 1
    )
    notice = last_message(member, template=NOTICE)
    assert (notice.channel, notice.recipient) == ("email", "holder@example.com")

    later = sign_in(tenant)["SecondFactorAuthentication"]
    assert later["OTPPhoneNo"].endswith("2222")
    assert last_message(member, channel="sms").recipient == NEW_PHONE


def test_same_phone_again_changes_nothing(tenant, member):
    confirmed_sms(tenant, member)
    holder = Holder(tenant, member)
    assert holder.call("put", f"{A}/account/2fa", {"phoneno2fa": NEW_PHONE}).status_code == 200
    assert holder.call("put", f"{A}/account/2fa", {"phoneno2fa": OLD_PHONE}).status_code == 200
    factor = OtpFactor.objects.get(account=member, channel="sms")
    assert (factor.destination, factor.confirmed, factor.pending_destination) == (
        OLD_PHONE,
        True,
        "",
    )


# ------------------------------------------------------------------ replacing security answers


def _login_with_answers(tenant, answers):
    challenge = sign_in(tenant)["SecondFactorAuthentication"]
    assert challenge is not None
    path = (
        f"{A}/login/2fa/verification/securityquestionanswer?apikey={tenant.api_key}"
        f"&secondfactorauthenticationtoken={challenge['SecondFactorAuthenticationToken']}"
    )
    return APIClient().post(path, {"securityquestionanswer": answers}, format="json")


def test_new_answers_stay_pending_until_confirmed_with_a_code_sent_to_the_primary_email(
    tenant, member
):
    services.security_answers_set(
        SecurityAnswersSet(answers={"q1": "Old Town"}),
        tenant=tenant,
        actor=Actor.system("t"),
        account=member,
    )
    confirmed_totp(tenant, member)
    holder = Holder(tenant, member)
    before = OutboxMessage.objects.count()

    posted = holder.call(
        "put",
        f"{A}/account/2fa/securityquestionanswer",
        {"securityquestionanswer": {"q1": "New Town"}},
    )
    assert posted.status_code == 200, posted.json()
    assert posted.json()["IsPosted"] is True and posted.json()["OTPStatus"] == {"IsPosted": True}
    message = last_message(member)
    assert OutboxMessage.objects.count() == before + 1
    assert (message.channel, message.recipient) == ("email", "holder@example.com")
    # The pending answers do not open a sign-in; the confirmed ones still do.
    assert _login_with_answers(tenant, {"q1": "new town"}).json()["ErrorCode"] == 1134
    with freeze_time(timezone.now() + timedelta(seconds=2)):  # after the failure's delay
        assert services.security_answers_verify(account=member, answers={"q1": "old town"})

    with freeze_time(timezone.now() + timedelta(seconds=3)):
        bad = holder.call("put", f"{A}/account/2fa/securityquestionanswer", {"otp": "not-the-code"})
    assert bad.json()["ErrorCode"] == 1067
    with freeze_time(timezone.now() + timedelta(seconds=10)):
        done = holder.call(
            "put", f"{A}/account/2fa/securityquestionanswer", {"otp": code_of(message)}
        )
    assert done.status_code == 200 and done.json()["IsPosted"] is True, done.json()
    with freeze_time(timezone.now() + timedelta(seconds=20)):
        assert services.security_answers_verify(account=member, answers={"q1": "new town"})
    notice = last_message(member, template=NOTICE)
    assert (notice.channel, notice.recipient) == ("email", "holder@example.com")
    with freeze_time(timezone.now() + timedelta(seconds=30)):
        assert (
            holder.call(
                "put", f"{A}/account/2fa/securityquestionanswer", {"otp": code_of(message)}
            ).json()["ErrorCode"]
            == 1067
        )


def test_first_answers_of_an_account_with_totp_do_not_bypass_it(tenant, member):
    confirmed_totp(tenant, member)
    holder = Holder(tenant, member)
    posted = holder.call(
        "put", f"{A}/account/2fa/securityquestionanswer", {"securityquestionanswer": {"q1": "Blue"}}
    )
    assert posted.status_code == 200, posted.json()
    assert not SecurityAnswer.objects.filter(account=member).exists()
    assert _login_with_answers(tenant, {"q1": "blue"}).json()["ErrorCode"] == 1134


def test_answers_of_an_account_without_email_are_confirmed_by_its_2fa_phone(tenant):
    member = make_member(tenant, email=False, username="holder")
    confirmed_sms(tenant, member)
    services.security_answers_set(
        SecurityAnswersSet(answers={"q1": "Old"}),
        tenant=tenant,
        actor=Actor.system("t"),
        account=member,
    )
    holder = Holder(tenant, member)
    assert (
        holder.call(
            "put",
            f"{A}/account/2fa/securityquestionanswer",
            {"securityquestionanswer": {"q1": "New"}},
        ).status_code
        == 200
    )
    message = last_message(member)
    assert (message.channel, message.recipient) == ("sms", OLD_PHONE)
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        assert (
            holder.call(
                "put", f"{A}/account/2fa/securityquestionanswer", {"otp": code_of(message)}
            ).status_code
            == 200
        )
    notice = last_message(member, template=NOTICE)
    assert (notice.channel, notice.recipient) == ("sms", OLD_PHONE)


def test_first_answers_of_an_account_without_factors_take_effect(tenant, member):
    holder = Holder(tenant, member)
    posted = holder.call(
        "put", f"{A}/account/2fa/securityquestionanswer", {"securityquestionanswer": {"q1": "Blue"}}
    )
    assert posted.json() == {"IsPosted": True}
    assert services.security_answers_verify(account=member, answers={"q1": "blue"})
    assert last_message(member, template=NOTICE).recipient == "holder@example.com"


# ------------------------------------------------------------------ sign-in and unconfirmed factors


def test_sign_in_does_not_send_or_accept_codes_of_an_unconfirmed_email_destination(tenant, member):
    confirmed_totp(tenant, member)
    services.otp_factor_set(
        OtpFactorSet(channel="email", destination="holder@example.com"),
        tenant=tenant,
        actor=Actor.system("t"),
        account=member,
    )
    challenge = sign_in(tenant)["SecondFactorAuthentication"]
    assert challenge["IsEmailOtpAuthenticatorVerified"] is False
    token = challenge["SecondFactorAuthenticationToken"]
    sent = APIClient().post(
        f"{A}/login/2fa/otp/email?apikey={tenant.api_key}&secondfactorauthenticationtoken={token}",
        {"EmailId": "holder@example.com"},
        format="json",
    )
    assert sent.json()["ErrorCode"] == 1134
    assert not OutboxMessage.objects.filter(account=member).exists()
    # Even a code sent for the setup does not complete the sign-in.
    services.otp_factor_code_send(tenant=tenant, account=member, channel="email")
    refused = second_factor(tenant, token, "otp/email", {"Otp": code_of(last_message(member))})
    assert refused.json()["ErrorCode"] == 1067
    assert not OtpFactor.objects.get(account=member, channel="email").confirmed


def test_sign_in_does_not_accept_an_unconfirmed_sms_factor(tenant, member):
    confirmed_totp(tenant, member)
    OtpFactor.objects.create(
        tenant=tenant, account=member, channel="sms", destination=NEW_PHONE, confirmed=False
    )
    challenge = sign_in(tenant)["SecondFactorAuthentication"]
    assert challenge["IsOTPAuthenticatorVerified"] is False and challenge["OTPStatus"] is None
    token = challenge["SecondFactorAuthenticationToken"]
    resend = APIClient().get(
        f"{A}/login/2fa/resend?apikey={tenant.api_key}&secondfactorauthenticationtoken={token}"
    )
    assert resend.json()["ErrorCode"] == 1134
    services.otp_factor_code_send(tenant=tenant, account=member, channel="sms")
    assert (
        second_factor(tenant, token, "otp", {"otp": code_of(last_message(member))}).json()[
            "ErrorCode"
        ]
        == 1067
    )


def test_sign_in_does_not_accept_a_pending_authenticator(tenant, member):
    confirmed_sms(tenant, member)
    TotpFactor.objects.create(
        tenant=tenant, account=member, secret_encrypted=encrypt(SECRET), confirmed=False
    )
    challenge = sign_in(tenant)["SecondFactorAuthentication"]
    assert challenge["IsAuthenticatorVerified"] is False
    code = services.totp_code(SECRET, for_time=time.time())
    assert (
        second_factor(
            tenant,
            challenge["SecondFactorAuthenticationToken"],
            "authenticatorcode",
            {"authenticatorcode": code},
        ).json()["ErrorCode"]
        == 1102
    )


# ------------------------------------------------------------------ notices


def test_confirming_an_authenticator_tells_the_holder(tenant, member):
    holder = Holder(tenant, member)
    secret = holder.call("get", f"{A}/account/2fa").json()["ManualEntryCode"]
    assert not OutboxMessage.objects.filter(template=NOTICE).exists()
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        code = services.totp_code(secret, for_time=time.time())
        done = holder.call(
            "put", f"{A}/account/2fa/verification/authenticatorcode", {"authenticatorcode": code}
        )
    assert done.status_code == 200, done.json()
    notice = OutboxMessage.objects.get(template=NOTICE)
    assert (notice.account, notice.channel, notice.recipient) == (
        member,
        "email",
        "holder@example.com",
    )


def test_confirming_an_email_factor_tells_the_holder(tenant, member):
    holder = Holder(tenant, member)
    assert holder.call("get", f"{A}/account/2fa/otp/email?emailid=holder@example.com").json() == {
        "IsPosted": True
    }
    code = code_of(last_message(member))
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        done = holder.call(
            "put",
            f"{A}/account/2fa/verification/otp/email",
            {"EmailId": "holder@example.com", "Otp": code},
        )
    assert done.json()["IsEmailOtpAuthenticatorVerified"] is True
    assert OutboxMessage.objects.get(template=NOTICE).recipient == "holder@example.com"


def test_registering_a_push_device_tells_the_holder(tenant, member):
    holder = Holder(tenant, member)
    holder.elevate()
    assert FakeDevice(tenant, "device-address-9").register(holder.token).status_code == 200
    notice = OutboxMessage.objects.get(template=NOTICE)
    assert (notice.account, notice.channel, notice.recipient) == (
        member,
        "email",
        "holder@example.com",
    )


def test_registering_a_passkey_tells_the_holder(tenant, member):
    holder = Holder(tenant, member)
    begin = holder.call("get", f"{A}/account/register/passkey/begin?identifier=holder@example.com")
    options = begin.json()["RegisterBeginCredential"]["publicKey"]
    credential = SoftAuthenticator().create(options, origin=ORIGIN)
    finish = holder.call("post", f"{A}/account/register/passkey/finish", credential)
    assert finish.json() == {"IsPosted": True}, finish.json()
    notice = OutboxMessage.objects.get(template=NOTICE)
    assert (notice.account, notice.channel, notice.recipient) == (
        member,
        "email",
        "holder@example.com",
    )


def test_a_holder_without_email_is_told_by_sms(tenant):
    member = make_member(tenant, email=False, username="holder")
    Account.objects.filter(pk=member.pk).update(phone_id="+15550003333")
    member.refresh_from_db()
    holder = Holder(tenant, member)
    holder.elevate()
    assert FakeDevice(tenant, "device-address-7").register(holder.token).status_code == 200
    notice = OutboxMessage.objects.get(template=NOTICE)
    assert (notice.channel, notice.recipient) == ("sms", "+15550003333")
    assert (
        "device-address-7" not in notice.context_encrypted
        and "device-address-7" not in json.dumps(json.loads(decrypt(notice.context_encrypted)))
    )

"""Management endpoints of the Multipurpose Tokens section: shapes, every type, every error."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portal import crypto
from portal.models import AuditEvent
from tests.factories import AccountFactory
from tokens.models import MultipurposeToken, OutboxMessage

M = "/identity/v2/manage/account"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
LR_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def person(tenant):
    account = AccountFactory(
        tenant=tenant, email="person@example.com", username="person", first_name="Pat"
    )
    account.phone_id = "+14155550123"
    account.save()
    return account


def _only_token(account, purpose):
    tokens = list(MultipurposeToken.objects.filter(account=account, purpose=purpose))
    assert len(tokens) == 1
    return tokens[0]


def test_forgot_token_returns_hex_token_stored_only_as_hash(lr, person):
    response = lr.post(f"{M}/forgot/token", {"email": "person@example.com"})
    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == {"ForgotToken", "IdentityProviders"}
    assert HEX32.match(data["ForgotToken"])
    assert data["IdentityProviders"] == []
    token = _only_token(person, "forgotpassword")
    assert token.token_hash == crypto.token_hash(data["ForgotToken"])
    assert data["ForgotToken"] not in str(MultipurposeToken.objects.values())
    assert not OutboxMessage.objects.exists()  # sendemail not set: nothing is sent
    event = AuditEvent.objects.get(action="multipurpose_token.issued")
    assert event.subject_uid == person.uid and data["ForgotToken"] not in str(event.diff)


def test_forgot_token_by_username_and_sendemail_queues_mail_with_reset_link(
    lr, person, django_capture_on_commit_callbacks, eager_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = lr.post(
            f"{M}/forgot/token",
            {"username": "person"},
            params={"sendEmail": "True", "resetPasswordUrl": "https://app.example/reset"},
        )
    assert response.status_code == 200, response.json()
    token = response.json()["ForgotToken"]
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["person@example.com"]
    assert sent.subject == "Reset your password"
    assert f"https://app.example/reset?vtype=reset&vtoken={token}" in sent.body
    html = sent.alternatives[0][0]
    assert f"vtoken={token}" in html
    message = OutboxMessage.objects.get()
    assert (
        message.status == "sent"
        and message.template == "forgotpassword"
        and message.context_encrypted == ""
    )


def test_forgot_token_errors(lr, person):
    assert lr.post(f"{M}/forgot/token", {}).json()["ErrorCode"] == 908
    assert lr.post(f"{M}/forgot/token", {"email": "not-an-email"}).json()["ErrorCode"] == 1038
    assert lr.post(f"{M}/forgot/token", {"email": "nobody@example.com"}).json()["ErrorCode"] == 938
    assert lr.post(f"{M}/forgot/token", {"username": "nobody"}).json()["ErrorCode"] == 938
    assert not MultipurposeToken.objects.exists()


def test_newer_token_of_same_purpose_retires_older(lr, person, tenant):
    tenant.settings = {"send_cooldown_seconds": 0}
    tenant.save()
    first = lr.post(f"{M}/forgot/token", {"email": "person@example.com"}).json()["ForgotToken"]
    lr.post(f"{M}/verify/token", {"email": "person@example.com"})
    second = lr.post(f"{M}/forgot/token", {"email": "person@example.com"}).json()["ForgotToken"]
    assert first != second
    rows = {t.token_hash: t for t in MultipurposeToken.objects.filter(purpose="forgotpassword")}
    assert rows[crypto.token_hash(first)].retired_at is not None
    assert rows[crypto.token_hash(second)].is_live
    assert MultipurposeToken.objects.get(
        purpose="emailverification"
    ).is_live  # other purposes untouched


def test_verify_token_v11(lr, person):
    response = lr.post(f"{M}/verify/token", {"Email": "PERSON@example.com"})
    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == {"VerificationToken", "expires_in"}
    assert HEX32.match(data["VerificationToken"]) and LR_DATE.match(data["expires_in"])
    token = _only_token(person, "emailverification")
    assert abs(token.expires_at - (timezone.now() + timedelta(minutes=24 * 60))) < timedelta(
        minutes=1
    )
    assert lr.post(f"{M}/verify/token", {}).json()["ErrorCode"] == 908
    assert lr.post(f"{M}/verify/token", {"email": "x@y"}).json()["ErrorCode"] == 1038
    assert lr.post(f"{M}/verify/token", {"email": "nobody@example.com"}).json()["ErrorCode"] == 938


def test_vtoken_v12_expires_in_and_errors(lr, person):
    response = lr.get(
        f"{M}/vtoken", {"vtype": "email", "email": "person@example.com", "expires_in": "120"}
    )
    assert response.status_code == 200, response.json()
    token = _only_token(person, "emailverification")
    assert abs(token.expires_at - (timezone.now() + timedelta(seconds=120))) < timedelta(seconds=10)
    assert response.json()["expires_in"].startswith(token.expires_at.strftime("%Y-%m-%dT%H:%M:%S"))

    missing = lr.get(f"{M}/vtoken", {"email": "person@example.com"})
    assert missing.status_code == 400 and missing.json()["ErrorCode"] == 908
    assert "vtype" in missing.json()["Description"]
    assert (
        lr.get(f"{M}/vtoken", {"vtype": "phone", "email": "person@example.com"}).json()["ErrorCode"]
        == 1306
    )
    for bad in ("abc", "-5", "1.5", "0"):
        assert (
            lr.get(
                f"{M}/vtoken", {"vtype": "email", "email": "person@example.com", "expires_in": bad}
            ).json()["ErrorCode"]
            == 1307
        )
    assert lr.get(f"{M}/vtoken", {"vtype": "email"}).json()["ErrorCode"] == 908
    assert (
        lr.get(f"{M}/vtoken", {"vtype": "email", "email": "nobody@example.com"}).json()["ErrorCode"]
        == 938
    )
    assert MultipurposeToken.objects.count() == 1


def test_vtoken_sendemail_uses_verification_url_and_template(
    lr, person, django_capture_on_commit_callbacks, eager_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = lr.get(
            f"{M}/vtoken",
            {
                "vtype": "email",
                "email": "person@example.com",
                "sendemail": "true",
                "verificationurl": "https://app.example/verify?lang=en",
                "emailtemplate": "addemail",
            },
        )
    token = response.json()["VerificationToken"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Confirm your new email address"  # the selected template
    assert (
        f"https://app.example/verify?lang=en&vtype=emailverification&vtoken={token}"
        in mail.outbox[0].body
    )


def test_unknown_email_template_falls_back_to_the_type_default(
    lr, person, django_capture_on_commit_callbacks, eager_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        lr.get(
            f"{M}/vtoken",
            {
                "vtype": "email",
                "email": "person@example.com",
                "sendemail": "true",
                "emailtemplate": "../../etc/passwd",
            },
        )
    assert mail.outbox[0].subject == "Verify your email address"


EMAIL_BODIES = {
    "emailverification": {"email": "person@example.com"},
    "addemail": {"email": "new@example.com", "type": "Secondary", "uid": None},
    "forgotpassword": {"username": "person"},
    "deleteuser": {"uid": None},
    "passwordlesslogin": {"email": "person@example.com"},
    "forgotpin": {"email": "person@example.com"},
    "onetouchlogin": {"email": "person@example.com", "ClientGuid": "guid-1", "Name": "Pat"},
    "autologin": {"username": "person", "ClientGuid": "guid-2"},
}


@pytest.mark.parametrize("tokentype", list(EMAIL_BODIES))
def test_emailtoken_every_type(lr, person, tokentype):
    body = {k: (person.uid if v is None else v) for k, v in EMAIL_BODIES[tokentype].items()}
    response = lr.post(f"{M}/emailtoken/{tokentype}", body)
    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == {"Token", "ExpiresIn", "IdentityProviders"}
    assert (
        HEX32.match(data["Token"])
        and LR_DATE.match(data["ExpiresIn"])
        and data["IdentityProviders"] is None
    )
    token = _only_token(person, tokentype)
    assert token.kind == "email" and token.token_hash == crypto.token_hash(data["Token"])
    if tokentype == "addemail":
        assert token.destination == "new@example.com" and token.data == {"type": "Secondary"}
    else:
        assert token.destination == "person@example.com"


def test_emailtoken_errors(lr, person, tenant):
    other = AccountFactory(tenant=tenant, email="taken@example.com")
    invalid = lr.post(f"{M}/emailtoken/notatype", {"email": "person@example.com"})
    assert invalid.status_code == 400 and invalid.json()["ErrorCode"] == 1181
    assert invalid.json()["Message"] == "You have entered an invalid token type"
    assert lr.post(f"{M}/emailtoken/forgotpassword", {}).json()["ErrorCode"] == 908
    assert lr.post(f"{M}/emailtoken/forgotpin", {"email": "bad"}).json()["ErrorCode"] == 1038
    assert (
        lr.post(f"{M}/emailtoken/deleteuser", {}).json()["Description"]
        == "The uid is a required parameter."
    )
    assert lr.post(f"{M}/emailtoken/deleteuser", {"uid": "nope"}).json()["ErrorCode"] == 938
    assert (
        lr.post(
            f"{M}/emailtoken/addemail", {"email": "taken@example.com", "uid": person.uid}
        ).json()["ErrorCode"]
        == 936
    )
    assert (
        lr.post(f"{M}/emailtoken/onetouchlogin", {"email": "person@example.com"}).json()[
            "ErrorCode"
        ]
        == 908
    )
    assert (
        lr.post(f"{M}/emailtoken/emailverification", {"email": "nobody@example.com"}).json()[
            "ErrorCode"
        ]
        == 938
    )
    assert lr.post(f"{M}/emailtoken", {}).json()["ErrorCode"] == 908
    assert not MultipurposeToken.objects.exists()
    assert other.multipurpose_tokens.count() == 0


SMS_TYPES = [
    "addphone",
    "phoneidverification",
    "forgotpassword",
    "forgotpin",
    "onetouchlogin",
    "smartlogin",
    "passwordlesslogin",
    "deleteuser",
]


@pytest.mark.parametrize("smsotptype", SMS_TYPES)
def test_smsotp_every_type(lr, person, tenant, smsotptype):
    tenant.settings = {"sms_otp_length": 8}
    tenant.save()
    body = {"Phone": "+14155550123"}
    if smsotptype == "addphone":
        body = {"Phone": "+14155550199", "Uid": person.uid}
    response = lr.post(f"{M}/smsotp/{smsotptype}", body)
    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == {"Token", "ExpiresIn"}
    assert re.fullmatch(r"\d{8}", data["Token"])
    token = _only_token(person, smsotptype)
    assert token.kind == "sms" and token.token_hash == crypto.token_hash(data["Token"])
    assert abs(token.expires_at - (timezone.now() + timedelta(minutes=10))) < timedelta(minutes=1)


def test_smsotp_errors(lr, person, tenant):
    other = AccountFactory(tenant=tenant, email="o@example.com")
    other.phone_id = "+14155550100"
    other.save()
    assert lr.post(f"{M}/smsotp/bogus", {"Phone": "+14155550123"}).json()["ErrorCode"] == 1181
    assert lr.post(f"{M}/smsotp/forgotpassword", {}).json()["ErrorCode"] == 908
    assert lr.post(f"{M}/smsotp/forgotpassword", {"Phone": "12"}).json()["ErrorCode"] == 1096
    assert (
        lr.post(f"{M}/smsotp/forgotpassword", {"Phone": "+14155550177"}).json()["ErrorCode"] == 938
    )
    assert lr.post(f"{M}/smsotp/addphone", {"Phone": "+14155550177"}).json()["ErrorCode"] == 908
    assert (
        lr.post(f"{M}/smsotp/addphone", {"Phone": "+14155550100", "Uid": person.uid}).json()[
            "ErrorCode"
        ]
        == 1058
    )
    assert lr.post(f"{M}/smsotp", {}).json()["ErrorCode"] == 908
    assert not MultipurposeToken.objects.exists()


def test_tokens_of_another_tenant_are_not_found(lr_other, person):
    assert (
        lr_other.post(f"{M}/forgot/token", {"email": "person@example.com"}).json()["ErrorCode"]
        == 938
    )
    assert (
        lr_other.post(f"{M}/emailtoken/deleteuser", {"uid": person.uid}).json()["ErrorCode"] == 938
    )
    assert not MultipurposeToken.objects.exists()


def test_sdk_calls_work(lr_sdk, tenant):
    AccountFactory(tenant=tenant, email="sdk@example.com", username="sdkuser")
    sdk = lr_sdk()
    forgot = sdk.account.get_forgot_password_token("sdk@example.com", send_email=False)
    assert HEX32.match(forgot["ForgotToken"]), forgot
    verify = sdk.account.get_email_verification_token("sdk@example.com")
    assert HEX32.match(verify["VerificationToken"]), verify
    multi = sdk.account.multipurpose_email_token_generation(
        {"email": "sdk@example.com"}, "forgotpin"
    )
    assert HEX32.match(multi["Token"]), multi
    bad = sdk.account.multipurpose_email_token_generation({"email": "sdk@example.com"}, "nonsense")
    assert bad["ErrorCode"] == 1181


test_sdk_calls_work = pytest.mark.django_db(transaction=True)(test_sdk_calls_work)


def test_token_issue_query_count_is_pinned(lr, person, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert (
            lr.post(f"{M}/emailtoken/forgotpin", {"email": "person@example.com"}).status_code == 200
        )
    with django_assert_max_num_queries(12):
        assert (
            lr.post(f"{M}/smsotp/phoneidverification", {"phone": "+14155550123"}).status_code == 200
        )

"""The consuming side on the Authentication API paths: each token works once, for its own
purpose and account, before it expires; ten parallel uses give exactly one success."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from accounts.commands import PasswordSet
from accounts.models import Account, AccountEmail
from portal.models import AuditEvent
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory
from tokens.models import MultipurposeToken

M = "/identity/v2/manage/account"
A = "/identity/v2/auth"


@pytest.fixture
def person(tenant):
    tenant.settings = {"send_cooldown_seconds": 0}
    tenant.save()
    account = AccountFactory(tenant=tenant, email="person@example.com", username="person")
    account.phone_id = "+14155550123"
    account.save()
    return account


def _key(tenant):
    return {"apikey": tenant.api_key}


def _client_get(path, params):
    return APIClient().get(path, params)


def _client_put(path, body, params):
    from urllib.parse import urlencode

    return APIClient().put(f"{path}?{urlencode(params)}", body, format="json")


def test_verify_email_by_token_once(lr, tenant, person):
    token = lr.post(f"{M}/verify/token", {"email": "person@example.com"}).json()[
        "VerificationToken"
    ]
    response = _client_get(f"{A}/email", {**_key(tenant), "verificationToken": token})
    assert response.status_code == 200, response.json()
    assert response.json() == {"IsPosted": True, "Data": None}
    person.refresh_from_db()
    assert person.email_verified and AccountEmail.objects.get(account=person).verified
    again = _client_get(f"{A}/email", {**_key(tenant), "verificationtoken": token})
    assert again.json()["ErrorCode"] == 974
    assert (
        _client_get(f"{A}/email", {**_key(tenant), "verificationtoken": "0" * 32}).json()[
            "ErrorCode"
        ]
        == 973
    )
    assert _client_get(f"{A}/email", _key(tenant)).json()["ErrorCode"] == 908
    assert (
        AuditEvent.objects.filter(
            action="multipurpose_token.consumed", subject_uid=person.uid
        ).count()
        == 1
    )


def test_expired_token_is_refused(lr, tenant, person):
    token = lr.get(
        f"{M}/vtoken", {"vtype": "email", "email": "person@example.com", "expires_in": "60"}
    ).json()["VerificationToken"]
    with freeze_time(timezone.now() + timedelta(seconds=61)):
        response = _client_get(f"{A}/email", {**_key(tenant), "verificationtoken": token})
    assert response.json()["ErrorCode"] == 975
    person.refresh_from_db()
    assert not person.email_verified
    assert MultipurposeToken.objects.get().used_at is None


def test_add_email_token_adds_and_verifies_the_email(lr, tenant, person):
    token = lr.post(
        f"{M}/emailtoken/addemail",
        {"email": "second@example.com", "type": "Secondary", "uid": person.uid},
    ).json()["Token"]
    assert (
        _client_get(f"{A}/email", {**_key(tenant), "verificationtoken": token}).status_code == 200
    )
    row = AccountEmail.objects.get(account=person, value="second@example.com")
    assert row.verified and row.type == "Secondary"


def test_tokens_are_purpose_bound(lr, tenant, person):
    verification = lr.post(f"{M}/verify/token", {"email": "person@example.com"}).json()[
        "VerificationToken"
    ]
    reset = lr.post(f"{M}/forgot/token", {"email": "person@example.com"}).json()["ForgotToken"]
    wrong = _client_put(
        f"{A}/password/reset",
        {"resettoken": verification, "password": "N3w-passw0rd!"},
        _key(tenant),
    )
    assert wrong.json()["ErrorCode"] == 979
    assert (
        _client_get(f"{A}/email", {**_key(tenant), "verificationtoken": reset}).json()["ErrorCode"]
        == 973
    )
    assert (
        _client_get(f"{A}/account/delete", {**_key(tenant), "deletetoken": reset}).json()[
            "ErrorCode"
        ]
        == 979
    )
    assert Account.objects.filter(pk=person.pk).exists()
    assert MultipurposeToken.objects.filter(used_at__isnull=False).count() == 0


def test_tokens_are_tenant_bound(lr, tenant, person, other_tenant):
    reset = lr.post(f"{M}/forgot/token", {"email": "person@example.com"}).json()["ForgotToken"]
    response = _client_put(
        f"{A}/password/reset",
        {"resettoken": reset, "password": "N3w-passw0rd!"},
        _key(other_tenant),
    )
    assert response.json()["ErrorCode"] == 979


def test_reset_password_by_token(lr, tenant, person):
    reset = lr.post(f"{M}/forgot/token", {"email": "person@example.com"}).json()["ForgotToken"]
    assert (
        _client_put(f"{A}/password/reset", {"password": "x"}, _key(tenant)).json()["ErrorCode"]
        == 908
    )
    assert (
        _client_put(f"{A}/password/reset", {"ResetToken": reset}, _key(tenant)).json()["ErrorCode"]
        == 908
    )
    response = _client_put(
        f"{A}/password/reset", {"ResetToken": reset, "Password": "N3w-passw0rd!"}, _key(tenant)
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"IsPosted": True}
    person.refresh_from_db()
    assert check_password("N3w-passw0rd!", person.password)
    assert (
        _client_put(
            f"{A}/password/reset",
            {"resettoken": reset, "password": "Other-passw0rd!"},
            _key(tenant),
        ).json()["ErrorCode"]
        == 979
    )


def test_failed_password_rule_keeps_the_token_usable(lr, tenant, person):
    reset = lr.post(f"{M}/forgot/token", {"email": "person@example.com"}).json()["ForgotToken"]
    refused = _client_put(
        f"{A}/password/reset", {"resettoken": reset, "password": "a"}, _key(tenant)
    )
    assert "ErrorCode" in refused.json()
    assert MultipurposeToken.objects.get().used_at is None
    assert (
        _client_put(
            f"{A}/password/reset", {"resettoken": reset, "password": "N3w-passw0rd!"}, _key(tenant)
        ).status_code
        == 200
    )


def test_password_change_retires_reset_tokens(lr, tenant, person):
    from accounts.services import account_password_set
    from portal.audit import Actor

    reset = lr.post(f"{M}/forgot/token", {"email": "person@example.com"}).json()["ForgotToken"]
    account_password_set(
        PasswordSet(password="Changed-passw0rd!"),
        tenant=tenant,
        actor=Actor.system("test"),
        account=person,
    )
    assert (
        _client_put(
            f"{A}/password/reset", {"resettoken": reset, "password": "N3w-passw0rd!"}, _key(tenant)
        ).json()["ErrorCode"]
        == 979
    )


def test_reset_password_by_sms_otp(lr, tenant, person):
    otp = lr.post(f"{M}/smsotp/forgotpassword", {"phone": "+14155550123"}).json()["Token"]
    wrong_phone = _client_put(
        f"{A}/password/otp",
        {"phone": "+14155550999", "otp": otp, "password": "N3w-passw0rd!"},
        _key(tenant),
    )
    assert wrong_phone.json()["ErrorCode"] == 1067
    response = _client_put(
        f"{A}/password/otp",
        {"phone": "+14155550123", "otp": otp, "password": "N3w-passw0rd!"},
        _key(tenant),
    )
    assert response.status_code == 200, response.json()
    person.refresh_from_db()
    assert check_password("N3w-passw0rd!", person.password)


def test_verify_phone_by_otp(lr, tenant, person):
    otp = lr.post(f"{M}/smsotp/phoneidverification", {"phone": "+14155550123"}).json()["Token"]
    assert (
        _client_put(f"{A}/phone/otp", {"phone": "+14155550123"}, _key(tenant)).json()["ErrorCode"]
        == 908
    )
    assert (
        _client_put(
            f"{A}/phone/otp",
            {"phone": "+14155550123"},
            {**_key(tenant), "otp": "000000" if otp != "000000" else "111111"},
        ).json()["ErrorCode"]
        == 1067
    )
    response = _client_put(
        f"{A}/phone/otp", {"phone": "+14155550123"}, {**_key(tenant), "otp": otp}
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == {"access_token", "refresh_token", "expires_in", "Profile"}
    assert data["Profile"]["Uid"] == person.uid and data["Profile"]["PhoneIdVerified"] is True
    from tokens.selectors import access_token_resolve

    assert (
        access_token_resolve(tenant=tenant, token=data["access_token"]).account == person
    )  # a real session
    person.refresh_from_db()
    assert person.phone_id_verified
    assert (
        _client_put(
            f"{A}/phone/otp", {"phone": "+14155550123"}, {**_key(tenant), "otp": otp}
        ).json()["ErrorCode"]
        == 1068
    )


def test_add_phone_otp_sets_and_verifies_the_new_phone(lr, tenant, person):
    otp = lr.post(f"{M}/smsotp/addphone", {"phone": "+14155550188", "uid": person.uid}).json()[
        "Token"
    ]
    response = _client_put(
        f"{A}/phone/otp", {"phone": "+14155550188"}, {**_key(tenant), "otp": otp}
    )
    assert response.status_code == 200, response.json()
    person.refresh_from_db()
    assert person.phone_id == "+14155550188" and person.phone_id_verified


def test_expired_otp(lr, tenant, person):
    otp = lr.post(f"{M}/smsotp/phoneidverification", {"phone": "+14155550123"}).json()["Token"]
    with freeze_time(timezone.now() + timedelta(minutes=11)):
        response = _client_put(
            f"{A}/phone/otp", {"phone": "+14155550123"}, {**_key(tenant), "otp": otp}
        )
    assert response.json()["ErrorCode"] == 1069


def test_delete_account_by_token(lr, tenant, person):
    token = lr.post(f"{M}/emailtoken/deleteuser", {"uid": person.uid}).json()["Token"]
    assert _client_get(f"{A}/account/delete", _key(tenant)).json()["ErrorCode"] == 908
    response = _client_get(f"{A}/account/delete", {**_key(tenant), "deletetoken": token})
    assert response.status_code == 200, response.json()
    assert response.json() == {"IsPosted": True}
    assert not Account.objects.filter(pk=person.pk).exists()
    assert (
        _client_get(f"{A}/account/delete", {**_key(tenant), "deletetoken": token}).json()[
            "ErrorCode"
        ]
        == 979
    )


def test_consuming_needs_a_valid_api_key(lr, tenant, person):
    token = lr.post(f"{M}/verify/token", {"email": "person@example.com"}).json()[
        "VerificationToken"
    ]
    response = _client_get(f"{A}/email", {"verificationtoken": token})
    assert response.json()["ErrorCode"] == 908
    assert MultipurposeToken.objects.get().used_at is None


# --- concurrency (PostgreSQL) ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_parallel_password_resets_with_one_token_succeed_once(lr, tenant, person):
    reset = lr.post(f"{M}/forgot/token", {"email": "person@example.com"}).json()["ForgotToken"]
    passwords = [f"Parallel-passw0rd-{i}!" for i in range(10)]

    def call(i):
        response = _client_put(
            f"{A}/password/reset", {"resettoken": reset, "password": passwords[i]}, _key(tenant)
        )
        return response.status_code, response.json(), passwords[i]

    results = run_concurrently(call, 10, pass_index=True, keep=(Exception,))
    successes = [r for r in results if r[0] == 200]
    assert len(successes) == 1, results
    assert all(r[1].get("ErrorCode") == 979 for r in results if r[0] != 200), results
    person.refresh_from_db()
    assert check_password(successes[0][2], person.password)
    assert AuditEvent.objects.filter(action="multipurpose_token.consumed").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_parallel_phone_verifications_with_one_otp_succeed_once(lr, tenant, person):
    otp = lr.post(f"{M}/smsotp/phoneidverification", {"phone": "+14155550123"}).json()["Token"]
    results = run_concurrently(
        lambda: (
            _client_put(
                f"{A}/phone/otp", {"phone": "+14155550123"}, {**_key(tenant), "otp": otp}
            ).status_code
        ),
        10,
        keep=(Exception,),
    )
    assert sorted(results) == [200] + [403] * 9


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_parallel_deletes_with_one_token_succeed_once(lr, tenant, person):
    token = lr.post(f"{M}/emailtoken/deleteuser", {"uid": person.uid}).json()["Token"]
    results = run_concurrently(
        lambda: (
            _client_get(f"{A}/account/delete", {**_key(tenant), "deletetoken": token}).status_code
        ),
        10,
        keep=(Exception,),
    )
    assert sorted(results) == [200] + [403] * 9
    assert AuditEvent.objects.filter(action="account.deleted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_sdk_uses_tokens_end_to_end(lr_sdk, tenant):
    tenant.settings = {"send_cooldown_seconds": 0}
    tenant.save()
    account = AccountFactory(tenant=tenant, email="sdk@example.com")
    account.phone_id = "+14155550166"
    account.save()
    sdk = lr_sdk()
    vtoken = sdk.account.get_email_verification_token("sdk@example.com")["VerificationToken"]
    assert sdk.authentication.verify_email(vtoken) == {"IsPosted": True, "Data": None}
    reset = sdk.account.get_forgot_password_token("sdk@example.com")["ForgotToken"]
    assert sdk.authentication.reset_password_by_reset_token(
        {"resettoken": reset, "password": "Sdk-passw0rd!"}
    ) == {"IsPosted": True}
    otp = sdk.account.multipurpose_sms_otp_generation(
        {"phone": "+14155550166"}, "phoneidverification"
    )["Token"]
    verified = sdk.phone_authentication.phone_verification_by_otp(otp, "+14155550166")
    assert verified["Profile"]["PhoneIdVerified"] is True, verified
    delete = sdk.account.multipurpose_email_token_generation({"uid": account.uid}, "deleteuser")[
        "Token"
    ]
    assert sdk.authentication.delete_account_by_delete_token(delete) == {"IsPosted": True}
    assert not Account.objects.filter(pk=account.pk).exists()
    assert sdk.authentication.delete_account_by_delete_token(delete)["ErrorCode"] == 979

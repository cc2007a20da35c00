import time
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from portal.audit import Actor
from portal.crypto import encrypt
from portal.models import AuditEvent
from security import services
from security.commands import BackupCodesGenerate
from security.models import SecondFactorToken, TotpFactor
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory
from tests.security.conftest import reauth

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
AUTH = "/identity/v2/auth/account/reauth"
M = "/identity/v2/manage/account"


@pytest.fixture
def member(tenant, tokens):
    account = AccountFactory(tenant=tenant)
    account.password = make_password("pw-123456")
    account.save()
    tokens["tok-member"] = account
    return account


def test_password_reauth_issues_a_hashed_short_lived_token(tenant, member):
    before = timezone.now()
    response = reauth(tenant, "password", {"Password": "pw-123456"})
    assert response.status_code == 200, response.json()
    data = response.json()
    token = data["SecondFactorValidationToken"]
    row = SecondFactorToken.objects.get(account=member, purpose="reauth")
    assert token not in row.token_hash
    lifetime = tenant.setting("reauth_token_lifetime_seconds")
    assert (
        before + timedelta(seconds=lifetime)
        <= row.expires_at
        <= timezone.now() + timedelta(seconds=lifetime)
    )
    assert data["ExpireIn"].startswith(row.expires_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert (
        AuditEvent.objects.filter(action="reauth_token.issued", subject_uid=member.uid).count() == 1
    )


def test_wrong_password_gives_966_and_no_token(tenant, member):
    response = reauth(tenant, "password", {"password": "nope"})
    assert response.json()["ErrorCode"] == 966
    assert not SecondFactorToken.objects.exists()


@pytest.mark.parametrize(
    "kind,key",
    [
        ("password", "password"),
        ("2fa/backupcode", "backupcode"),
        ("2FA/authenticatorcode", "authenticatorcode"),
    ],
)
def test_missing_value_gives_908(tenant, member, kind, key):
    response = reauth(tenant, kind, {})
    assert response.json()["ErrorCode"] == 908
    assert key in response.json()["Description"]


def test_token_side_needs_a_valid_access_token(tenant, member):
    assert (
        reauth(tenant, "password", {"password": "pw-123456"}, token="bad").json()["ErrorCode"]
        == 905
    )
    assert not SecondFactorToken.objects.exists()


def test_authenticator_code_and_backup_code_reauth(tenant, member):
    TotpFactor.objects.create(
        tenant=tenant, account=member, secret_encrypted=encrypt(SECRET), confirmed=True
    )
    codes = services.backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=Actor.system("t"), account=member
    )
    assert (
        reauth(tenant, "2fa/authenticatorcode", {"authenticatorcode": "000000"}).json()["ErrorCode"]
        == 1102
    )
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        code = services.totp_code(SECRET, for_time=time.time())
        ok = reauth(tenant, "2fa/authenticatorcode", {"authenticatorcode": code})
    assert ok.status_code == 200 and ok.json()["SecondFactorValidationToken"]
    assert (
        reauth(tenant, "2fa/backupcode", {"backupcode": "00000-00000"}).json()["ErrorCode"] == 1128
    )
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        ok = reauth(tenant, "2fa/backupcode", {"backupcode": codes[0]})
    assert ok.status_code == 200


def validate(lr, uid, kind, token):
    return lr.post(
        f"{M}/{uid}/reauth/{kind}",
        {"secondfactorvalidationtoken": token} if token is not None else {},
    )


def test_manage_side_validates_once(lr, tenant, member):
    token = reauth(tenant, "password", {"password": "pw-123456"}).json()[
        "SecondFactorValidationToken"
    ]
    first = validate(lr, member.uid, "password", token)
    assert first.status_code == 200 and first.json() == {"IsValid": True}
    second = validate(lr, member.uid, "password", token)
    assert second.json()["ErrorCode"] == 1193


def test_manage_side_refuses_expired_foreign_and_wrong_kind(lr, lr_other, tenant, member, tokens):
    other = AccountFactory(tenant=tenant)
    token = reauth(tenant, "password", {"password": "pw-123456"}).json()[
        "SecondFactorValidationToken"
    ]
    assert validate(lr, other.uid, "password", token).json()["ErrorCode"] == 1193
    assert validate(lr, member.uid, "2fa", token).json()["ErrorCode"] == 1193
    assert validate(lr, member.uid, "pin", token).json()["ErrorCode"] == 1193
    assert (
        lr_other.post(
            f"{M}/{member.uid}/reauth/password", {"secondfactorvalidationtoken": token}
        ).json()["ErrorCode"]
        == 938
    )
    lifetime = tenant.setting("reauth_token_lifetime_seconds")
    with freeze_time(timezone.now() + timedelta(seconds=lifetime + 1)):
        assert validate(lr, member.uid, "password", token).json()["ErrorCode"] == 1193
    assert SecondFactorToken.objects.get().used_at is None


def test_manage_side_input_errors(lr, member):
    assert validate(lr, member.uid, "password", None).json()["ErrorCode"] == 908
    assert validate(lr, member.uid, "password", "").json()["ErrorCode"] == 908
    assert validate(lr, "nope", "password", "x").json()["ErrorCode"] == 938
    assert validate(lr, member.uid, "password", "garbage").json()["ErrorCode"] == 1193


def test_2fa_tokens_validate_on_the_2fa_path(lr, tenant, member):
    codes = services.backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=Actor.system("t"), account=member
    )
    token = reauth(tenant, "2fa/backupcode", {"backupcode": codes[1]}).json()[
        "SecondFactorValidationToken"
    ]
    assert validate(lr, member.uid, "password", token).json()["ErrorCode"] == 1193
    assert validate(lr, member.uid, "2FA", token).json() == {"IsValid": True}


def test_lifetime_follows_tenant_setting(lr, tenant, member):
    tenant.settings = {"reauth_token_lifetime_seconds": 10}
    tenant.save()
    token = reauth(tenant, "password", {"password": "pw-123456"}).json()[
        "SecondFactorValidationToken"
    ]
    with freeze_time(timezone.now() + timedelta(seconds=11)):
        assert validate(lr, member.uid, "password", token).json()["ErrorCode"] == 1193


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reauth_token_validates_once_under_concurrency():
    from tests.factories import TenantFactory

    tenant = TenantFactory()
    account = AccountFactory(tenant=tenant)
    issued = services.reauth_token_issue(tenant=tenant, account=account, method="password")
    results = run_concurrently(
        lambda: services.reauth_token_validate(
            tenant=tenant, account=account, token=issued.token, group="password"
        ),
        10,
    )
    assert sorted(results) == [False] * 9 + [True]


def test_end_to_end_with_a_real_session(lr, tenant):
    """Sign in for real, reauthenticate with the access token, validate on the manage side."""
    account = AccountFactory(tenant=tenant, email="real@example.com")
    account.password = make_password("pw-real")
    account.save()
    client = APIClient()
    signed_in = client.post(
        f"/identity/v2/auth/login?apikey={tenant.api_key}",
        {"email": "real@example.com", "password": "pw-real"},
        format="json",
    )
    access_token = signed_in.json()["access_token"]
    response = client.put(
        f"/identity/v2/auth/account/reauth/password?apikey={tenant.api_key}",
        {"password": "pw-real"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access_token}",
    )
    token = response.json()["SecondFactorValidationToken"]
    assert lr.post(
        f"{M}/{account.uid}/reauth/password", {"secondfactorvalidationtoken": token}
    ).json() == {"IsValid": True}


def test_pin_reauth_validates_on_the_pin_path(lr, tenant, member):
    member.secret_hashes = {"pin": make_password("4321")}
    member.save()
    assert reauth(tenant, "pin", {"PIN": "0000"}).json()["ErrorCode"] == 966
    with freeze_time(timezone.now() + timedelta(seconds=3)):
        response = reauth(tenant, "pin", {"pin": "4321"})
    assert response.status_code == 200, response.json()
    token = response.json()["SecondFactorValidationToken"]
    assert validate(lr, member.uid, "password", token).json()["ErrorCode"] == 1193
    assert validate(lr, member.uid, "pin", token).json() == {"IsValid": True}


def test_pin_reauth_without_a_pin(tenant, member):
    assert reauth(tenant, "pin", {"pin": "4321"}).json()["ErrorCode"] == 966
    assert reauth(tenant, "pin", {}).json()["ErrorCode"] == 908
    assert not SecondFactorToken.objects.exists()

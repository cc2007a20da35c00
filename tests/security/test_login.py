import time
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import Account
from portal.audit import Actor
from portal.crypto import encrypt
from security import services
from security.commands import AccountUnlock, BackupCodesGenerate
from security.errors import PasswordWrong
from security.models import AccountLockout, LoginFailureCounter, SecondFactorToken, TotpFactor
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory
from tests.security.counting_hasher import CountingArgon2PasswordHasher

LOGIN = "/identity/v2/auth/login"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PASSWORD = "correct horse battery"


class Api:
    """Token-side calls carry only the API key."""

    def __init__(self, client, tenant):
        self.client, self.tenant = client, tenant

    def post(self, path, body, params=None):
        return self.client.post(
            path
            + f"?apikey={self.tenant.api_key}"
            + "".join(f"&{k}={v}" for k, v in (params or {}).items()),
            body,
            format="json",
        )

    def put(self, path, body, params=None):
        return self.client.put(
            path
            + f"?apikey={self.tenant.api_key}"
            + "".join(f"&{k}={v}" for k, v in (params or {}).items()),
            body,
            format="json",
        )


@pytest.fixture
def api(client, tenant):
    from rest_framework.test import APIClient

    return Api(APIClient(), tenant)


@pytest.fixture
def member(tenant):
    account = AccountFactory(
        tenant=tenant, email="Member@Example.com", username="MemberName", phone_id="+15550001111"
    )
    account.password = make_password(PASSWORD)
    account.save()
    return account


def lock(account):
    """The account's sign-in lock row as stored now, or None."""
    return AccountLockout.objects.filter(account=account).first()


def failures(account):
    return (
        LoginFailureCounter.objects.filter(account=account)
        .values_list("failure_count", flat=True)
        .first()
        or 0
    )


@pytest.mark.parametrize(
    "body",
    [
        {"email": "member@example.com", "password": PASSWORD},
        {"Email": "MEMBER@EXAMPLE.COM", "Password": PASSWORD},
        {"username": "membername", "password": PASSWORD},
        {"phone": "+15550001111", "password": PASSWORD},
    ],
)
def test_sign_in_returns_session_pair_and_profile(api, member, body):
    response = api.post(LOGIN, body)
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["access_token"] and data["refresh_token"] and data["expires_in"]
    assert data["Profile"]["Uid"] == member.uid


def test_v11_sdk_path_spelling_and_2fa_path(api, member):
    assert (
        api.post(
            "/identity/v2/auth/login/2FA", {"email": "member@example.com", "password": PASSWORD}
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    "body,code",
    [
        ({"password": PASSWORD}, 908),
        ({"email": "member@example.com"}, 908),
        ({"email": "member@example.com", "username": "membername", "password": PASSWORD}, 908),
        ({"email": ["x"], "password": PASSWORD}, 908),
        ({"email": "member@example.com", "password": 5}, 908),
    ],
)
def test_malformed_sign_in(api, member, body, code):
    response = api.post(LOGIN, body)
    assert response.json()["ErrorCode"] == code
    assert failures(member) == 0


def test_sign_in_needs_an_api_key(client, member):
    response = client.post(
        LOGIN,
        {"email": "member@example.com", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.json()["ErrorCode"] in (908, 922)


def test_unknown_account_and_wrong_password_are_indistinguishable(api, member):
    wrong = api.post(LOGIN, {"email": "member@example.com", "password": "nope"})
    unknown = api.post(LOGIN, {"email": "nobody@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["ErrorCode"] == 966
    assert set(wrong.headers) == set(unknown.headers)


def test_lockout_at_exact_threshold(api, tenant, member):
    tenant.settings = {"lockout_threshold": 3, "lockout_minutes": 10}
    tenant.save()
    for expected in (1, 2):
        api.post(LOGIN, {"email": "member@example.com", "password": "nope"})
        member.refresh_from_db()
        assert failures(member) == expected and lock(member) is None
    before = timezone.now()
    api.post(LOGIN, {"email": "member@example.com", "password": "nope"})
    member.refresh_from_db()
    assert lock(member) is not None
    assert lock(member).locked_type == services.LOCKED_TYPE_FAILED_LOGINS
    assert (
        before + timedelta(minutes=10)
        <= lock(member).locked_until
        <= timezone.now() + timedelta(minutes=10)
    )


def test_counter_is_shared_by_case_variants_of_the_login_id(api, tenant, member):
    tenant.settings = {"lockout_threshold": 3}
    tenant.save()
    for login in ("member@example.com", "MEMBER@example.com", "Member@Example.COM"):
        api.post(LOGIN, {"email": login, "password": "nope"})
    member.refresh_from_db()
    assert lock(member) is not None


def test_locked_account_right_password_answers_like_wrong_and_keeps_counter(api, tenant, member):
    tenant.settings = {"lockout_threshold": 2, "lockout_minutes": 10}
    tenant.save()
    wrong_answer = None
    for _ in range(2):
        wrong_answer = api.post(LOGIN, {"email": "member@example.com", "password": "nope"})
    right = api.post(LOGIN, {"email": "member@example.com", "password": PASSWORD})
    assert right.status_code == wrong_answer.status_code
    assert right.json() == wrong_answer.json()
    assert failures(member) == 2
    again_wrong = api.post(LOGIN, {"email": "member@example.com", "password": "nope"})
    assert again_wrong.json() == wrong_answer.json()
    assert failures(member) == 2  # attempts during the lock are not counted


def test_lock_expires_after_its_period(api, tenant, member):
    tenant.settings = {"lockout_threshold": 2, "lockout_minutes": 10}
    tenant.save()
    start = timezone.now()
    with freeze_time(start) as clock:
        for _ in range(2):
            api.post(LOGIN, {"email": "member@example.com", "password": "nope"})
        clock.tick(timedelta(minutes=9))
        assert (
            api.post(LOGIN, {"email": "member@example.com", "password": PASSWORD}).status_code
            == 401
        )
        clock.tick(timedelta(minutes=2))
        assert (
            api.post(LOGIN, {"email": "member@example.com", "password": PASSWORD}).status_code
            == 200
        )
    member.refresh_from_db()
    assert lock(member) is None and failures(member) == 0


def test_lock_without_period_lasts_until_unlocked(api, tenant, member):
    tenant.settings = {"lockout_threshold": 1, "lockout_minutes": 0}
    tenant.save()
    api.post(LOGIN, {"email": "member@example.com", "password": "nope"})
    member.refresh_from_db()
    assert lock(member) is not None and lock(member).locked_until is None
    with freeze_time(timezone.now() + timedelta(days=30)):
        assert (
            api.post(LOGIN, {"email": "member@example.com", "password": PASSWORD}).status_code
            == 401
        )


def test_success_resets_the_counter(api, tenant, member):
    tenant.settings = {"lockout_threshold": 3}
    tenant.save()
    for _ in range(2):
        api.post(LOGIN, {"email": "member@example.com", "password": "nope"})
    assert failures(member) == 2
    assert api.post(LOGIN, {"email": "member@example.com", "password": PASSWORD}).status_code == 200
    assert failures(member) == 0
    for _ in range(2):
        api.post(LOGIN, {"email": "member@example.com", "password": "nope"})
    member.refresh_from_db()
    assert lock(member) is None


def test_unlock_clears_counter(api, tenant, member):
    tenant.settings = {"lockout_threshold": 2}
    tenant.save()
    for _ in range(2):
        api.post(LOGIN, {"email": "member@example.com", "password": "nope"})
    member.refresh_from_db()
    services.account_unlock(AccountUnlock(), tenant=tenant, actor=Actor.system("t"), account=member)
    assert failures(member) == 0
    assert api.post(LOGIN, {"email": "member@example.com", "password": PASSWORD}).status_code == 200


def test_login_failures_clear(tenant, member):
    LoginFailureCounter.objects.create(
        tenant=tenant, account=member, failure_count=4, last_failure_at=timezone.now()
    )
    services.login_failures_clear(account=member)
    assert failures(member) == 0


def test_blocked_account_with_right_password(api, member):
    Account.objects.filter(pk=member.pk).update(is_active=False)
    assert (
        api.post(LOGIN, {"email": "member@example.com", "password": PASSWORD}).json()["ErrorCode"]
        == 991
    )
    assert (
        api.post(LOGIN, {"email": "member@example.com", "password": "x"}).json()["ErrorCode"] == 966
    )


def test_other_tenant_account_is_unknown(client, other_tenant, member):
    from rest_framework.test import APIClient

    other = Api(APIClient(), other_tenant)
    assert (
        other.post(LOGIN, {"email": "member@example.com", "password": PASSWORD}).json()["ErrorCode"]
        == 966
    )


@pytest.mark.real_hasher
def test_unknown_and_wrong_cost_the_same_password_check(api, member, settings):
    """An unknown email must not answer faster than a wrong password: both run exactly one
    full password check, with the same hasher parameters (the cost, counted, not timed)."""
    settings.PASSWORD_HASHERS = ["tests.security.counting_hasher.CountingArgon2PasswordHasher"]
    member.password = make_password(PASSWORD)
    member.save()
    checks = CountingArgon2PasswordHasher.checks

    for i in range(3):
        checks.clear()
        api.post(LOGIN, {"email": "member@example.com", "password": f"nope{i}"})
        wrong = list(checks)
        checks.clear()
        api.post(LOGIN, {"email": f"nobody{i}@example.com", "password": f"nope{i}"})
        unknown = list(checks)
        AccountLockout.objects.filter(account=member).delete()
        services.login_failures_clear(account=member)
        assert len(wrong) == 1, wrong
        assert unknown == wrong


# ---------------------------------------------------------------- second factor at sign-in


@pytest.fixture
def mfa_member(tenant, member):
    TotpFactor.objects.create(
        tenant=tenant, account=member, secret_encrypted=encrypt(SECRET), confirmed=True
    )
    return member


def challenge(api):
    response = api.post(LOGIN, {"email": "member@example.com", "password": PASSWORD})
    assert response.status_code == 200
    data = response.json()
    assert data["access_token"] is None and data["Profile"] is None
    sfa = data["SecondFactorAuthentication"]
    assert sfa["IsAuthenticatorVerified"] is True and sfa["IsOTPAuthenticatorVerified"] is False
    return sfa["SecondFactorAuthenticationToken"]


def test_mfa_account_gets_challenge_then_session_with_authenticator_code(api, mfa_member):
    token = challenge(api)
    path = "/identity/v2/auth/login/2fa/verification/authenticatorcode"
    wrong = api.put(
        path, {"authenticatorcode": "000000"}, {"secondfactorauthenticationtoken": token}
    )
    assert wrong.json()["ErrorCode"] in (1102,)
    code = services.totp_code(SECRET, for_time=time.time())
    with freeze_time(timezone.now() + timedelta(seconds=5)):
        good = api.put(
            path, {"authenticatorcode": code}, {"secondfactorauthenticationtoken": token}
        )
    assert good.status_code == 200, good.json()
    assert good.json()["access_token"] and good.json()["Profile"]["Uid"] == mfa_member.uid
    again = api.put(path, {"authenticatorcode": code}, {"secondfactorauthenticationtoken": token})
    assert again.json()["ErrorCode"] == 1193


def test_mfa_sign_in_with_backup_code(api, tenant, mfa_member):
    codes = services.backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=Actor.system("t"), account=mfa_member
    )
    token = challenge(api)
    path = "/identity/v2/auth/login/2FA/verification/backupcode"
    response = api.put(path, {"backupcode": codes[3]}, {"secondfactorauthenticationtoken": token})
    assert response.status_code == 200 and response.json()["refresh_token"]
    token = challenge(api)
    with freeze_time(timezone.now() + timedelta(seconds=5)):
        reused = api.put(path, {"backupcode": codes[3]}, {"secondfactorauthenticationtoken": token})
    assert reused.json()["ErrorCode"] == 1128


def test_challenge_errors(api, mfa_member):
    path = "/identity/v2/auth/login/2fa/verification/authenticatorcode"
    assert api.put(path, {"authenticatorcode": "123456"}).json()["ErrorCode"] == 908
    assert (
        api.put(
            path, {"authenticatorcode": "123456"}, {"secondfactorauthenticationtoken": "bogus"}
        ).json()["ErrorCode"]
        == 1193
    )
    token = challenge(api)
    assert api.put(path, {}, {"secondfactorauthenticationtoken": token}).json()["ErrorCode"] == 908
    with freeze_time(timezone.now() + timedelta(seconds=services.LOGIN_CHALLENGE_SECONDS + 1)):
        code = services.totp_code(SECRET, for_time=time.time())
        expired = api.put(
            path, {"authenticatorcode": code}, {"secondfactorauthenticationtoken": token}
        )
    assert expired.json()["ErrorCode"] == 1193
    assert SecondFactorToken.objects.filter(used_at__isnull=False).count() == 0


def test_manage_put_is_login_locked_false_unlocks_and_clears_counter(api, lr, tenant, member):
    tenant.settings = {"lockout_threshold": 2}
    tenant.save()
    for _ in range(2):
        api.post(LOGIN, {"email": "member@example.com", "password": "nope"})
    member.refresh_from_db()
    assert lock(member) is not None
    response = lr.put(f"/identity/v2/manage/account/{member.uid}", {"IsLoginLocked": False})
    assert response.status_code == 200, response.json()
    member.refresh_from_db()
    assert lock(member) is None and failures(member) == 0
    assert api.post(LOGIN, {"email": "member@example.com", "password": PASSWORD}).status_code == 200


def test_sign_in_query_count_is_pinned(api, member, django_assert_max_num_queries):
    api.post(LOGIN, {"email": "member@example.com", "password": PASSWORD})
    with django_assert_max_num_queries(30):
        assert (
            api.post(LOGIN, {"email": "member@example.com", "password": PASSWORD}).status_code
            == 200
        )
    with django_assert_max_num_queries(20):
        assert (
            api.post(LOGIN, {"email": "member@example.com", "password": "wrong"}).status_code == 401
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_lock_at_threshold_exactly():
    from tests.factories import TenantFactory

    tenant = TenantFactory(settings={"lockout_threshold": 5, "lockout_minutes": 10})
    account = AccountFactory(tenant=tenant)
    account.password = make_password(PASSWORD)
    account.save()
    codes = run_concurrently(
        lambda: services.login_password(
            tenant=tenant, account=Account.objects.get(pk=account.pk), password="nope"
        ),
        12,
    )
    assert codes == [PasswordWrong.code] * 12
    account.refresh_from_db()
    assert lock(account) is not None
    assert failures(account) == 5
    from portal.models import AuditEvent

    assert AuditEvent.objects.filter(action="account.locked", subject_uid=account.uid).count() == 1

"""Securing a compromised account: one audited operation that ends every session, removes
passkeys and push devices (all, or those added since a time), resets the second factors and
requires a new password; through the service and through POST /api/v1/accounts/{uid}/secure."""

import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from accounts.models import Account
from flows.securing import account_secure
from portal.audit import Actor
from portal.crypto import encrypt, token_hash
from portal.lrapi.errors import LRError
from portal.models import AuditEvent
from security import services
from security.commands import AccountSecure, BackupCodesGenerate
from security.errors import (
    AccountSecureRefused,
    NothingToSecure,
    SecureAccountNotFound,
    SecureReasonRequired,
)
from security.models import (
    BackupCode,
    DuoEnrollment,
    OtpFactor,
    PasskeyCredential,
    PushDevice,
    SecondFactorToken,
    SecurityAnswer,
    TotpFactor,
)
from tests.factories import AccountFactory, ApiCredentialFactory
from tokens.commands import SessionIssue
from tokens.errors import RefreshTokenInvalid
from tokens.models import TokenFamily
from tokens.services import sessions

pytestmark = pytest.mark.django_db

PASSWORD = "Old-passw0rd-known-to-someone"
NEW_PASSWORD = "Brand-new-passw0rd-42"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
STAFF = Actor.system("support")
LOGIN = "/identity/v2/auth/login"
VALIDATE = "/identity/v2/auth/access_token/validate"
NATIVE = "/api/v1/accounts"
SINCE = timezone.now() - timedelta(days=2)


def key_only(tenant, method, path, body=None, token=None, **params):
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    url = f"{path}?{urlencode({'apikey': tenant.api_key, **params})}"
    return getattr(client, method)(url, body, format="json", **headers)


def token_valid(tenant, access_token) -> bool:
    response = key_only(tenant, "get", VALIDATE, token=access_token)
    if response.status_code == 200:
        assert response.json()["access_token"] == access_token
        return True
    assert response.json()["ErrorCode"] in (905, 906, 2024), response.json()
    return False


def sign_in(tenant, password):
    return key_only(tenant, "post", LOGIN, {"email": "member@example.com", "password": password})


def _aged(model, row, days):
    model.objects.filter(pk=row.pk).update(created=timezone.now() - timedelta(days=days))


@pytest.fixture
def member(tenant):
    """An account an attacker got into: a password, two sessions, every kind of factor, and
    one old and one recent passkey and push device."""
    account = AccountFactory(tenant=tenant, email="member@example.com")
    account.password = make_password(PASSWORD)
    account.save()
    TotpFactor.objects.create(
        tenant=tenant, account=account, secret_encrypted=encrypt(SECRET), confirmed=True
    )
    OtpFactor.objects.create(
        tenant=tenant, account=account, channel="sms", destination="+15551230000", confirmed=True
    )
    OtpFactor.objects.create(
        tenant=tenant, account=account, channel="email", destination="m@example.com", confirmed=True
    )
    SecurityAnswer.objects.create(
        tenant=tenant, account=account, question_id="q1", answer_hash=token_hash("x")
    )
    DuoEnrollment.objects.create(tenant=tenant, account=account, duo_username="u")
    services.backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=STAFF, account=account
    )
    _aged(
        PasskeyCredential,
        PasskeyCredential.objects.create(
            tenant=tenant, account=account, credential_id="old-key", public_key="k"
        ),
        days=30,
    )
    PasskeyCredential.objects.create(
        tenant=tenant, account=account, credential_id="new-key", public_key="k"
    )
    _aged(
        PushDevice,
        PushDevice.objects.create(
            tenant=tenant, account=account, device_token_encrypted=encrypt("old"), name="old phone"
        ),
        days=30,
    )
    PushDevice.objects.create(
        tenant=tenant, account=account, device_token_encrypted=encrypt("new"), name="attacker"
    )
    account.issued = [
        sessions.session_issue(
            SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
        )
        for _ in range(2)
    ]
    return account


def snapshot(account) -> dict:
    """Everything securing may change, to prove a refusal changed nothing."""
    fresh = Account.objects.filter(pk=account.pk).values().first()
    fresh.pop("modified", None)
    return {
        "account": fresh,
        "live_sessions": TokenFamily.objects.filter(
            account_id=account.pk, revoked_at__isnull=True
        ).count(),
        "totp": TotpFactor.objects.filter(account_id=account.pk).count(),
        "otp": OtpFactor.objects.filter(account_id=account.pk).count(),
        "answers": SecurityAnswer.objects.filter(account_id=account.pk).count(),
        "duo": DuoEnrollment.objects.filter(account_id=account.pk).count(),
        "codes": BackupCode.objects.filter(account_id=account.pk).count(),
        "passkeys": sorted(
            PasskeyCredential.objects.filter(account_id=account.pk).values_list(
                "credential_id", flat=True
            )
        ),
        "push": sorted(
            PushDevice.objects.filter(account_id=account.pk).values_list("name", flat=True)
        ),
        "pending": SecondFactorToken.objects.filter(
            account_id=account.pk, expires_at__gt=timezone.now()
        ).count(),
        "audit": AuditEvent.objects.count(),
    }


def secure(tenant, account, **options):
    command = AccountSecure(reason=options.pop("reason", "account taken over"), **options)
    return account_secure(command, tenant=tenant, actor=STAFF, account=account)


# ---------------------------------------------------------------- the service


def test_securing_ends_every_session_of_the_account(tenant, member):
    bystander = AccountFactory(tenant=tenant)
    theirs = sessions.session_issue(
        SessionIssue(), tenant=tenant, account=bystander, actor=Actor.account(bystander.uid)
    )
    assert all(token_valid(tenant, s.access_token) for s in member.issued)

    result = secure(tenant, member)

    assert result.sessions_revoked == 4  # two access and two refresh tokens
    assert not any(token_valid(tenant, s.access_token) for s in member.issued)
    for issued in member.issued:
        with pytest.raises(RefreshTokenInvalid):
            sessions.session_refresh(
                tenant=tenant, refresh_token=issued.refresh_token, actor=Actor.account(member.uid)
            )
    assert token_valid(tenant, theirs.access_token)


def test_securing_removes_passkeys_push_devices_and_second_factors(tenant, member):
    result = secure(tenant, member)

    assert services.account_mfa_state(account=member) == dict.fromkeys(
        ("totp", "sms", "email", "securityquestion", "passkey", "push", "duo"), False
    )
    assert not BackupCode.objects.filter(account=member).exists()
    assert not TotpFactor.objects.filter(account=member).exists()
    assert (result.passkeys_removed, result.push_devices_removed, result.backup_codes_removed) == (
        2,
        2,
        10,
    )
    assert set(result.factors_reset) == {"totp", "sms", "email", "securityquestion", "duo"}
    assert result.password_change_required is True


def test_devices_added_since_removes_only_the_newer_devices(tenant, member):
    result = secure(tenant, member, devices_added_since=SINCE)

    assert list(
        PasskeyCredential.objects.filter(account=member).values_list("credential_id", flat=True)
    ) == ["old-key"]
    assert list(PushDevice.objects.filter(account=member).values_list("name", flat=True)) == [
        "old phone"
    ]
    assert (result.passkeys_removed, result.push_devices_removed) == (1, 1)
    deleted = AuditEvent.objects.filter(
        subject_uid=member.uid, action__in=("passkey.deleted", "push_device.deleted")
    )
    assert deleted.count() == 2 and {e.reason for e in deleted} == {"account taken over"}


def test_a_naive_devices_added_since_is_read_as_utc(tenant, member):
    naive = (timezone.now() - timedelta(days=2)).replace(tzinfo=None)
    result = secure(
        tenant,
        member,
        devices_added_since=naive,
        revoke_sessions=False,
        reset_second_factors=False,
        require_password_change=False,
    )
    assert (result.passkeys_removed, result.push_devices_removed) == (1, 1)


def test_options_left_off_keep_what_they_cover(tenant, member):
    result = secure(
        tenant,
        member,
        remove_passkeys=False,
        remove_push_devices=False,
        reset_second_factors=False,
        require_password_change=False,
    )

    assert result.sessions_revoked == 4
    assert (result.passkeys_removed, result.push_devices_removed, result.backup_codes_removed) == (
        0,
        0,
        0,
    )
    assert result.factors_reset == () and result.password_change_required is False
    after = snapshot(member)
    assert (after["totp"], after["otp"], after["answers"], after["duo"], after["codes"]) == (
        1,
        2,
        1,
        1,
        10,
    )
    assert after["passkeys"] == ["new-key", "old-key"] and after["push"] == [
        "attacker",
        "old phone",
    ]
    member.refresh_from_db()
    assert member.password_change_required is False
    response = sign_in(tenant, PASSWORD)
    assert response.status_code == 200 and response.json()["SecondFactorAuthentication"]


def test_sign_in_with_the_old_password_answers_the_forced_change_error(tenant, member):
    secure(tenant, member)
    families = TokenFamily.objects.count()

    response = sign_in(tenant, PASSWORD)

    assert response.status_code == 403
    body = response.json()
    assert body["ErrorCode"] == 1317 and body["Message"] and body["Description"]
    assert body.get("access_token") is None
    # A wrong password says nothing about the requirement.
    assert sign_in(tenant, "not-the-password").json()["ErrorCode"] == 966
    assert TokenFamily.objects.count() == families


def _set_by_manage_api(lr, tenant, member):
    response = lr.put(
        f"/identity/v2/manage/account/{member.uid}/password", {"password": NEW_PASSWORD}
    )
    assert response.status_code == 200, response.json()


def _set_by_reset_token(lr, tenant, member):
    reset = lr.post(
        "/identity/v2/manage/account/forgot/token", {"email": "member@example.com"}
    ).json()["ForgotToken"]
    response = key_only(
        tenant,
        "put",
        "/identity/v2/auth/password/reset",
        {"resettoken": reset, "password": NEW_PASSWORD},
    )
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("set_password", [_set_by_manage_api, _set_by_reset_token])
def test_setting_a_new_password_clears_the_requirement(lr, tenant, member, set_password):
    secure(tenant, member)
    assert sign_in(tenant, PASSWORD).json()["ErrorCode"] == 1317

    set_password(lr, tenant, member)

    member.refresh_from_db()
    assert member.password_change_required is False
    response = sign_in(tenant, NEW_PASSWORD)
    assert response.status_code == 200, response.json()
    assert token_valid(tenant, response.json()["access_token"])
    assert sign_in(tenant, PASSWORD).json()["ErrorCode"] == 966
    event = AuditEvent.objects.filter(action="account_password.set", subject_uid=member.uid).latest(
        "id"
    )
    assert event.diff["ResetRequired"] == [True, False]


def test_one_account_secured_event_carries_reason_ticket_options_and_counts(tenant, member):
    first_new = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() + 1
    result = secure(
        tenant, member, reason="phished, per call", ticket="SUP-42", devices_added_since=SINCE
    )

    events = AuditEvent.objects.filter(id__gte=first_new, action="account.secured")
    assert events.count() == 1
    event = events.get()
    assert (event.subject_uid, event.reason, event.ticket) == (
        member.uid,
        "phished, per call",
        "SUP-42",
    )
    assert event.actor_type == STAFF.type
    diff = event.diff
    assert diff["sessions_revoked"] == [None, result.sessions_revoked]
    assert diff["passkeys_removed"] == [None, 1] and diff["push_devices_removed"] == [None, 1]
    assert diff["backup_codes_removed"] == [None, 10]
    assert sorted(diff["factors_reset"][1]) == ["duo", "email", "securityquestion", "sms", "totp"]
    assert diff["devices_added_since"] == [None, SINCE.isoformat()]
    for option in (
        "revoke_sessions",
        "remove_passkeys",
        "remove_push_devices",
        "reset_second_factors",
        "require_reset",
    ):
        assert diff[option] == [None, True]
    # Each change also records its own event, with the same reason.
    nested = AuditEvent.objects.filter(id__gte=first_new).exclude(action="account.secured")
    assert {
        "session.all_revoked",
        "mfa_factor.reset",
        "passkey.deleted",
        "push_device.deleted",
        "backup_codes.removed",
        "account_password.change_required",
    } <= set(nested.values_list("action", flat=True))
    assert set(nested.values_list("subject_uid", flat=True)) == {member.uid}


def test_securing_records_its_steps_in_order_each_reset_ending_sessions_as_its_consequence(
    tenant, member
):
    first_new = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() + 1
    secure(tenant, member)

    story = list(AuditEvent.objects.filter(id__gte=first_new).order_by("id"))
    actions = [event.action for event in story]
    # The sessions end first, for the securing itself; then each factor reset ends the
    # sessions again (none left), pointing to the reset; the umbrella event comes last.
    assert actions[0] == "session.all_revoked" and story[0].caused_by is None
    assert story[0].reason == "account taken over" and story[0].diff["sessions"] == [2, 0]
    assert actions[-1] == "account.secured"
    resets = {event.pk: event for event in story if event.action == "mfa_factor.reset"}
    assert len(resets) == 7  # passkey, push and the five second factors
    endings = [e for e in story[1:] if e.action == "session.all_revoked"]
    assert sorted(e.caused_by for e in endings) == sorted(resets)
    for ending in endings:
        factor = resets[ending.caused_by].diff["factor"][0]
        assert ending.reason == f"mfa reset: {factor}" and ending.diff["sessions"] == [0, 0]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_empty_reason_is_refused_and_changes_nothing(tenant, member, reason):
    before = snapshot(member)
    with pytest.raises(SecureReasonRequired) as refused:
        secure(tenant, member, reason=reason)
    assert isinstance(refused.value, AccountSecureRefused) and refused.value.field == "reason"
    assert snapshot(member) == before
    assert all(token_valid(tenant, s.access_token) for s in member.issued)


def test_choosing_nothing_is_refused_and_changes_nothing(tenant, member):
    before = snapshot(member)
    with pytest.raises(NothingToSecure):
        secure(
            tenant,
            member,
            revoke_sessions=False,
            remove_passkeys=False,
            remove_push_devices=False,
            reset_second_factors=False,
            require_password_change=False,
        )
    assert snapshot(member) == before


def test_an_overlong_ticket_is_refused_and_changes_nothing(tenant, member):
    before = snapshot(member)
    with pytest.raises(AccountSecureRefused):
        secure(tenant, member, ticket="T" * 101)
    assert snapshot(member) == before


def test_a_failure_part_way_leaves_everything_as_it_was(tenant, member, monkeypatch):
    def broken(command, **kwargs):
        raise LRError(950)

    monkeypatch.setattr("accounts.services.account_password_change_require", broken)
    before = snapshot(member)
    with pytest.raises(LRError):
        secure(tenant, member)
    assert snapshot(member) == before


def test_another_tenants_account_is_refused(tenant, other_tenant, member):
    before = snapshot(member)
    with pytest.raises(SecureAccountNotFound):
        secure(other_tenant, member, reason="wrong tenant")
    assert snapshot(member) == before


def test_a_pending_sign_in_cannot_be_completed_after_securing(tenant, member):
    response = sign_in(tenant, PASSWORD)
    challenge = response.json()["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]

    result = secure(
        tenant,
        member,
        remove_passkeys=False,
        remove_push_devices=False,
        reset_second_factors=False,
        require_password_change=False,
    )

    assert result.pending_sign_ins_cancelled == 1
    code = services.totp_code(SECRET, for_time=time.time())
    with freeze_time(timezone.now() + timedelta(seconds=5)):
        completed = key_only(
            tenant,
            "put",
            "/identity/v2/auth/login/2fa/verification/authenticatorcode",
            {"authenticatorcode": code},
            secondfactorauthenticationtoken=challenge,
        )
    assert completed.json()["ErrorCode"] == 1193
    assert not TokenFamily.objects.filter(account=member, revoked_at__isnull=True).exists()


def test_a_plain_password_reset_keeps_the_factors_and_ends_the_sessions(lr, tenant, member):
    before = snapshot(member)
    _set_by_manage_api(lr, tenant, member)
    after = snapshot(member)
    for kept in ("totp", "otp", "answers", "duo", "codes", "passkeys", "push"):
        assert after[kept] == before[kept]
    assert after["live_sessions"] == 0
    assert not any(token_valid(tenant, s.access_token) for s in member.issued)


# ---------------------------------------------------------------- POST /api/v1/accounts/{uid}/secure


def test_native_secure_answers_the_counts(lr, tenant, member, credential):
    response = lr.post(
        f"{NATIVE}/{member.uid}/secure", {"reason": "takeover reported", "ticket": "SUP-7"}
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "uid": member.uid,
        "sessions_revoked": 4,
        "passkeys_removed": 2,
        "push_devices_removed": 2,
        "factors_reset": ["totp", "sms", "email", "securityquestion", "duo"],
        "backup_codes_removed": 10,
        "pending_sign_ins_cancelled": 0,
        "password_change_required": True,
    }
    event = AuditEvent.objects.get(action="account.secured")
    assert (event.reason, event.ticket, event.actor_type, event.actor_id) == (
        "takeover reported",
        "SUP-7",
        "credential",
        str(credential.pk),
    )
    assert not any(token_valid(tenant, s.access_token) for s in member.issued)
    assert sign_in(tenant, PASSWORD).json()["ErrorCode"] == 1317


def test_native_secure_takes_the_options(lr, tenant, member):
    response = lr.post(
        f"{NATIVE}/{member.uid}/secure",
        {
            "reason": "only the new devices",
            "revoke_sessions": False,
            "reset_second_factors": False,
            "require_password_change": False,
            "devices_added_since": SINCE.isoformat(),
        },
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["sessions_revoked"], body["passkeys_removed"], body["push_devices_removed"]) == (
        0,
        1,
        1,
    )
    assert body["factors_reset"] == [] and body["password_change_required"] is False
    assert all(token_valid(tenant, s.access_token) for s in member.issued)
    event = AuditEvent.objects.get(action="account.secured")
    assert event.diff["revoke_sessions"] == [None, False]


def test_native_secure_of_a_foreign_or_unknown_uid_is_not_found(lr, lr_other, tenant, member):
    before = snapshot(member)
    for client, uid in ((lr_other, member.uid), (lr, "0" * 32)):
        response = client.post(f"{NATIVE}/{uid}/secure", {"reason": "not yours"})
        assert response.status_code == 404, response.json()
        assert response.json()["code"] == "account_secure.account_not_found"
    assert snapshot(member) == before


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"ticket": "SUP-1"}])
def test_native_secure_without_a_reason_is_refused(lr, member, body):
    before = snapshot(member)
    response = lr.post(f"{NATIVE}/{member.uid}/secure", body)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "account_secure.reason_required"
    assert "reason" in response.json()["detail"]
    assert snapshot(member) == before


@pytest.mark.parametrize(
    "body",
    [
        {"reason": 5},
        {"reason": "x", "ticket": ["SUP-1"]},
        {"reason": "x", "ticket": "T" * 101},
        {"reason": "x", "revoke_sessions": "maybe"},
        {"reason": "x", "remove_passkeys": None},
        {"reason": "x", "devices_added_since": "last tuesday"},
        {"reason": "x", "devices_added_since": 1700000000},
        {"reason": "x", "revoke_everything": True},
        {
            "reason": "x",
            "revoke_sessions": False,
            "remove_passkeys": False,
            "remove_push_devices": False,
            "reset_second_factors": False,
            "require_password_change": False,
        },
    ],
)
def test_native_secure_refuses_bad_input_and_changes_nothing(lr, member, body):
    before = snapshot(member)
    response = lr.post(f"{NATIVE}/{member.uid}/secure", body)
    assert response.status_code == 400, response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert snapshot(member) == before


def test_native_secure_refuses_a_body_that_is_not_an_object(lr, member):
    before = snapshot(member)
    response = lr.post(f"{NATIVE}/{member.uid}/secure", ["reason"])
    assert 400 <= response.status_code < 500
    assert snapshot(member) == before


def test_native_secure_needs_the_security_scope(tenant, member):
    from tests.conftest import LRClient

    accounts_only = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts"]))
    before = snapshot(member)
    response = accounts_only.post(f"{NATIVE}/{member.uid}/secure", {"reason": "scoped"})
    assert response.status_code == 403
    assert response.json()["code"] == "credential.scope_refused"
    assert snapshot(member) == before


def test_native_secure_needs_the_secret(tenant, member):
    before = snapshot(member)
    response = key_only(tenant, "post", f"{NATIVE}/{member.uid}/secure", {"reason": "no secret"})
    assert response.status_code == 400
    assert response.json()["code"] == "credential.api_secret_required"
    assert snapshot(member) == before

import pytest

from portal.audit import Actor
from portal.crypto import encrypt, token_hash
from portal.models import AuditEvent
from security import services
from security.commands import BackupCodesGenerate
from security.models import (
    BackupCode,
    DuoEnrollment,
    OtpFactor,
    PasskeyCredential,
    PushDevice,
    SecurityAnswer,
    TotpFactor,
)

M = "/identity/v2/manage/account"


@pytest.fixture
def revoked():
    """How many times every session of an account was ended: the `session.all_revoked`
    events recorded so far (a reset ends them once)."""

    class SessionEndings:
        def __len__(self) -> int:
            return AuditEvent.objects.filter(action="session.all_revoked").count()

    return SessionEndings()


@pytest.fixture
def full(tenant, account):
    """An account with every kind of factor."""
    TotpFactor.objects.create(
        tenant=tenant, account=account, secret_encrypted=encrypt("JBSWY3DPEHPK3PXP"), confirmed=True
    )
    OtpFactor.objects.create(
        tenant=tenant, account=account, channel="sms", destination="+15551230000", confirmed=True
    )
    OtpFactor.objects.create(
        tenant=tenant, account=account, channel="email", destination="a@example.com", confirmed=True
    )
    SecurityAnswer.objects.create(
        tenant=tenant, account=account, question_id="q1", answer_hash=token_hash("x")
    )
    PasskeyCredential.objects.create(
        tenant=tenant, account=account, credential_id="abc", public_key="k"
    )
    PushDevice.objects.create(tenant=tenant, account=account, device_token_encrypted=encrypt("d"))
    DuoEnrollment.objects.create(tenant=tenant, account=account, duo_username="u")
    services.backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=Actor.system("t"), account=account
    )
    return account


def present(account):
    state = services.account_mfa_state(account=account)
    return {name for name, on in state.items() if on}


ALL = {"totp", "sms", "email", "securityquestion", "passkey", "push", "duo"}

CASES = [
    # (path, body, factors removed)
    ("/2fa/sms", None, {"sms"}),
    ("/2fa/totp", None, {"totp"}),
    ("/2fa/email", None, {"email"}),
    ("/2fa/duo", None, {"duo"}),
    ("/2fa/passkey", None, {"passkey"}),
    ("/2fa/push", None, {"push"}),
    ("/2FA/SMS", None, {"sms"}),
    ("/2fa/authenticator", {"otpauthenticator": True}, {"sms"}),
    ("/2fa/authenticator", {"authenticator": True}, {"totp"}),
    ("/2FA/authenticator", {"googleauthenticator": "true"}, {"totp"}),
    ("/2fa/authenticator", {"otpauthenticator": True, "authenticator": True}, {"sms", "totp"}),
    ("/2fa/authenticator/otp/email", None, {"email"}),
    ("/2FA/authenticator/securityquestionanswer", None, {"securityquestion"}),
    ("/2FA/authenticator/duo", None, {"duo"}),
    ("/2fa/authenticator/passkey", None, {"passkey"}),
    ("/2FA/authenticator/push", None, {"push"}),
]


@pytest.mark.parametrize("path,body,removed", CASES)
def test_reset_removes_exactly_that_factor(lr, full, revoked, path, body, removed):
    codes_before = BackupCode.objects.filter(account=full).count()
    response = lr.delete(M + path, body, {"uid": full.uid})
    assert response.status_code == 200, response.json()
    assert response.json() == {"IsDeleted": True}
    assert present(full) == ALL - removed
    assert BackupCode.objects.filter(account=full).count() == codes_before
    assert len(revoked) == len(removed)
    events = AuditEvent.objects.filter(action="mfa_factor.reset", subject_uid=full.uid)
    assert sorted(e.diff["factor"][0] for e in events) == sorted(removed)


def test_legacy_push_path_with_uid_in_path(lr, full, revoked):
    response = lr.delete(f"{M}/2FA/authenticator/push/{full.uid}")
    assert response.json() == {"IsDeleted": True}
    assert present(full) == ALL - {"push"}


def test_reset_of_absent_factor_still_succeeds_and_is_audited(lr, account, revoked):
    response = lr.delete(M + "/2fa/totp", None, {"uid": account.uid})
    assert response.json() == {"IsDeleted": True}
    event = AuditEvent.objects.get(action="mfa_factor.reset")
    assert event.diff["removed"] == [0, 0]


@pytest.mark.parametrize("path", [p for p, _, _ in CASES])
def test_reset_errors(lr, lr_other, full, revoked, path):
    body = {"authenticator": True} if path.lower().endswith("authenticator") else None
    assert lr.delete(M + path, body).json()["ErrorCode"] == 908
    assert lr.delete(M + path, body, {"uid": "unknown"}).json()["ErrorCode"] == 938
    assert lr_other.delete(M + path, body, {"uid": full.uid}).json()["ErrorCode"] == 938
    assert present(full) == ALL
    assert not revoked
    assert not AuditEvent.objects.filter(action="mfa_factor.reset").exists()


@pytest.mark.parametrize("body", [{}, {"otpauthenticator": False}, {"authenticator": False}])
def test_v11_reset_without_a_flag_changes_nothing(lr, full, revoked, body):
    response = lr.delete(M + "/2fa/authenticator", body, {"uid": full.uid})
    assert response.json()["ErrorCode"] == 908
    assert present(full) == ALL


def test_v11_reset_with_non_boolean_flag(lr, full, revoked):
    response = lr.delete(M + "/2fa/authenticator", {"authenticator": "maybe"}, {"uid": full.uid})
    assert response.json()["ErrorCode"] == 908
    assert present(full) == ALL


def test_reset_refused_for_credential_without_security_scope(tenant, full, revoked):
    from tests.conftest import LRClient
    from tests.factories import ApiCredentialFactory

    client = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts"]))
    response = client.delete(M + "/2fa/totp", None, {"uid": full.uid})
    assert response.json()["ErrorCode"] == 1143
    assert present(full) == ALL


def test_reset_ends_the_accounts_real_sessions(lr, tenant, full):
    from tokens.commands import SessionIssue
    from tokens.errors import AccessTokenInvalid
    from tokens.selectors import access_token_resolve
    from tokens.services.sessions import session_issue

    issued = session_issue(
        SessionIssue(), tenant=tenant, account=full, actor=Actor.account(full.uid)
    )
    assert access_token_resolve(tenant=tenant, token=issued.access_token).account == full
    assert lr.delete(M + "/2fa/totp", None, {"uid": full.uid}).json() == {"IsDeleted": True}
    with pytest.raises(AccessTokenInvalid):
        access_token_resolve(tenant=tenant, token=issued.access_token)
    event = AuditEvent.objects.get(action="mfa_factor.reset")
    assert event.diff["sessions_revoked"][0] >= 1


def test_the_sessions_a_reset_ends_are_recorded_as_its_consequence(lr, tenant, full):
    from tokens.commands import SessionIssue
    from tokens.models import TokenFamily
    from tokens.services.sessions import session_issue

    for _ in range(2):
        session_issue(SessionIssue(), tenant=tenant, account=full, actor=Actor.account(full.uid))
    assert lr.delete(M + "/2fa/totp", None, {"uid": full.uid}).json() == {"IsDeleted": True}

    reset = AuditEvent.objects.get(action="mfa_factor.reset")
    ended = AuditEvent.objects.get(action="session.all_revoked")
    assert reset.diff["sessions_revoked"] == [2, 0]
    assert ended.caused_by == reset.pk and ended.pk > reset.pk
    assert ended.reason == "mfa reset: totp" and ended.diff["sessions"] == [2, 0]
    assert (ended.actor_type, ended.actor_id) == (reset.actor_type, reset.actor_id)
    assert not TokenFamily.objects.filter(account=full, revoked_at__isnull=True).exists()

"""The LoginRadius Python SDK (v11) against this server: MFA resets, backup codes and the
management side of reauthentication."""

import pytest
from django.contrib.auth.hashers import make_password

from portal.audit import Actor
from portal.crypto import encrypt
from security import services
from security.commands import BackupCodesGenerate
from security.models import BackupCode, OtpFactor, SecurityAnswer, TotpFactor
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def member(tenant):
    account = AccountFactory(tenant=tenant)
    account.password = make_password("pw-123456")
    account.save()
    TotpFactor.objects.create(
        tenant=tenant,
        account=account,
        secret_encrypted=encrypt("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
        confirmed=True,
    )
    OtpFactor.objects.create(
        tenant=tenant, account=account, channel="sms", destination="+15550001111", confirmed=True
    )
    OtpFactor.objects.create(
        tenant=tenant, account=account, channel="email", destination="a@example.com", confirmed=True
    )
    SecurityAnswer.objects.create(tenant=tenant, account=account, question_id="q", answer_hash="x")
    return account


@pytest.mark.parametrize("signing", [False, True])
def test_backup_code_generate_and_reset(lr_sdk, member, signing):
    sdk = lr_sdk(signing=signing)
    first = sdk.mfa.mfa_backup_code_by_uid(member.uid)
    assert len(first["BackUpCodes"]) == 10
    again = sdk.mfa.mfa_backup_code_by_uid(member.uid)
    assert again["ErrorCode"] == 1127
    reset = sdk.mfa.mfa_reset_backup_code_by_uid(member.uid)
    assert len(reset["BackUpCodes"]) == 10 and not set(reset["BackUpCodes"]) & set(
        first["BackUpCodes"]
    )
    assert BackupCode.objects.filter(account=member).count() == 10


def test_factor_resets(lr_sdk, member):
    sdk = lr_sdk()
    assert sdk.mfa.mfa_reset_sms_authenticator_by_uid(True, member.uid) == {"IsDeleted": True}
    assert not OtpFactor.objects.filter(account=member, channel="sms").exists()
    assert TotpFactor.objects.filter(account=member).exists()
    assert sdk.mfa.mfa_reset_authenticator_by_uid(True, member.uid) == {"IsDeleted": True}
    assert not TotpFactor.objects.filter(account=member).exists()
    assert sdk.mfa.mfa_reset_email_otp_authenticator_by_uid(member.uid) == {"IsDeleted": True}
    assert not OtpFactor.objects.filter(account=member).exists()
    assert SecurityAnswer.objects.filter(account=member).exists()
    assert sdk.mfa.mfa_reset_security_question_authenticator_by_uid(member.uid) == {
        "IsDeleted": True
    }
    assert not SecurityAnswer.objects.filter(account=member).exists()
    assert sdk.mfa.mfa_reset_authenticator_by_uid(True, "unknown-uid")["ErrorCode"] == 938


@pytest.mark.parametrize(
    "method,group",
    [
        ("verify_multi_factor_password_reauthentication", "password"),
        ("verify_multi_factor_otp_reauthentication", "otp"),
        ("verify_multi_factor_pin_reauthentication", "pin"),
    ],
)
def test_reauthentication_validation(lr_sdk, tenant, member, method, group):
    sdk = lr_sdk()
    issued = services.reauth_token_issue(tenant=tenant, account=member, method=group)
    call = getattr(sdk.re_authentication, method)
    assert call({"SecondFactorValidationToken": issued.token}, member.uid) == {"IsValid": True}
    assert call({"SecondFactorValidationToken": issued.token}, member.uid)["ErrorCode"] == 1193
    assert call({"secondfactorvalidationtoken": "nope"}, member.uid)["ErrorCode"] == 1193
    assert call({}, member.uid)["ErrorCode"] == 908


def test_backup_codes_issued_through_sdk_are_single_use(lr_sdk, tenant, member):
    codes = lr_sdk().mfa.mfa_backup_code_by_uid(member.uid)["BackUpCodes"]
    assert services.backup_code_verify(account=member, code=codes[0])
    assert BackupCode.objects.filter(account=member, used_at__isnull=True).count() == 9
    new = services.backup_codes_generate(
        BackupCodesGenerate(reset=True), tenant=tenant, actor=Actor.system("t"), account=member
    )
    assert BackupCode.objects.filter(account=member, used_at__isnull=True).count() == len(new) == 10


def test_sdk_sign_in_with_second_factor_and_reauth(lr_sdk, tenant, member):
    """login_by_email returns the challenge; the backup-code verification returns the session;
    reauthentication by backup code gives a token the manage side accepts once."""
    sdk = lr_sdk()
    codes = sdk.mfa.mfa_backup_code_by_uid(member.uid)["BackUpCodes"]
    wrong = sdk.authentication.login_by_email(
        {"email": member.emails.first().value, "password": "nope"}
    )
    assert wrong["ErrorCode"] == 966
    first = sdk.authentication.login_by_email(
        {"email": member.emails.first().value, "password": "pw-123456"}
    )
    token = first["SecondFactorAuthentication"]["SecondFactorAuthenticationToken"]
    session = sdk.mfa.mfa_validate_backup_code({"backupcode": codes[0]}, token)
    assert session["Profile"]["Uid"] == member.uid and session["access_token"]
    again = sdk.mfa.mfa_validate_backup_code({"backupcode": codes[0]}, token)
    assert again["ErrorCode"] == 1193

from portal.lrapi.routing import lr_path
from security.api.views import (
    duo,
    factor_setup,
    manage,
    native,
    native_operations,
    passkeys,
    push,
    reauth,
    signin,
)

M = "identity/v2/manage/account"
A = "identity/v2/auth"


def reset(factor: str):
    return manage.FactorResetView.as_view(factor=factor)


urlpatterns = [
    lr_path(
        f"{M}/2fa/backupcode", manage.BackupCodeGenerateView.as_view(), name="backupcode_generate"
    ),
    lr_path(
        f"{M}/2fa/backupcode/reset", manage.BackupCodeResetView.as_view(), name="backupcode_reset"
    ),
    # v12 per-factor resets
    *[
        lr_path(f"{M}/2fa/{factor}", reset(factor), name=f"factor_reset_{factor}")
        for factor in ("sms", "totp", "email", "duo", "passkey", "push")
    ],
    # v11 and legacy spellings
    lr_path(
        f"{M}/2fa/authenticator",
        manage.AuthenticatorResetView.as_view(),
        name="authenticator_reset",
    ),
    lr_path(f"{M}/2fa/authenticator/otp/email", reset("email"), name="factor_reset_email_v11"),
    lr_path(
        f"{M}/2fa/authenticator/securityquestionanswer",
        reset("securityquestion"),
        name="factor_reset_securityquestion",
    ),
    lr_path(f"{M}/2fa/authenticator/duo", reset("duo"), name="factor_reset_duo_legacy"),
    lr_path(f"{M}/2fa/authenticator/passkey", reset("passkey"), name="factor_reset_passkey_legacy"),
    lr_path(f"{M}/2fa/authenticator/push", reset("push"), name="factor_reset_push_legacy_query"),
    lr_path(
        f"{M}/2fa/authenticator/push/<str:uid>",
        manage.FactorResetByPathView.as_view(factor="push"),
        name="factor_reset_push_legacy",
    ),
    # reauthentication, validated by a back end
    *[
        lr_path(
            f"{M}/<str:uid>/reauth/{kind}",
            reauth.ReauthValidateView.as_view(group=kind),
            name=f"reauth_validate_{kind}",
        )
        for kind in ("password", "pin", "2fa")
    ],
    # reauthentication, by the account
    lr_path(
        f"{A}/account/reauth/password",
        reauth.ReauthView.as_view(method="password"),
        name="reauth_password",
    ),
    lr_path(f"{A}/account/reauth/pin", reauth.ReauthView.as_view(method="pin"), name="reauth_pin"),
    lr_path(f"{A}/account/reauth/2fa", reauth.ReauthTriggerView.as_view(), name="reauth_trigger"),
    lr_path(
        f"{A}/account/reauth/2fa/otp", reauth.ReauthView.as_view(method="otp"), name="reauth_otp"
    ),
    lr_path(
        f"{A}/account/reauth/2fa/backupcode",
        reauth.ReauthView.as_view(method="backupcode"),
        name="reauth_backupcode",
    ),
    lr_path(
        f"{A}/account/reauth/2fa/authenticatorcode",
        reauth.ReauthView.as_view(method="authenticatorcode"),
        name="reauth_authenticatorcode",
    ),
    lr_path(f"{A}/account/reauth/2fa/duo", reauth.ReauthDuoView.as_view(), name="reauth_duo"),
    lr_path(
        f"{A}/account/reauth/2fa/otp/email",
        reauth.ReauthEmailOtpSendView.as_view(),
        name="reauth_email_otp_send",
    ),
    lr_path(
        f"{A}/account/reauth/2fa/otp/email/verify",
        reauth.ReauthView.as_view(method="emailotp"),
        name="reauth_email_otp",
    ),
    lr_path(
        f"{A}/account/reauth/2fa/securityquestionanswer/verify",
        reauth.ReauthView.as_view(method="securityquestion"),
        name="reauth_securityquestion",
    ),
    # factor setup, by the account
    lr_path(f"{A}/account/2fa", factor_setup.MfaSetupView.as_view(), name="mfa_setup"),
    lr_path(
        f"{A}/account/2fa/verification/authenticatorcode",
        factor_setup.MfaSetupVerifyView.as_view(method="authenticatorcode"),
        name="mfa_setup_verify_authenticatorcode",
    ),
    lr_path(
        f"{A}/account/2fa/verification/otp",
        factor_setup.MfaSetupVerifyView.as_view(method="otp"),
        name="mfa_setup_verify_otp",
    ),
    lr_path(
        f"{A}/account/2fa/otp/email",
        factor_setup.MfaEmailOtpSetupView.as_view(),
        name="mfa_setup_email_otp",
    ),
    lr_path(
        f"{A}/account/2fa/verification/otp/email",
        factor_setup.MfaSetupVerifyView.as_view(method="emailotp"),
        name="mfa_setup_verify_email_otp",
    ),
    lr_path(
        f"{A}/account/2fa/securityquestionanswer",
        factor_setup.MfaSecurityQuestionSetupView.as_view(),
        name="mfa_setup_securityquestion",
    ),
    # passkeys
    lr_path(f"{M}/passkey", passkeys.PasskeyManageListView.as_view(), name="passkey_manage_list"),
    lr_path(
        f"{M}/passkey/<str:passkey_id>",
        passkeys.PasskeyManageDeleteView.as_view(),
        name="passkey_manage_delete",
    ),
    lr_path(
        f"{A}/account/passkey",
        passkeys.PasskeyAccountListView.as_view(),
        name="passkey_account_list",
    ),
    lr_path(
        f"{A}/account/passkey/<str:passkey_id>",
        passkeys.PasskeyAccountDeleteView.as_view(),
        name="passkey_account_delete",
    ),
    lr_path(
        f"{A}/account/register/passkey/begin",
        passkeys.PasskeyRegisterBeginView.as_view(),
        name="passkey_register_begin",
    ),
    lr_path(
        f"{A}/account/register/passkey/finish",
        passkeys.PasskeyRegisterFinishView.as_view(),
        name="passkey_register_finish",
    ),
    lr_path(
        f"{A}/login/passkey/begin",
        passkeys.PasskeyLoginBeginView.as_view(),
        name="passkey_login_begin",
    ),
    lr_path(
        f"{A}/login/passkey/finish",
        passkeys.PasskeyLoginFinishView.as_view(),
        name="passkey_login_finish",
    ),
    # push approval
    lr_path(
        f"{A}/account/2fa/push", push.PushDeviceRegisterView.as_view(), name="push_device_register"
    ),
    lr_path(
        f"{A}/login/2fa/push", push.PushChallengeStartView.as_view(), name="push_challenge_start"
    ),
    lr_path(
        f"{A}/login/2fa/push/respond",
        push.PushChallengeRespondView.as_view(),
        name="push_challenge_respond",
    ),
    lr_path(
        f"{A}/login/2fa/push/status",
        push.PushChallengeStatusView.as_view(),
        name="push_challenge_status",
    ),
    # Duo
    lr_path(f"{A}/login/2fa/duo", duo.DuoPromptStartView.as_view(), name="duo_prompt_start"),
    lr_path(
        f"{A}/login/2fa/duo/callback",
        duo.DuoPromptCallbackView.as_view(),
        name="duo_prompt_callback",
    ),
    lr_path(
        "api/v1/security/duo",
        native_operations.NativeDuoView.as_view(),
        name="security_duo_config",
    ),
    lr_path(
        "api/v1/accounts/<str:uid>/secure",
        native_operations.NativeAccountSecureView.as_view(),
        name="account_secure",
    ),
    lr_path(
        "api/v1/accounts/<str:uid>/unlock",
        native_operations.NativeAccountUnlockView.as_view(),
        name="account_unlock",
    ),
    # sign-in
    lr_path(f"{A}/login", signin.LoginView.as_view(), name="login"),
    lr_path(f"{A}/login/2fa", signin.LoginView.as_view(), name="login_2fa"),
    lr_path(
        f"{A}/login/2fa/resend",
        signin.LoginOtpSendView.as_view(channel="sms"),
        name="login_2fa_resend",
    ),
    lr_path(
        f"{A}/login/2fa/otp/email",
        signin.LoginOtpSendView.as_view(channel="email"),
        name="login_2fa_email_otp_send",
    ),
    *[
        lr_path(
            f"{A}/login/2fa/verification/{suffix}",
            signin.LoginSecondFactorView.as_view(method=method),
            name=f"login_2fa_{method}",
        )
        for suffix, method in (
            ("authenticatorcode", "authenticatorcode"),
            ("backupcode", "backupcode"),
            ("otp", "otp"),
            ("otp/email", "emailotp"),
            ("securityquestionanswer", "securityquestion"),
        )
    ],
    # Native (/api/v1/, docs/api.md)
    lr_path(
        "api/v1/accounts/<str:uid>/factors",
        native.NativeFactorListView.as_view(),
        name="native_factors",
    ),
    lr_path(
        "api/v1/accounts/<str:uid>/factors/<str:kind>",
        native.NativeFactorDetailView.as_view(),
        name="native_factor",
    ),
]

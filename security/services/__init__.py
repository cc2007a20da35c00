"""Writes of account security, one module per mechanism:

- throttling: the delay and failure count of every verifier
- factors: which factors an account has, their reset by support, the notice of a new one
- totp, otp, backup_codes, security_questions, passkeys, push_approval, duo_prompt: the factors
- second_factor_tokens, signin: password sign-in, its second-factor step, login failures
- lockout: sign-in locks (the lockout policy's and staff's) and their lifting
- reauth: reauthentication and the proof a back end checks
- securing: security's part of taking a compromised account back (flows.securing)
"""

from security.services.backup_codes import (
    BACKUP_CODE_COUNT,
    backup_code_verify,
    backup_codes_generate,
    backup_codes_remove,
)
from security.services.duo_prompt import (
    DUO_STATE_SECONDS,
    duo_callback_url,
    duo_config_delete,
    duo_config_set,
    duo_prompt_complete,
    duo_prompt_start,
    duo_reauth_start,
    duo_required,
)
from security.services.factors import (
    FACTOR_NOTICE_NAMES,
    FACTOR_NOTICE_TEMPLATE,
    FACTORS,
    account_has_mfa,
    account_mfa_state,
    factor_notice_send,
    factor_rows,
    mfa_factor_reset,
)
from security.services.lockout import (
    LOCKED_TYPE_FAILED_LOGINS,
    MANUAL_LOCK,
    account_lock,
    account_lock_set,
    account_unlock,
    login_failures_clear,
)
from security.services.otp import (
    otp_factor_code_send,
    otp_factor_confirm,
    otp_factor_set,
    otp_send,
    otp_verify,
)
from security.services.passkeys import (
    PASSKEY_CHALLENGE_SECONDS,
    passkey_authenticate,
    passkey_authentication_begin,
    passkey_decoy_options,
    passkey_delete,
    passkey_login,
    passkey_register,
    passkey_registration_begin,
    passkey_relying_party,
)
from security.services.push_approval import (
    PUSH_CHALLENGE_SECONDS,
    RegisteredDevice,
    push_challenge_decide,
    push_challenge_start,
    push_challenge_status,
    push_device_delete,
    push_device_register,
)
from security.services.reauth import (
    REAUTH_GROUPS,
    reauth_duo,
    reauth_password,
    reauth_pin,
    reauth_token_issue,
    reauth_token_validate,
)
from security.services.second_factor_tokens import IssuedToken
from security.services.securing import (
    FactorsWithdrawn,
    SecureRequest,
    account_factors_withdraw,
    account_secure_check,
)
from security.services.security_questions import (
    security_answers_confirm,
    security_answers_request,
    security_answers_set,
    security_answers_verify,
)
from security.services.signin import (
    LOGIN_CHALLENGE_SECONDS,
    LoginOutcome,
    login_challenge_complete,
    login_challenge_get,
    login_failure_count,
    login_lock_active,
    login_password,
)
from security.services.throttling import (
    THROTTLE_MAX_DELAY_SECONDS,
    throttle_delay_seconds,
    verifier_throttle_clear,
)
from security.services.totp import (
    TOTP_DIGITS,
    TOTP_STEP_SECONDS,
    totp_code,
    totp_code_check,
    totp_confirm,
    totp_enroll,
    totp_matching_step,
    totp_provisioning_uri,
)

__all__ = [
    "BACKUP_CODE_COUNT",
    "DUO_STATE_SECONDS",
    "FACTORS",
    "FACTOR_NOTICE_NAMES",
    "FACTOR_NOTICE_TEMPLATE",
    "LOCKED_TYPE_FAILED_LOGINS",
    "LOGIN_CHALLENGE_SECONDS",
    "MANUAL_LOCK",
    "PASSKEY_CHALLENGE_SECONDS",
    "PUSH_CHALLENGE_SECONDS",
    "REAUTH_GROUPS",
    "THROTTLE_MAX_DELAY_SECONDS",
    "TOTP_DIGITS",
    "TOTP_STEP_SECONDS",
    "FactorsWithdrawn",
    "IssuedToken",
    "LoginOutcome",
    "RegisteredDevice",
    "SecureRequest",
    "account_factors_withdraw",
    "account_has_mfa",
    "account_lock",
    "account_lock_set",
    "account_mfa_state",
    "account_secure_check",
    "account_unlock",
    "backup_code_verify",
    "backup_codes_generate",
    "backup_codes_remove",
    "duo_callback_url",
    "duo_config_delete",
    "duo_config_set",
    "duo_prompt_complete",
    "duo_prompt_start",
    "duo_reauth_start",
    "duo_required",
    "factor_notice_send",
    "factor_rows",
    "login_challenge_complete",
    "login_challenge_get",
    "login_failure_count",
    "login_failures_clear",
    "login_lock_active",
    "login_password",
    "mfa_factor_reset",
    "otp_factor_code_send",
    "otp_factor_confirm",
    "otp_factor_set",
    "otp_send",
    "otp_verify",
    "passkey_authenticate",
    "passkey_authentication_begin",
    "passkey_decoy_options",
    "passkey_delete",
    "passkey_login",
    "passkey_register",
    "passkey_registration_begin",
    "passkey_relying_party",
    "push_challenge_decide",
    "push_challenge_start",
    "push_challenge_status",
    "push_device_delete",
    "push_device_register",
    "reauth_duo",
    "reauth_password",
    "reauth_pin",
    "reauth_token_issue",
    "reauth_token_validate",
    "security_answers_confirm",
    "security_answers_request",
    "security_answers_set",
    "security_answers_verify",
    "throttle_delay_seconds",
    "totp_code",
    "totp_code_check",
    "totp_confirm",
    "totp_enroll",
    "totp_matching_step",
    "totp_provisioning_uri",
    "verifier_throttle_clear",
]

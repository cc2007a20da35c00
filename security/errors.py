"""What the security services refuse, as named domain errors (portal/errors.py).

Their LoginRadius rows are in security/api/lr_errors.py; an error deriving from a general
one (InvalidInput, FieldRequired, AccountNotFound) answers as that one does unless it has
its own row. Imported by SecurityConfig.ready(), so the registry is complete at startup.
"""

from typing import ClassVar

from rest_framework.exceptions import APIException

from portal.errors import (
    AccountNotFound,
    DomainError,
    FieldError,
    FieldRequired,
    InvalidInput,
    Kind,
    register,
)

# What a service of another app refuses with: a named domain error, or the wire error (an
# APIException) of a service that still raises one. Catching these keeps the security
# services and selectors free of the wire layer.
OTHER_APP_REFUSALS = (DomainError, APIException)


class FieldRefused(InvalidInput):
    """One field of a security request is refused. The class names the field and words it;
    a raiser may word it more precisely (`detail`) or name another field. Not raised itself."""

    field_name: ClassVar[str] = ""

    def __init__(self, detail: str | None = None, *, field: str | None = None):
        self.field = field or self.field_name
        super().__init__(field_errors=[FieldError(self.field, detail or self.default_message)])


# Sign-in and reauthentication ------------------------------------------------------------


@register
class PasswordWrong(DomainError):
    """A wrong password; an unknown or locked account answers the same, so the answer never
    tells which."""

    code = "signin.password_wrong"
    kind = Kind.FORBIDDEN
    title = "Wrong user ID or password"
    default_message = "The user ID and password do not match."


@register
class PinWrong(PasswordWrong):
    code = "reauth.pin_wrong"
    title = "Wrong PIN"
    default_message = "The PIN does not match."


@register
class AccountBlocked(DomainError):
    code = "signin.account_blocked"
    kind = Kind.FORBIDDEN
    title = "Account blocked"
    default_message = "The account is blocked."


@register
class AccountLocked(DomainError):
    code = "signin.account_locked"
    kind = Kind.FORBIDDEN
    title = "Account locked"
    default_message = "The account is locked."


@register
class PasswordChangeRequired(DomainError):
    """Staff secured the account: its password is known to others until it is replaced."""

    code = "signin.password_change_required"
    kind = Kind.FORBIDDEN
    title = "New password required"
    default_message = "A new password must be set before signing in with a password."


@register
class SecondFactorTokenInvalid(DomainError):
    """A sign-in's second-factor token, a Duo state or a push challenge that is unknown,
    used or expired."""

    code = "second_factor.token_invalid"
    title = "Second factor token not valid"
    default_message = "The second factor token is invalid or has expired."


@register
class SecondFactorNotSetUp(FieldRefused):
    """The field is the factor (`sms`, `email`, `push`)."""

    code = "second_factor.not_set_up"
    kind = Kind.CONFLICT
    title = "Second factor not set up"
    field_name = "factor"
    default_message = "This second factor is not set up."


# Backup codes ------------------------------------------------------------------------------


@register
class BackupCodesExist(DomainError):
    code = "backup_codes.exist"
    kind = Kind.CONFLICT
    title = "Backup codes already issued"
    default_message = "The account already has backup codes; reset them instead."


# Passkeys ----------------------------------------------------------------------------------


@register
class PasskeyInvalid(FieldRefused):
    """A credential, challenge, attestation or assertion that does not verify."""

    code = "passkey.invalid"
    title = "Passkey credential not valid"
    field_name = "PasskeyCredential"
    default_message = "The passkey credential is not valid."


@register
class PasskeyAlreadyRegistered(PasskeyInvalid):
    code = "passkey.already_registered"
    kind = Kind.CONFLICT
    title = "Passkey already registered"
    default_message = "This passkey is already registered."


@register
class PasskeyNotVerified(PasskeyInvalid):
    """A passkey sign-in refused, whatever the cause, so the identifier's existence stays hidden."""

    code = "passkey.not_verified"
    title = "Passkey not verified"
    default_message = "The passkey could not be verified."


@register
class PasskeyNotFound(FieldRefused):
    code = "passkey.not_found"
    kind = Kind.NOT_FOUND
    title = "Passkey not found"
    field_name = "passkeyId"
    default_message = "No such passkey for this account."


# Push approval -----------------------------------------------------------------------------


@register
class PushNotSetUp(SecondFactorNotSetUp):
    code = "push.not_set_up"
    title = "No push device"
    field_name = "push"
    default_message = "No device is registered for push approval."


@register
class PushDeviceNotFound(FieldRefused):
    code = "push.device_not_found"
    kind = Kind.NOT_FOUND
    title = "Push device not found"
    field_name = "deviceId"
    default_message = "No such device for this account."


@register
class PushChallengeNotFound(FieldRefused):
    code = "push.challenge_not_found"
    kind = Kind.NOT_FOUND
    title = "Push challenge not found"
    field_name = "ChallengeId"
    default_message = "Unknown challenge."


@register
class PushChallengeClosed(SecondFactorTokenInvalid):
    code = "push.challenge_closed"
    title = "Push challenge closed"
    default_message = "The push challenge was already answered or has expired."


@register
class PushNotConfigured(FieldRefused):
    """The tenant chose no way to reach devices: push approval is neither enrolled nor
    started, rather than pretending a notification went out."""

    code = "push.not_configured"
    kind = Kind.CONFLICT
    title = "Push notifications not configured"
    field_name = "push"
    default_message = "Push notifications are not configured for this application."


@register
class PushNotifierInvalid(FieldRefused):
    """The push settings a tenant gave are refused (`detail` and `field` say which and why)."""

    code = "push.notifier_invalid"
    title = "Push notification settings not valid"
    field_name = "push"
    default_message = "The push notification settings are not valid."


# Security questions ------------------------------------------------------------------------


@register
class SecurityAnswersMissing(FieldRefused):
    code = "security_answers.missing"
    title = "Security answer missing"
    field_name = "securityquestionanswer"
    default_message = "Every question needs an answer."


@register
class SecurityAnswersUnconfirmable(FieldRefused):
    code = "security_answers.unconfirmable"
    kind = Kind.CONFLICT
    title = "New security answers cannot be confirmed"
    field_name = "securityquestionanswer"
    default_message = "The account has no email or 2FA phone to confirm new answers with."


# Duo ---------------------------------------------------------------------------------------


@register
class DuoConfigInvalid(FieldRefused):
    """The Duo client's own checks refused the settings (`detail` says why)."""

    code = "duo.config_invalid"
    title = "Duo settings not valid"
    field_name = "duo"
    default_message = "The Duo application settings are not valid."


@register
class DuoHostRefused(DuoConfigInvalid):
    code = "duo.host_refused"
    title = "Not a Duo API host"
    field_name = "api_host"
    default_message = "The API host is not a Duo API host."


@register
class DuoSecretRequired(DuoConfigInvalid):
    code = "duo.secret_required"
    title = "Duo client secret required"
    field_name = "client_secret"
    default_message = "The client secret is required."


@register
class DuoNotConfigured(DomainError):
    code = "duo.not_configured"
    kind = Kind.NOT_FOUND
    title = "Duo not configured"
    default_message = "Duo is not configured for this tenant."


@register
class DuoNotEnabled(FieldRefused):
    """A prompt was asked for while the tenant has no enabled Duo application."""

    code = "duo.not_enabled"
    kind = Kind.CONFLICT
    title = "Duo not enabled"
    field_name = "duo"
    default_message = "Duo is not configured."


@register
class DuoUnreachable(DomainError):
    """Duo's health check failed: the prompt cannot be offered now."""

    code = "duo.unreachable"
    kind = Kind.CONFLICT
    title = "Duo unavailable"
    default_message = "Duo is unavailable."


@register
class DuoNotApproved(SecondFactorTokenInvalid):
    code = "duo.not_approved"
    title = "Duo did not approve"
    default_message = "Duo did not approve the request."


# Securing a compromised account ------------------------------------------------------------


class AccountSecureRefused(DomainError):
    """Securing was refused before anything changed (the base of the refusals below)."""


@register
class SecureReasonRequired(AccountSecureRefused, FieldRequired):
    code = "account_secure.reason_required"
    title = "Reason required to secure the account"

    def __init__(self) -> None:
        super().__init__("reason")


@register
class NothingToSecure(AccountSecureRefused, FieldRefused):
    code = "account_secure.nothing_chosen"
    title = "Nothing chosen to secure the account"
    field_name = "options"
    default_message = "Choose at least one thing to do to secure the account."


@register
class SecureTextTooLong(AccountSecureRefused, FieldRefused):
    code = "account_secure.text_too_long"
    title = "Reason or ticket too long"
    field_name = "reason"
    default_message = "The reason or ticket is too long."

    def __init__(self, field: str = "reason", limit: int = 1000):
        super().__init__(f"At most {limit} characters.", field=field)


@register
class SecureAccountNotFound(AccountSecureRefused, AccountNotFound):
    """Securing names its account by UID within the tenant; any other is "not found"."""

    code = "account_secure.account_not_found"
    default_message = "No account with this UID."


# Guided recovery ---------------------------------------------------------------------------


@register
class RecoveryCaseNotFound(DomainError):
    code = "recovery.not_found"
    kind = Kind.NOT_FOUND
    title = "Recovery case not found"
    default_message = "There is no such recovery case."


@register
class RecoveryCaseNotOpen(DomainError):
    code = "recovery.not_open"
    kind = Kind.CONFLICT
    title = "Recovery case closed"
    default_message = "This recovery case is no longer open."


@register
class RecoveryChecksMissing(DomainError):
    code = "recovery.checks_missing"
    kind = Kind.CONFLICT
    title = "Identity checks not passed"
    default_message = "Every identity check the tenant asks for must pass first."


@register
class RecoveryCheckUnknown(FieldRefused):
    code = "recovery.check_unknown"
    title = "No such check"
    field_name = "check"
    default_message = "This check is not one the tenant asks for."


@register
class RecoveryChannelUnavailable(FieldRefused):
    code = "recovery.channel_unavailable"
    kind = Kind.CONFLICT
    title = "No verified address on this channel"
    field_name = "channel"
    default_message = "The account has no verified address on this channel."


@register
class RecoveryAttemptsSpent(DomainError):
    code = "recovery.attempts_spent"
    kind = Kind.CONFLICT
    title = "Too many wrong tries"
    default_message = "Too many wrong tries: this check cannot pass in this case."


@register
class RecoveryCancelRefused(DomainError):
    """An unknown, used or late cancel link: all answer the same."""

    code = "recovery.cancel_refused"
    kind = Kind.CONFLICT
    title = "Cannot cancel"
    default_message = (
        "This link cannot cancel anything: it was used, the change already ran, or it is wrong."
    )


@register
class RecoveryOpenerNotAllowed(DomainError):
    code = "recovery.opener_not_allowed"
    kind = Kind.FORBIDDEN
    title = "The agent may no longer make this change"
    default_message = "Whoever opened this recovery case may no longer make its change."

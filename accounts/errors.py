"""What the account services refuse, in the project's own terms (see portal/errors.py).

accounts/api/lr_errors.py gives each its LoginRadius answer; imported from
AccountsConfig.ready() so the registry is complete at startup.
"""

from datetime import datetime

from portal.errors import DomainError, FieldError, InvalidInput, Kind, register

# Values that are not acceptable ---------------------------------------------------------


@register
class EmailInvalid(DomainError):
    code = "account.email_invalid"
    title = "Email address not valid"
    default_message = "The email address is not valid."


@register
class PhoneInvalid(DomainError):
    code = "account.phone_invalid"
    title = "Phone number not valid"
    default_message = "The phone number is not a possible number in E.164 form."


@register
class UidInvalid(DomainError):
    code = "account.uid_invalid"
    title = "UID not valid"
    default_message = "A UID may only contain letters, digits, '_' and '-', 1 to 50 characters."


@register
class BirthDateInvalid(DomainError):
    code = "account.birth_date_invalid"
    title = "Birth date not valid"
    default_message = "The birth date must be a date written MM-dd-yyyy."


@register
class EmailTypeRequired(DomainError):
    code = "account.email_type_required"
    title = "Email type missing"
    default_message = "Every email address needs a Type."


@register
class EmailsNotDistinct(DomainError):
    code = "account.emails_not_distinct"
    title = "Email address given twice"
    default_message = "The same email address appears more than once."


@register
class PrimaryEmailNotUnique(DomainError):
    code = "account.primary_email_not_unique"
    title = "More than one primary email"
    default_message = "Only one email address may have the Type Primary."


@register
class AddressTypeRequired(DomainError):
    code = "account.address_type_required"
    title = "Address type missing"
    default_message = "Every address needs a Type."


@register
class AddressTypesNotDistinct(DomainError):
    code = "account.address_types_not_distinct"
    title = "Address type given twice"
    default_message = "Each address must have a different Type."


@register
class PasswordInvalid(InvalidInput):
    """Missing, or longer than any password is hashed; each reason is a field error on
    Password. The tenant's policy refuses with PasswordPolicyRefused."""

    code = "account.password_invalid"
    title = "Password not acceptable"
    default_message = "The password is not acceptable."

    def __init__(self, *reasons: str):
        super().__init__(field_errors=[FieldError("Password", reason) for reason in reasons])


@register
class PasswordPolicyRefused(PasswordInvalid):
    """A new password the tenant's password policy (accounts/password_policy.py) does not
    accept. `failures` are (rule, sentence) pairs, one per rule failed; the sentences are
    the message, and each is a field error on Password whose code names its rule."""

    code = "account.password_policy_refused"
    title = "Password refused by the password policy"
    default_message = "The password does not meet the password policy."

    def __init__(self, failures: list[tuple[str, str]] | tuple[tuple[str, str], ...] = ()):
        self.rules = tuple(rule for rule, _ in failures)
        sentences = [sentence for _, sentence in failures]
        InvalidInput.__init__(
            self,
            " ".join(sentences) or None,
            field_errors=[FieldError("Password", s, rule) for rule, s in failures],
        )


@register
class OldPasswordWrong(DomainError):
    """A password change whose old password is not the account's."""

    code = "account.old_password_wrong"
    kind = Kind.FORBIDDEN
    title = "Old password is wrong"
    default_message = "The old password is not the account's password."


# Identifiers already in use -------------------------------------------------------------


@register
class EmailTaken(DomainError):
    code = "account.email_taken"
    kind = Kind.CONFLICT
    title = "Email address already in use"
    default_message = "The email address is already used by another account."


@register
class UsernameTaken(DomainError):
    code = "account.username_taken"
    kind = Kind.CONFLICT
    title = "Username already in use"
    default_message = "The username is already used by another account."


@register
class PhoneTaken(DomainError):
    code = "account.phone_taken"
    kind = Kind.CONFLICT
    title = "Phone number already in use"
    default_message = "The phone number is already used by another account."


@register
class UidTaken(DomainError):
    code = "account.uid_taken"
    kind = Kind.CONFLICT
    title = "UID already in use"
    default_message = "The UID is already used by another account."


IDENTITY_TAKEN = "This provider identity is already linked to another account."


@register
class IdentityTaken(DomainError):
    code = "account.identity_taken"
    kind = Kind.CONFLICT
    title = "Provider identity already linked"
    default_message = IDENTITY_TAKEN

    def __init__(self) -> None:
        super().__init__(field_errors=[FieldError("ProviderId", IDENTITY_TAKEN)])


# The account's state does not allow it ------------------------------------------------


@register
class LastEmail(DomainError):
    code = "account.last_email"
    kind = Kind.CONFLICT
    title = "Last email address"
    default_message = "The account must keep at least one email address."


@register
class EmailNotInProfile(DomainError):
    code = "account.email_not_in_profile"
    kind = Kind.NOT_FOUND
    title = "Email address not on the account"
    default_message = "The account has no such email address."


@register
class NoEmailToUnverify(DomainError):
    code = "account.no_email_to_unverify"
    kind = Kind.CONFLICT
    title = "No email address to unverify"
    default_message = "The account has no email address to mark unverified."


@register
class EmailAlreadyUnverified(DomainError):
    code = "account.email_already_unverified"
    kind = Kind.CONFLICT
    title = "Email already unverified"
    default_message = "The email address of this account is already unverified."


@register
class NoPhone(DomainError):
    code = "account.no_phone"
    kind = Kind.CONFLICT
    title = "No phone number"
    default_message = "The account has no phone number."


@register
class PhoneAlreadyUnverified(DomainError):
    code = "account.phone_already_unverified"
    kind = Kind.CONFLICT
    title = "Phone already unverified"
    default_message = "The phone number of this account is already unverified."


@register
class EmailRecoveryHeld(DomainError):
    """An address added recently may not receive a forgot-password token until `until`."""

    code = "account.email_recovery_held"
    kind = Kind.CONFLICT
    title = "Email address added too recently"
    default_message = "This email address was added to the account recently and cannot be used to reset the password yet."

    def __init__(self, until: datetime | None = None):
        self.until = until
        text = (
            "This email address was added to the account recently and cannot be used to "
            f"reset the password before {until:%Y-%m-%d %H:%M} UTC."
            if until is not None
            else self.default_message
        )
        super().__init__(field_errors=[FieldError("Email", text)])


@register
class IdentityNotLinked(DomainError):
    code = "account.identity_not_linked"
    kind = Kind.NOT_FOUND
    title = "Provider identity not linked"
    default_message = "This provider identity is not linked to the account."


LAST_SIGN_IN_METHOD = "This identity is the account's last way to sign in; set a password or link another identity first."


@register
class LastSignInMethod(DomainError):
    code = "account.last_sign_in_method"
    kind = Kind.CONFLICT
    title = "Last way to sign in"
    default_message = LAST_SIGN_IN_METHOD

    def __init__(self) -> None:
        super().__init__(field_errors=[FieldError("provider", LAST_SIGN_IN_METHOD)])


# The caller's view of the account is out of date ----------------------------------------


@register
class AccountVersionStale(DomainError):
    """The command was built against a version of the account (`expected_version`) that is
    no longer the stored one; `current_version` is (accounts.selectors.account_version)."""

    code = "account.version_stale"
    kind = Kind.PRECONDITION
    title = "Account changed since it was read"
    default_message = "The account changed since it was read; read it again and retry."

    def __init__(self, current_version: str = ""):
        self.current_version = current_version
        super().__init__()

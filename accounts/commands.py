"""The typed commands of the account services (portal/commands.py): what a front door builds
from its own input and hands to the service.

A profile change names its fields by the profile's own vocabulary (accounts/profile_fields/:
`FirstName`, `PhoneId`, `Addresses`, ...) and says explicitly what to set and what to clear,
so a LoginRadius body (accounts/api/profile_body.py), a console form or a JSON merge patch
all build the same command. The services check every value (lengths, formats, what a field
may hold) whoever built it.

Every command may carry `expected_version`, the account version it was built against
(`accounts.selectors.account_version`); the service refuses it (AccountVersionStale) when
the account has changed since.
"""

from dataclasses import dataclass, field
from typing import Any

from portal.commands import Command, command, secret

EXAMPLE_VERSION = "2026-05-01T12:00:00.123456+00:00"


@dataclass(frozen=True)
class EmailAddress:
    """An address with its Type (Primary, Secondary or another label)."""

    type: str
    value: str


@dataclass(frozen=True)
class EmailEdit:
    """One step of a change to the account's addresses, applied in order: the address of
    `type` becomes `value` (a new Type is added), or, with `remove`, the address `value` goes."""

    value: str
    type: str = ""
    remove: bool = False


@dataclass(frozen=True)
class ListEdit:
    """One step of a change to a list field of the profile (Addresses, PhoneNumbers, ...),
    applied in order: `item` replaces the stored item with the same key (see
    profile_fields.PROFILE_ARRAYS) or is appended; with `remove`, every stored item that
    matches all of `item`'s keys goes."""

    item: Any
    remove: bool = False


@dataclass(frozen=True)
class Consent:
    consent_id: str
    accepted: bool = True


@dataclass(frozen=True)
class ConsentEvent:
    event: str
    version: str = "1"
    is_custom: bool = False


@dataclass(frozen=True)
class ConsentChanges:
    """Consents given or revoked, with the consent-form events they came from (kept in the
    account's consent history)."""

    consents: tuple[Consent, ...] = ()
    events: tuple[ConsentEvent, ...] = ()


@dataclass(frozen=True)
class PinChange:
    """A new PIN (None: keep the stored one) and whether the person skipped setting one."""

    pin: str | None = secret(default=None)
    skipped: bool = False


@dataclass(frozen=True)
class ProfileWrite(Command):
    """What a create and an update of the profile share.

    `values`: field name -> the value to set (names, username, phone id, profile strings and
    flags, EmailVerified, PhoneIdVerified, IsActive, IsEmailSubscribed, Country,
    SessionLimit, RegistrationSource; a whole list field, replacing the stored one). `emails`: the address edits, in order.
    `lists`: the edits of list fields, merged into the stored items. `custom_fields`: custom
    fields to set, by key. `privacy_policy_version`: the version the person accepted now.
    """

    values: dict[str, Any] = field(default_factory=dict)
    emails: tuple[EmailEdit, ...] = ()
    lists: dict[str, tuple[ListEdit, ...]] = field(default_factory=dict)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    privacy_policy_version: str | None = None
    consents: ConsentChanges | None = None
    pin: PinChange | None = None
    reason: str = ""
    ticket: str = ""


@command("account.create")
@dataclass(frozen=True)
class AccountCreate(ProfileWrite):
    """A new account (accounts.services.account_create), vouched for by a back end: no
    verification flow. Needs an email, a phone id or a username. `uid`: a custom UID (None:
    a new one); `registration_provider`: where the account came from."""

    uid: str | None = None
    password: str | None = secret(default=None)
    registration_provider: str | None = None

    @classmethod
    def example(cls) -> "AccountCreate":
        return cls(
            uid="ann-01",
            password="Long-enough-passw0rd",
            registration_provider="Email",
            values={"FirstName": "Ann", "UserName": "ann", "EmailVerified": True},
            emails=(EmailEdit(type="Primary", value="ann@example.com"),),
            lists={"Addresses": (ListEdit(item={"Type": "home", "City": "Lyon"}),)},
            custom_fields={"plan": "gold", "seats": 3},
            privacy_policy_version="2.0",
            consents=ConsentChanges(
                consents=(Consent(consent_id="newsletter"),),
                events=(ConsentEvent(event="Register"),),
            ),
            pin=PinChange(pin="482913"),
            reason="migrated from the shop",
        )


@command("account.changes")
@dataclass(frozen=True)
class AccountChanges(ProfileWrite):
    """A partial update of the account (accounts.services.account_update): set `values`,
    clear the fields named in `cleared` (a list field, the custom fields or a name: emptied),
    remove the custom fields named in `custom_fields_removed`. `IsActive: false` blocks the
    account (its sessions end). A sign-in lock is not part of it: security sets locks."""

    cleared: tuple[str, ...] = ()
    custom_fields_removed: tuple[str, ...] = ()
    expected_version: str | None = None

    @classmethod
    def example(cls) -> "AccountChanges":
        return cls(
            values={"FirstName": "Anna", "PhoneId": "+14155550100", "IsEmailSubscribed": False},
            cleared=("MiddleName", "Addresses"),
            emails=(
                EmailEdit(type="Secondary", value="anna@example.org"),
                EmailEdit(value="old@example.org", remove=True),
            ),
            lists={"PhoneNumbers": (ListEdit(item={"PhoneType": "work"}, remove=True),)},
            custom_fields={"plan": "silver"},
            custom_fields_removed=("seats",),
            pin=PinChange(skipped=True),
            reason="legal name change",
            ticket="SUP-12",
            expected_version=EXAMPLE_VERSION,
        )


@dataclass(frozen=True)
class AccountCommand(Command):
    """What every other account command carries: why, and the version it was built against."""

    reason: str = ""
    ticket: str = ""
    expected_version: str | None = None


@command("account.uid_change")
@dataclass(frozen=True)
class UidChange(AccountCommand):
    """Give the account another UID (accounts.services.account_uid_update)."""

    new_uid: str = ""

    @classmethod
    def example(cls) -> "UidChange":
        return cls(new_uid="ann-02", reason="merge of two records")


@command("account_email.upsert")
@dataclass(frozen=True)
class EmailUpsert(AccountCommand):
    """Add or change addresses by Type (accounts.services.account_email_upsert): an existing
    Type gets the new address (unverified), a new Type is added."""

    emails: tuple[EmailAddress, ...] = ()

    @classmethod
    def example(cls) -> "EmailUpsert":
        return cls(emails=(EmailAddress(type="Secondary", value="ann@example.net"),), ticket="T-1")


@command("account_email.remove")
@dataclass(frozen=True)
class EmailRemove(AccountCommand):
    """Remove one address (accounts.services.account_email_remove); never the last one."""

    email: str = ""

    @classmethod
    def example(cls) -> "EmailRemove":
        return cls(email="old@example.org", reason="bounces")


@command("account_email.make_primary")
@dataclass(frozen=True)
class EmailMakePrimary(AccountCommand):
    """Make one of the account's addresses its Primary (account_email_make_primary)."""

    email: str = ""

    @classmethod
    def example(cls) -> "EmailMakePrimary":
        return cls(email="ann@example.net", expected_version=EXAMPLE_VERSION)


@command("account_email.verification_invalidate")
@dataclass(frozen=True)
class EmailVerificationInvalidate(AccountCommand):
    """Mark the account's addresses unverified (account_email_verification_invalidate); the
    front door sends a new verification message."""

    @classmethod
    def example(cls) -> "EmailVerificationInvalidate":
        return cls(reason="address changed hands")


@command("account_email.mark_verified")
@dataclass(frozen=True)
class EmailMarkVerified(AccountCommand):
    """The owner proved `email` (verification link, OTP), or a back end vouches for it: the
    address and the account are verified (accounts.services.account_email_mark_verified)."""

    email: str = ""

    @classmethod
    def example(cls) -> "EmailMarkVerified":
        return cls(
            email="ann@example.net",
            reason="verified by link",
            ticket="SUP-31",
            expected_version=EXAMPLE_VERSION,
        )


@command("account_phone.set")
@dataclass(frozen=True)
class PhoneSet(AccountCommand):
    """Replace the phone id without an OTP (accounts.services.account_phone_update): a back
    end vouches for it. Clearing it is an AccountChanges that clears PhoneId."""

    phone: str = ""

    @classmethod
    def example(cls) -> "PhoneSet":
        return cls(phone="+14155550100", reason="new number")


@command("account_phone.mark_verified")
@dataclass(frozen=True)
class PhoneMarkVerified(AccountCommand):
    """The owner proved the phone id (OTP), or a back end vouches for it: it is verified
    (accounts.services.account_phone_mark_verified)."""

    @classmethod
    def example(cls) -> "PhoneMarkVerified":
        return cls(reason="verified by OTP", ticket="SUP-32", expected_version=EXAMPLE_VERSION)


@command("account_phone.verification_invalidate")
@dataclass(frozen=True)
class PhoneVerificationInvalidate(AccountCommand):
    """Mark the phone id unverified (account_phone_verification_invalidate); the front door
    sends a new OTP."""

    @classmethod
    def example(cls) -> "PhoneVerificationInvalidate":
        return cls(ticket="SUP-3")


@command("account_password.set")
@dataclass(frozen=True)
class PasswordSet(AccountCommand):
    """Set a new password (accounts.services.account_password_set): by an administrator, or
    by the person through a reset token or OTP."""

    password: str = secret(default="")

    @classmethod
    def example(cls) -> "PasswordSet":
        return cls(password="Another-passw0rd!", reason="reset by support")


@command("account_password.change")
@dataclass(frozen=True)
class PasswordChange(AccountCommand):
    """Replace the password given the current one (accounts.services.self_service
    .account_password_change): the person proves the change with the old password."""

    old_password: str = secret(default="")
    new_password: str = secret(default="")

    @classmethod
    def example(cls) -> "PasswordChange":
        return cls(old_password="Old-passw0rd!", new_password="New-passw0rd!")


@command("account_password.change_require")
@dataclass(frozen=True)
class PasswordChangeRequire(AccountCommand):
    """Refuse password sign-in until a new password is set, for an account whose password
    is known to someone else (accounts.services.account_password_change_require)."""

    @classmethod
    def example(cls) -> "PasswordChangeRequire":
        return cls(
            reason="password seen in a breach list",
            ticket="SUP-33",
            expected_version=EXAMPLE_VERSION,
        )


@command("account_identity.link")
@dataclass(frozen=True)
class IdentityLink(AccountCommand):
    """Link a provider identity to the account, or refresh its profile if it already is
    (accounts.services.account_identity_link). `profile` is the provider's profile."""

    provider: str = ""
    provider_id: str = ""
    profile: dict[str, Any] | None = None
    emails: tuple[EmailAddress, ...] = ()

    @classmethod
    def example(cls) -> "IdentityLink":
        return cls(
            provider="google",
            provider_id="1093",
            profile={"Name": "Ann", "Locale": ["fr", "en"]},
            emails=(EmailAddress(type="Primary", value="ann@gmail.example"),),
        )


@command("account_identity.unlink")
@dataclass(frozen=True)
class IdentityUnlink(AccountCommand):
    """Unlink a provider identity (accounts.services.account_identity_unlink), unless it is
    the account's last way to sign in."""

    provider: str = ""
    provider_id: str = ""

    @classmethod
    def example(cls) -> "IdentityUnlink":
        return cls(provider="google", provider_id="1093", reason="asked by the owner")


@command("account.block")
@dataclass(frozen=True)
class AccountBlock(AccountCommand):
    """Stop every sign-in: the account is inactive and its sessions end now."""

    @classmethod
    def example(cls) -> "AccountBlock":
        return cls(reason="chargeback fraud", ticket="RISK-9")


@command("account.unblock")
@dataclass(frozen=True)
class AccountUnblock(AccountCommand):
    """Let a blocked account sign in again."""

    @classmethod
    def example(cls) -> "AccountUnblock":
        return cls(reason="dispute settled", expected_version=EXAMPLE_VERSION)


@command("account.delete")
@dataclass(frozen=True)
class AccountDelete(AccountCommand):
    """Delete the account and everything hanging on it (accounts.services.account_delete)."""

    @classmethod
    def example(cls) -> "AccountDelete":
        return cls(reason="erasure request", ticket="GDPR-4")


@command("accounts.delete_by_email")
@dataclass(frozen=True)
class AccountsDeleteByEmail(Command):
    """Delete every account that uses `email` (accounts.services.accounts_delete_by_email)."""

    email: str = ""
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "AccountsDeleteByEmail":
        return cls(email="ann@example.com", reason="erasure request")

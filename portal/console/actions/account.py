"""Actions on the account record itself: block, unblock, unlock, its profile, emails, phone and
linked identities, the messages sent to its addresses, and deleting it."""

from django import forms
from django.db import transaction

from accounts import services as account_services
from accounts.commands import (
    AccountBlock,
    AccountChanges,
    AccountDelete,
    AccountUnblock,
    EmailAddress,
    EmailMakePrimary,
    EmailRemove,
    EmailUpsert,
    IdentityUnlink,
    PhoneSet,
)
from accounts.selectors import account_version
from portal.console import display
from portal.console.actions.base import (
    AccountAction,
    ActionForm,
    Ctx,
    on_account,
    reason_and_ticket,
    run_command,
    run_or_hold,
)
from security import selectors as security_selectors
from security import services as security_services
from security.commands import AccountUnlock
from tokens.commands import TokenIssue, VerificationEmailSend
from tokens.models import MultipurposeToken
from tokens.services import multipurpose


class ProfileForm(ActionForm):
    FIELDS = (
        ("first_name", "FirstName", "First name"),
        ("middle_name", "MiddleName", "Middle name"),
        ("last_name", "LastName", "Last name"),
        ("username", "UserName", "Username"),
    )

    def setup(self):
        for attr, _key, label in self.FIELDS:
            self.fields[attr] = forms.CharField(
                label=label,
                required=False,
                max_length=255,
                # A masked reader starts from the masked value; leaving it keeps the name.
                initial=display.name_shown(getattr(self.account, attr))
                if getattr(self.account, attr)
                else "",
            )
        # The version the form was read at: a save over someone else's newer change is
        # refused (AccountVersionStale) rather than silently undoing it.
        self.fields["version"] = forms.CharField(
            required=False, widget=forms.HiddenInput, initial=account_version(self.account)
        )

    def clean(self):
        data = super().clean()
        if not self.errors and not self.changes():
            raise forms.ValidationError("Nothing changed: edit at least one field.")
        return data

    def changes(self) -> dict:
        """The profile fields that differ from the account: the new value, or None to clear."""
        out = {}
        for attr, key, _label in self.FIELDS:
            new = (self.cleaned_data.get(attr) or "").strip()
            current = getattr(self.account, attr) or ""
            if current and new == display.name_shown(current):
                continue  # left as shown (masked or not): unchanged
            if new != current:
                out[key] = new or None
        return out

    def run_data(self) -> dict:
        return {**super().run_data(), "changes": self.changes()}


class EmailAddForm(ActionForm):
    def setup(self):
        self.fields["email"] = forms.EmailField(label="Email address", max_length=254)
        self.fields["type"] = forms.CharField(
            label="Type",
            max_length=40,
            initial="Secondary",
            help_text="Primary, Secondary or another label.",
        )

    def clean_type(self):
        value = self.cleaned_data["type"].strip()
        if any(e.type.lower() == value.lower() for e in self.account.emails.all()):
            raise forms.ValidationError(
                f"This account already has a {value} email: remove it first, or choose another type."
            )
        return value


def _email_choices(account):
    # Keyed by the row, not the address: a masked reader's page never carries the value.
    return [(str(e.pk), f"{display.email_shown(e.value)} ({e.type})") for e in account.emails.all()]


def _email_key(account, chosen) -> str | None:
    """The row key of an address named by its key or by its value (older links, scripts)."""
    text = str(chosen or "")
    for e in account.emails.all():
        if text in (str(e.pk), e.value) or text.lower() == e.value.lower():
            return str(e.pk)
    return None


class EmailChoiceForm(ActionForm):
    def __init__(self, data=None, *args, account, initial=None, **kwargs):
        if data is not None and data.get("email"):
            key = _email_key(account, data.get("email"))
            if key is not None:
                data = data.copy()
                data["email"] = key
        if initial and initial.get("email"):
            initial = {**initial, "email": _email_key(account, initial["email"]) or ""}
        super().__init__(data, *args, account=account, initial=initial, **kwargs)

    def setup(self):
        self.fields["email"] = forms.ChoiceField(
            label="Email address", choices=_email_choices(self.account)
        )

    def clean_email(self) -> str:
        """The address itself, for the service."""
        key = self.cleaned_data["email"]
        return next(e.value for e in self.account.emails.all() if str(e.pk) == key)


class PhoneForm(ActionForm):
    def setup(self):
        self.fields["phone"] = forms.CharField(
            label="New phone number",
            max_length=32,
            initial=self.account.phone_id
            if self.account.phone_id and display.current_masking().shows(self.account.phone_id)
            else "",
            help_text="International format, e.g. +14155550100. It will need verifying again.",
        )


class IdentityForm(ActionForm):
    def setup(self):
        self.fields["identity"] = forms.ChoiceField(
            label="Linked identity",
            choices=[
                (f"{i.provider}:{i.provider_id}", f"{i.provider} · {i.provider_id}")
                for i in self.account.identities.all()
            ],
        )


class DeleteForm(ActionForm):
    def setup(self):
        self.fields["confirm_uid"] = forms.CharField(
            label="Type the account's UID to confirm",
            max_length=255,
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        )

    def clean_confirm_uid(self):
        value = self.cleaned_data["confirm_uid"].strip()
        if value != self.account.uid:
            raise forms.ValidationError("That is not this account's UID: nothing was deleted.")
        return value


def run_profile(ctx: Ctx):
    changes = ctx.data["changes"]
    command = AccountChanges(
        values={name: value for name, value in changes.items() if value is not None},
        cleared=tuple(name for name, value in changes.items() if value is None),
        expected_version=ctx.data.get("version") or None,
        **reason_and_ticket(ctx),
    )
    run_or_hold(ctx, account_services.account_update, command)


def run_email_add(ctx: Ctx):
    added = EmailAddress(type=ctx.data["type"], value=ctx.data["email"])
    command = EmailUpsert(emails=(added,), **reason_and_ticket(ctx))
    run_or_hold(ctx, account_services.account_email_upsert, command)


def run_email_remove(ctx: Ctx):
    command = EmailRemove(email=ctx.data["email"], **reason_and_ticket(ctx))
    account_services.account_email_remove(command, **on_account(ctx))


def run_email_make_primary(ctx: Ctx):
    command = EmailMakePrimary(email=ctx.data["email"], **reason_and_ticket(ctx))
    run_or_hold(ctx, account_services.account_email_make_primary, command)


def run_phone(ctx: Ctx):
    command = PhoneSet(phone=ctx.data["phone"], **reason_and_ticket(ctx))
    run_or_hold(ctx, account_services.account_phone_update, command)


def run_unlink(ctx: Ctx):
    provider, _, provider_id = ctx.data["identity"].partition(":")
    command = IdentityUnlink(provider=provider, provider_id=provider_id, **reason_and_ticket(ctx))
    account_services.account_identity_unlink(command, **on_account(ctx))


def run_verification(ctx: Ctx):
    with transaction.atomic():
        command = VerificationEmailSend(email=ctx.data["email"], **reason_and_ticket(ctx))
        multipurpose.verification_email_send(command, **on_account(ctx))


def run_password_reset(ctx: Ctx):
    with transaction.atomic():
        command = TokenIssue(
            kind=MultipurposeToken.KIND_EMAIL,
            purpose="forgotpassword",
            destination=ctx.data["email"],
            send=True,
            reason=ctx.reason,
            ticket=ctx.ticket,
        )
        multipurpose.token_issue(command, tenant=ctx.tenant, account=ctx.account, actor=ctx.actor)


ACTIONS = [
    AccountAction(
        "block",
        "Block account",
        "Block account",
        "The account will no longer be able to sign in or use its tokens until it is unblocked.",
        "Account blocked.",
        "account.block",
        run_command(account_services.account_block, AccountBlock),
        ActionForm,
        danger=True,
        applies=lambda a: a.is_active,
        not_applicable="This account is already blocked.",
    ),
    AccountAction(
        "unblock",
        "Unblock account",
        "Unblock account",
        "The account will be able to sign in again.",
        "Account unblocked.",
        "account.unblock",
        run_command(account_services.account_unblock, AccountUnblock),
        ActionForm,
        applies=lambda a: not a.is_active,
        not_applicable="This account is not blocked.",
    ),
    AccountAction(
        "unlock",
        "Unlock account",
        "Unlock account",
        "Clears the sign-in lockout and the failed-attempt counter so the person can try again.",
        "Account unlocked.",
        "account.unlock",
        run_command(security_services.account_unlock, AccountUnlock),
        ActionForm,
        applies=lambda a: security_selectors.account_lockout(account=a) is not None,
        not_applicable="This account is not locked.",
    ),
    AccountAction(
        "edit_profile",
        "Edit profile",
        "Save profile",
        "Change the names and username of the account.",
        "Profile saved.",
        "account.edit",
        run_profile,
        ProfileForm,
        place="profile",
    ),
    AccountAction(
        "email_add",
        "Add email",
        "Add email",
        "Adds an unverified address to the account.",
        "Email added.",
        "account.edit",
        run_email_add,
        EmailAddForm,
        place="emails",
    ),
    AccountAction(
        "email_remove",
        "Remove email",
        "Remove email",
        "The address stops being a way to sign in or recover this account.",
        "Email removed.",
        "account.edit",
        run_email_remove,
        EmailChoiceForm,
        danger=True,
        place="email",
        target=("email",),
        applies=lambda a: len(a.emails.all()) > 1,
        not_applicable="The last email of an account cannot be removed.",
    ),
    AccountAction(
        "email_make_primary",
        "Make primary",
        "Make primary",
        "The address becomes the account's primary email.",
        "Primary email changed.",
        "account.edit",
        run_email_make_primary,
        EmailChoiceForm,
        place="email",
        target=("email",),
    ),
    AccountAction(
        "phone_change",
        "Change phone",
        "Change phone",
        "Replaces the phone number; the new one is unverified until the person confirms it.",
        "Phone changed.",
        "account.edit",
        run_phone,
        PhoneForm,
        place="phone",
    ),
    AccountAction(
        "identity_unlink",
        "Unlink",
        "Unlink identity",
        "The provider identity no longer signs in to this account.",
        "Identity unlinked.",
        "account.edit",
        run_unlink,
        IdentityForm,
        danger=True,
        place="identity",
        target=("identity",),
    ),
    AccountAction(
        "send_verification",
        "Send verification email",
        "Send verification email",
        "Emails a new verification link to the address; older links stop working.",
        "Verification email queued.",
        "account.message",
        run_verification,
        EmailChoiceForm,
        place="email",
        target=("email",),
    ),
    AccountAction(
        "send_password_reset",
        "Send password reset",
        "Send password reset email",
        "Emails a password-reset link to the address; older reset links stop working.",
        "Password reset email queued.",
        "account.message",
        run_password_reset,
        EmailChoiceForm,
        place="emails",
        target=("email",),
    ),
    AccountAction(
        "delete",
        "Delete account",
        "Delete account permanently",
        "Deletes the account and everything attached to it: sessions, factors, roles, records. "
        "This cannot be undone.",
        "Account deleted.",
        "account.delete",
        run_command(account_services.account_delete, AccountDelete),
        DeleteForm,
        danger=True,
        place="danger",
        after_url="search",
    ),
]

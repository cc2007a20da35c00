"""Actions staff take from the account page. Each names the console permission it needs, the
form it asks (always a reason, optionally a ticket), and the section service it runs.

Services are looked up when the action runs, so an action whose service is not installed is
simply not offered (`available`)."""

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal.console import selectors
from portal.console.forms import ReasonForm
from portal.lrapi.errors import LRError

# Impersonation tokens live this long (or less, if the tenant's access tokens are shorter).
IMPERSONATION_MINUTES = 15


def service(path: str) -> Callable | None:
    """`module:function` of a section service, or None while it does not exist."""
    module_name, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        return None


def error_text(error: LRError) -> str:
    """What the section said, as one sentence a person can act on."""
    details = [e.get("ErrorMessage", "") for e in (error.errors or []) if isinstance(e, dict)]
    text = error.description or error.message or "The request was refused."
    return " ".join([text, *[d for d in details if d]])


@dataclass
class Secret:
    """Something shown once, on a page that is never cached (tokens, backup codes)."""

    title: str
    explain: str
    values: list[tuple[str, str]]


@dataclass
class Ctx:
    tenant: Any
    account: Account
    actor: Any
    data: dict
    reason: str
    ticket: str


@dataclass
class AccountAction:
    name: str
    title: str
    button: str
    explain: str
    done: str
    permission: str
    run: Callable[[Ctx], Any]
    form: type[forms.Form] = None  # type: ignore[assignment]
    danger: bool = False
    applies: Callable[[Account], bool] = lambda a: True
    not_applicable: str = ""
    requires: tuple[str, ...] = ()
    # Where the account page offers it: "header" (the action bar) or a section name.
    place: str = "header"
    # Query parameters that pick the target (an email, a session, a record...).
    target: tuple[str, ...] = field(default_factory=tuple)
    after_url: str = "detail"

    def available(self) -> bool:
        return all(service(path) is not None for path in self.requires)


# Forms ------------------------------------------------------------------------------------


class ActionForm(ReasonForm):
    """The reason form, knowing the account it acts on (for choices and checks)."""

    field_order = None

    def __init__(self, *args, account: Account, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.tenant = tenant
        self.setup()
        # Reason and ticket come last, after what the action needs.
        order = [n for n in self.fields if n not in ("reason", "ticket", "confirmed")]
        self.order_fields([*order, "reason", "ticket", "confirmed"])

    def setup(self) -> None:
        pass

    def summary(self) -> list[tuple[str, str]]:
        """What the confirmation repeats back: every field but reason, ticket and confirmed."""
        rows = []
        for name, f in self.fields.items():
            if name in ("reason", "ticket", "confirmed"):
                continue
            value = self.cleaned_data.get(name)
            if isinstance(f, forms.ChoiceField) and not isinstance(f, forms.MultipleChoiceField):
                value = dict(f.choices).get(value, value)
            elif isinstance(value, list | tuple):
                value = ", ".join(str(v) for v in value) or "—"
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            rows.append((str(f.label), "—" if value in (None, "") else str(value)))
        return rows


class ProfileForm(ActionForm):
    FIELDS = (("first_name", "FirstName", "First name"), ("middle_name", "MiddleName", "Middle name"),
              ("last_name", "LastName", "Last name"), ("username", "UserName", "Username"))

    def setup(self):
        for attr, _key, label in self.FIELDS:
            self.fields[attr] = forms.CharField(label=label, required=False, max_length=255,
                                                initial=getattr(self.account, attr) or "")

    def clean(self):
        data = super().clean()
        if not self.errors and not self.changes():
            raise forms.ValidationError("Nothing changed: edit at least one field.")
        return data

    def changes(self) -> dict:
        """The profile keys that differ from the account, cleared ones as null."""
        out = {}
        for attr, key, _label in self.FIELDS:
            new = (self.cleaned_data.get(attr) or "").strip()
            if new != (getattr(self.account, attr) or ""):
                out[key] = new or None
        return out


class EmailAddForm(ActionForm):
    def setup(self):
        self.fields["email"] = forms.EmailField(label="Email address", max_length=254)
        self.fields["type"] = forms.CharField(label="Type", max_length=40, initial="Secondary",
                                              help_text="Primary, Secondary or another label.")

    def clean_type(self):
        value = self.cleaned_data["type"].strip()
        if any(e.type.lower() == value.lower() for e in self.account.emails.all()):
            raise forms.ValidationError(
                f"This account already has a {value} email: remove it first, or choose another type."
            )
        return value


def _email_choices(account):
    return [(e.value, f"{e.value} ({e.type})") for e in account.emails.all()]


class EmailChoiceForm(ActionForm):
    def setup(self):
        self.fields["email"] = forms.ChoiceField(label="Email address", choices=_email_choices(self.account))


class PhoneForm(ActionForm):
    def setup(self):
        self.fields["phone"] = forms.CharField(
            label="New phone number", max_length=32, initial=self.account.phone_id or "",
            help_text="International format, e.g. +14155550100. It will need verifying again.",
        )


class IdentityForm(ActionForm):
    def setup(self):
        self.fields["identity"] = forms.ChoiceField(
            label="Linked identity",
            choices=[(f"{i.provider}:{i.provider_id}", f"{i.provider} · {i.provider_id}")
                     for i in self.account.identities.all()],
        )


class SessionForm(ActionForm):
    def setup(self):
        self.fields["session"] = forms.TypedChoiceField(
            label="Session", coerce=int,
            choices=[(s.pk, s.label) for s in selectors.account_sessions(account=self.account)],
        )


FACTOR_LABELS = {
    "totp": "Authenticator app (TOTP)", "sms": "SMS one-time codes", "email": "Email one-time codes",
    "securityquestion": "Security questions", "passkey": "Passkeys (all)", "push": "Push devices",
    "duo": "Duo enrolment",
}


class FactorForm(ActionForm):
    def setup(self):
        state = selectors.account_mfa(account=self.account)["factors"]
        self.fields["factor"] = forms.ChoiceField(
            label="Factor to reset",
            choices=[(name, FACTOR_LABELS.get(name, name)) for name, on in state.items() if on],
        )


class PasskeyForm(ActionForm):
    def setup(self):
        self.fields["passkey"] = forms.ChoiceField(
            label="Passkey",
            choices=[(p["id"], p["label"]) for p in selectors.account_mfa(account=self.account)["passkeys"]],
        )


class RolesForm(ActionForm):
    held_only = False

    def setup(self):
        held = set(selectors.account_roles(account=self.account))
        names = [r.name for r in selectors.roles_of(tenant=self.tenant)]
        choices = [(n, n) for n in names if (n in held) == self.held_only]
        self.fields["roles"] = forms.MultipleChoiceField(
            label="Roles", choices=choices, widget=forms.CheckboxSelectMultiple,
        )


class RolesUnassignForm(RolesForm):
    held_only = True


def _split(text: str) -> list[str]:
    return [p.strip() for p in (text or "").replace("\n", ",").split(",") if p.strip()]


def _expiry_fields(form: ActionForm) -> None:
    """One date-time (UTC) or "Never expires": exactly one of them, checked in `_clean_expiry`."""
    form.fields["expiration"] = forms.DateTimeField(
        label="Expires at (UTC)", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
        help_text="The grant ends at this moment. Leave it empty only with Never expires.",
    )
    form.fields["never_expires"] = forms.BooleanField(
        label="Never expires", required=False, help_text="The grant lasts until someone removes it.")


def _clean_expiry(form: ActionForm, data: dict, *, current: datetime | None = None) -> None:
    """Put in `data["expires"]` what will be stored (None = never), and in `data["keep_expiry"]`
    whether it is the stored one left untouched; a date with "never", or neither, is an error."""
    if "expiration" in form.errors:
        return
    date, never = data.get("expiration"), bool(data.get("never_expires"))
    if date and never:
        form.add_error("never_expires", "Give either an expiry date or Never expires, not both.")
        return
    if not date and not never:
        form.add_error("expiration", "Give the date the context expires at, or tick Never expires.")
        return
    if never:
        data["expires"], data["keep_expiry"] = None, False
        return
    date = date.astimezone(UTC)
    if current is not None and date == current.astimezone(UTC).replace(microsecond=0):
        # The stored date as the form showed it (to the second): keep it exactly.
        data["expires"], data["keep_expiry"] = current, True
        return
    if date <= timezone.now():
        form.add_error("expiration", "This moment is in the past: give a later one, or tick Never expires.")
        return
    data["expires"], data["keep_expiry"] = date, False


def _expiry_text(value: datetime | None) -> str:
    return "Never expires" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class _ContextFormBase(ActionForm):
    EXPIRY_FIELDS = ("expiration", "never_expires")

    def summary(self) -> list[tuple[str, str]]:
        """The other fields, then the expiry exactly as it will be stored."""
        rows = [(label, value) for label, value in super().summary()
                if label not in {str(self.fields[n].label) for n in self.EXPIRY_FIELDS}]
        return [*rows, ("Expires", _expiry_text(self.cleaned_data.get("expires")))]


class ContextAddForm(_ContextFormBase):
    """A new role context: its name, roles, permissions and expiry (nothing to remove yet)."""

    def setup(self):
        roles = [(r.name, r.name) for r in selectors.roles_of(tenant=self.tenant)]
        self.fields["context"] = forms.CharField(label="Role context", max_length=100)
        self.fields["roles"] = forms.MultipleChoiceField(
            label="Roles", choices=roles, required=False, widget=forms.CheckboxSelectMultiple)
        self.fields["permissions"] = forms.CharField(
            label="Additional permissions", required=False, help_text="Comma-separated.")
        _expiry_fields(self)

    def clean_context(self):
        name = self.cleaned_data["context"].strip()
        if any(c.name == name for c in selectors.account_contexts(account=self.account)):
            raise forms.ValidationError(
                f"This account already has a role context named {name}: use its Edit link to change it.")
        return name

    def clean(self):
        data = super().clean()
        _clean_expiry(self, data)
        return data


class ContextForm(_ContextFormBase):
    """An existing role context: add or remove roles and permissions, and set its expiry."""

    def setup(self):
        self.contexts = {c.name: c for c in selectors.account_contexts(account=self.account)}
        roles = [(r.name, r.name) for r in selectors.roles_of(tenant=self.tenant)]
        self.fields["context"] = forms.ChoiceField(
            label="Role context", choices=[(n, n) for n in self.contexts],
            error_messages={"invalid_choice": "This account has no role context by that name."})
        self.fields["add_roles"] = forms.MultipleChoiceField(
            label="Add roles", choices=roles, required=False, widget=forms.CheckboxSelectMultiple)
        self.fields["remove_roles"] = forms.MultipleChoiceField(
            label="Remove roles", choices=roles, required=False, widget=forms.CheckboxSelectMultiple)
        self.fields["add_permissions"] = forms.CharField(
            label="Add permissions", required=False, help_text="Comma-separated.")
        self.fields["remove_permissions"] = forms.CharField(
            label="Remove permissions", required=False, help_text="Comma-separated.")
        _expiry_fields(self)

    def clean(self):
        data = super().clean()
        current = self.contexts.get(data.get("context"))
        if current is not None:
            _clean_expiry(self, data, current=current.expiration)
        if set(data.get("add_roles") or []) & set(data.get("remove_roles") or []):
            self.add_error("remove_roles", "A role cannot be added and removed at once.")
        return data


class ContextDeleteForm(ActionForm):
    def setup(self):
        names = [c.name for c in selectors.account_contexts(account=self.account)]
        self.fields["context"] = forms.ChoiceField(label="Role context", choices=[(n, n) for n in names])


class RecordForm(ActionForm):
    def setup(self):
        self.fields["record"] = forms.TypedChoiceField(
            label="Record", coerce=int,
            choices=[(r.pk, f"{r.object_type.name} · {r.record_id}")
                     for r in selectors.account_records(account=self.account)],
        )

    def record(self):
        pk = self.cleaned_data.get("record")
        return next((r for r in selectors.account_records(account=self.account) if r.pk == pk), None)


class RecordEditForm(RecordForm):
    def setup(self):
        super().setup()
        self.fields["data"] = forms.CharField(
            label="Record data (JSON object)", widget=forms.Textarea(attrs={"rows": 8, "class": "mono"}),
            help_text="Replaces the whole record; the type's schema and limits apply.")
        self.fields["etag"] = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_data(self):
        try:
            value = json.loads(self.cleaned_data["data"])
        except ValueError as exc:
            raise forms.ValidationError(f"This is not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("The record must be a JSON object ({...}).")
        return value

    def summary(self):
        return [(label, value) for label, value in super().summary() if label != "Etag"]


class DeleteForm(ActionForm):
    def setup(self):
        self.fields["confirm_uid"] = forms.CharField(
            label="Type the account's UID to confirm", max_length=255,
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        )

    def clean_confirm_uid(self):
        value = self.cleaned_data["confirm_uid"].strip()
        if value != self.account.uid:
            raise forms.ValidationError("That is not this account's UID: nothing was deleted.")
        return value


class SecureForm(ActionForm):
    """What securing a compromised account does; every measure is on unless unchecked."""

    MEASURES = (
        ("revoke_sessions", "Revoke every session", "Access and refresh tokens stop working now; half-finished "
                                                    "sign-ins cannot complete."),
        ("remove_passkeys", "Remove passkeys", "All of them, or only those added since the time below."),
        ("remove_push_devices", "Remove push devices", "All of them, or only those added since the time below."),
        ("reset_second_factors", "Reset the second factors", "Authenticator app, SMS and email codes, security "
                                                             "questions, Duo enrolment and backup codes."),
        ("require_password_change", "Require a new password", "Password sign-in is refused until a new password "
                                                               "is set (send a password reset afterwards)."),
    )

    def setup(self):
        for name, label, help_text in self.MEASURES:
            self.fields[name] = forms.BooleanField(label=label, required=False, initial=True, help_text=help_text)
        self.fields["devices_added_since"] = forms.DateTimeField(
            label="Only devices added since (UTC)", required=False,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            help_text="Optional: leave empty to remove every passkey and push device.",
        )
        self.order_fields([name for name, _label, _help in self.MEASURES[:3]]
                          + ["devices_added_since", "reset_second_factors", "require_password_change"])

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name, _label, _help in self.MEASURES):
            raise forms.ValidationError("Choose at least one thing to do to secure the account.")
        return data


# Runs -------------------------------------------------------------------------------------


def _call(path: str, **kwargs):
    fn = service(path)
    if fn is None:
        raise LRError(1134, "This action's service is not available on this server.")
    return fn(**kwargs)


def _why(ctx: Ctx) -> dict:
    """The reason and ticket every service records with its audit event."""
    return {"reason": ctx.reason, "ticket": ctx.ticket}


def _std(ctx: Ctx) -> dict:
    return {"tenant": ctx.tenant, "actor": ctx.actor, "account": ctx.account, **_why(ctx)}


def _account_service(name: str) -> Callable[[Ctx], None]:
    def run(ctx: Ctx):
        _call(f"accounts.services:{name}", **_std(ctx))

    return run


def run_profile(ctx: Ctx):
    _call("accounts.services:account_update", **_std(ctx), changes=ctx.data["changes"], null_support=True)


def run_email_add(ctx: Ctx):
    _call("accounts.services:account_email_upsert", **_std(ctx),
          emails=[{"Type": ctx.data["type"], "Value": ctx.data["email"]}])


def run_email_remove(ctx: Ctx):
    _call("accounts.services:account_email_remove", **_std(ctx), email=ctx.data["email"])


def run_email_make_primary(ctx: Ctx):
    _call("accounts.services:account_email_make_primary", **_std(ctx), email=ctx.data["email"])


def run_phone(ctx: Ctx):
    _call("accounts.services:account_phone_update", **_std(ctx), phone=ctx.data["phone"])


def run_unlink(ctx: Ctx):
    provider, _, provider_id = ctx.data["identity"].partition(":")
    _call("accounts.services:account_identity_unlink", **_std(ctx), provider=provider, provider_id=provider_id)


def run_verification(ctx: Ctx):
    with transaction.atomic():
        _call("tokens.services.multipurpose:verification_email_send", **_std(ctx), email=ctx.data["email"])


def run_password_reset(ctx: Ctx):
    from tokens.models import MultipurposeToken

    with transaction.atomic():
        _call("tokens.services.multipurpose:token_issue", **_std(ctx), kind=MultipurposeToken.KIND_EMAIL,
              purpose="forgotpassword", destination=ctx.data["email"], send=True)


def run_session_revoke(ctx: Ctx):
    _call("tokens.services.sessions:account_session_revoke", **_std(ctx), session_id=ctx.data["session"])


def run_sessions_revoke_all(ctx: Ctx):
    return _call("tokens.services.sessions:account_sessions_revoke", **_std(ctx))


def run_factor_reset(ctx: Ctx):
    _call("security.services:mfa_factor_reset", **_std(ctx), factor=ctx.data["factor"])


def run_passkey_delete(ctx: Ctx):
    _call("security.services:passkey_delete", **_std(ctx), passkey_id=ctx.data["passkey"])


def run_backup_codes(ctx: Ctx):
    codes = _call("security.services:backup_codes_generate", **_std(ctx), reset=True)
    return Secret(
        title="New backup codes",
        explain="The previous codes no longer work. Hand these to the account holder through a "
                "verified channel; they are shown only now.",
        values=[(f"Code {i}", code) for i, code in enumerate(codes, start=1)],
    )


def run_secure(ctx: Ctx):
    data = ctx.data
    return _call("security.securing:account_secure", **_std(ctx),
                 devices_added_since=data.get("devices_added_since"),
                 **{name: bool(data.get(name)) for name, _label, _help in SecureForm.MEASURES})


def run_roles_assign(ctx: Ctx):
    _call("roles.services:account_roles_assign", **_std(ctx), role_names=list(ctx.data["roles"]))


def run_roles_unassign(ctx: Ctx):
    _call("roles.services:account_roles_unassign", **_std(ctx), role_names=list(ctx.data["roles"]))


def run_context_add(ctx: Ctx):
    from roles.services import RoleContextInput

    data = ctx.data
    _call("roles.services:role_contexts_upsert", **_std(ctx), contexts=[RoleContextInput(
        name=data["context"], roles=tuple(data.get("roles") or ()),
        additional_permissions=tuple(_split(data.get("permissions"))), expiration=data["expires"],
    )])


def run_context_edit(ctx: Ctx):
    from roles.services import KEEP, RoleContextInput

    data = ctx.data
    expiration = KEEP if data["keep_expiry"] else data["expires"]
    with transaction.atomic():
        _call("roles.services:role_contexts_upsert", **_std(ctx), contexts=[RoleContextInput(
            name=data["context"], roles=tuple(data.get("add_roles") or ()),
            additional_permissions=tuple(_split(data.get("add_permissions"))), expiration=expiration,
        )])
        if data.get("remove_roles"):
            _call("roles.services:role_context_roles_remove", **_std(ctx), name=data["context"],
                  role_names=list(data["remove_roles"]))
        if _split(data.get("remove_permissions")):
            _call("roles.services:role_context_permissions_remove", **_std(ctx), name=data["context"],
                  permissions=_split(data["remove_permissions"]))


def run_context_delete(ctx: Ctx):
    _call("roles.services:role_context_delete", **_std(ctx), name=ctx.data["context"])


def run_record_edit(ctx: Ctx):
    _call("customobjects.services:record_update", tenant=ctx.tenant, actor=ctx.actor, **_why(ctx),
          record=ctx.data["record_obj"], data=ctx.data["data"], if_match=ctx.data.get("etag") or None)


def run_record_delete(ctx: Ctx):
    _call("customobjects.services:record_delete", tenant=ctx.tenant, actor=ctx.actor, **_why(ctx),
          record=ctx.data["record_obj"])


def run_impersonate(ctx: Ctx):
    # Only the access token is shown, so no refresh token is issued: the session ends with it.
    issued = _call("tokens.services.sessions:session_issue", **_std(ctx),
                   access_lifetime=timedelta(minutes=IMPERSONATION_MINUTES), refresh=False)
    return Secret(
        title="Impersonation token",
        explain="Use it to see the product as this account does. It is shown only now and is "
                "recorded in the account's timeline with your name and reason.",
        values=[("Access token", issued.access_token),
                ("Expires (UTC)", issued.access_expires_at.strftime("%Y-%m-%d %H:%M:%S"))],
    )


def run_delete(ctx: Ctx):
    _call("accounts.services:account_delete", **_std(ctx))


# The catalogue ------------------------------------------------------------------------------

ACTIONS: dict[str, AccountAction] = {a.name: a for a in [
    AccountAction(
        "block", "Block account", "Block account",
        "The account will no longer be able to sign in or use its tokens until it is unblocked.",
        "Account blocked.", "account.block", _account_service("account_block"), ActionForm, danger=True,
        applies=lambda a: a.is_active, not_applicable="This account is already blocked.",
        requires=("accounts.services:account_block",)),
    AccountAction(
        "unblock", "Unblock account", "Unblock account", "The account will be able to sign in again.",
        "Account unblocked.", "account.unblock", _account_service("account_unblock"), ActionForm,
        applies=lambda a: not a.is_active, not_applicable="This account is not blocked.",
        requires=("accounts.services:account_unblock",)),
    AccountAction(
        "unlock", "Unlock account", "Unlock account",
        "Clears the sign-in lockout and the failed-attempt counter so the person can try again.",
        "Account unlocked.", "account.unlock", _account_service("account_unlock"), ActionForm,
        applies=lambda a: a.is_login_locked, not_applicable="This account is not locked.",
        requires=("accounts.services:account_unlock",)),
    AccountAction(
        "edit_profile", "Edit profile", "Save profile", "Change the names and username of the account.",
        "Profile saved.", "account.edit", run_profile, ProfileForm, place="profile",
        requires=("accounts.services:account_update",)),
    AccountAction(
        "email_add", "Add email", "Add email", "Adds an unverified address to the account.",
        "Email added.", "account.edit", run_email_add, EmailAddForm, place="emails",
        requires=("accounts.services:account_email_upsert",)),
    AccountAction(
        "email_remove", "Remove email", "Remove email",
        "The address stops being a way to sign in or recover this account.", "Email removed.",
        "account.edit", run_email_remove, EmailChoiceForm, danger=True, place="email",
        target=("email",), applies=lambda a: len(a.emails.all()) > 1,
        not_applicable="The last email of an account cannot be removed.",
        requires=("accounts.services:account_email_remove",)),
    AccountAction(
        "email_make_primary", "Make primary", "Make primary",
        "The address becomes the account's primary email.", "Primary email changed.",
        "account.edit", run_email_make_primary, EmailChoiceForm, place="email", target=("email",),
        requires=("accounts.services:account_email_make_primary",)),
    AccountAction(
        "phone_change", "Change phone", "Change phone",
        "Replaces the phone number; the new one is unverified until the person confirms it.",
        "Phone changed.", "account.edit", run_phone, PhoneForm, place="phone",
        requires=("accounts.services:account_phone_update",)),
    AccountAction(
        "identity_unlink", "Unlink", "Unlink identity",
        "The provider identity no longer signs in to this account.", "Identity unlinked.",
        "account.edit", run_unlink, IdentityForm, danger=True, place="identity", target=("identity",),
        requires=("accounts.services:account_identity_unlink",)),
    AccountAction(
        "send_verification", "Send verification email", "Send verification email",
        "Emails a new verification link to the address; older links stop working.",
        "Verification email queued.", "account.message", run_verification, EmailChoiceForm,
        place="email", target=("email",),
        requires=("tokens.services.multipurpose:verification_email_send",)),
    AccountAction(
        "send_password_reset", "Send password reset", "Send password reset email",
        "Emails a password-reset link to the address; older reset links stop working.",
        "Password reset email queued.", "account.message", run_password_reset, EmailChoiceForm,
        place="emails", target=("email",), requires=("tokens.services.multipurpose:token_issue",)),
    AccountAction(
        "session_revoke", "Revoke", "Revoke session",
        "Ends this session now: its access and refresh tokens stop working.", "Session revoked.",
        "security.reset", run_session_revoke, SessionForm, danger=True, place="session",
        target=("session",), requires=("tokens.services.sessions:account_session_revoke",)),
    AccountAction(
        "sessions_revoke_all", "Revoke all sessions", "Revoke all sessions",
        "Ends every session of the account now; the person must sign in again everywhere.",
        "All sessions revoked.", "security.reset", run_sessions_revoke_all, ActionForm, danger=True,
        place="sessions", requires=("tokens.services.sessions:account_sessions_revoke",)),
    AccountAction(
        "factor_reset", "Reset", "Reset factor",
        "Removes the factor (for a lost phone or a new device) and ends the account's sessions.",
        "Factor reset.", "security.reset", run_factor_reset, FactorForm, danger=True, place="factor",
        target=("factor",), requires=("security.services:mfa_factor_reset",)),
    AccountAction(
        "passkey_delete", "Remove", "Remove passkey", "The passkey no longer signs in to this account.",
        "Passkey removed.", "security.reset", run_passkey_delete, PasskeyForm, danger=True,
        place="passkey", target=("passkey",), requires=("security.services:passkey_delete",)),
    AccountAction(
        "backup_codes", "Regenerate backup codes", "Regenerate backup codes",
        "Replaces every backup code of the account with ten new ones, shown once.",
        "Backup codes regenerated.", "security.reset", run_backup_codes, ActionForm, danger=True,
        place="mfa", requires=("security.services:backup_codes_generate",)),
    AccountAction(
        "secure", "Secure account", "Secure account",
        "For an account someone else got into: ends its sessions, removes its passkeys and push devices "
        "(or only those added since a time), resets its second factors and requires a new password, "
        "as one audited operation.",
        "Account secured.", "account.secure", run_secure, SecureForm, danger=True,
        requires=("security.securing:account_secure",)),
    AccountAction(
        "roles_assign", "Assign roles", "Assign roles", "Gives the account the roles' permissions.",
        "Roles assigned.", "roles.manage", run_roles_assign, RolesForm, place="roles",
        requires=("roles.services:account_roles_assign",)),
    AccountAction(
        "roles_unassign", "Unassign roles", "Unassign roles",
        "Takes the roles (and their permissions) from the account.", "Roles unassigned.",
        "roles.manage", run_roles_unassign, RolesUnassignForm, danger=True, place="roles",
        target=("roles",), requires=("roles.services:account_roles_unassign",)),
    AccountAction(
        "context_add", "Add role context", "Add role context",
        "Grants the account roles and permissions within a named context, until the expiry you give.",
        "Role context added.", "roles.manage", run_context_add, ContextAddForm, place="contexts",
        requires=("roles.services:role_contexts_upsert",)),
    AccountAction(
        "context_edit", "Edit role context", "Save role context",
        "Changes the context's roles, permissions and expiry.", "Role context saved.",
        "roles.manage", run_context_edit, ContextForm, place="context", target=("context",),
        requires=("roles.services:role_contexts_upsert",)),
    AccountAction(
        "context_delete", "Delete", "Delete role context",
        "Removes the context with everything it grants.", "Role context deleted.", "roles.manage",
        run_context_delete, ContextDeleteForm, danger=True, place="context", target=("context",),
        requires=("roles.services:role_context_delete",)),
    AccountAction(
        "record_edit", "Edit", "Save record", "Replaces the record's data.", "Record saved.",
        "records.edit", run_record_edit, RecordEditForm, place="record", target=("record",),
        requires=("customobjects.services:record_update",)),
    AccountAction(
        "record_delete", "Delete", "Delete record", "Deletes the record; the audit log keeps what it held.",
        "Record deleted.", "records.edit", run_record_delete, RecordForm, danger=True, place="record",
        target=("record",), requires=("customobjects.services:record_delete",)),
    AccountAction(
        "impersonate", "Issue impersonation token", "Issue token",
        "Opens a short session as this account, recorded with your name and reason. The access "
        "token is shown once, with the time it expires.",
        "Impersonation token issued.", "account.impersonate", run_impersonate, ActionForm,
        applies=lambda a: a.is_active, not_applicable="A blocked account cannot be impersonated.",
        requires=("tokens.services.sessions:session_issue",)),
    AccountAction(
        "delete", "Delete account", "Delete account permanently",
        "Deletes the account and everything attached to it: sessions, factors, roles, records. "
        "This cannot be undone.", "Account deleted.", "account.delete", run_delete, DeleteForm,
        danger=True, place="danger", after_url="search", requires=("accounts.services:account_delete",)),
]}


def prepare(action: AccountAction, form: ActionForm) -> dict:
    """The data a run needs, from a valid form."""
    data = dict(form.cleaned_data)
    if isinstance(form, ProfileForm):
        data["changes"] = form.changes()
    if isinstance(form, RecordForm):
        data["record_obj"] = form.record()
    return data


def initial_for(action: AccountAction, form_class, account, request_get) -> dict:
    """Initial values: the target picked on the account page, and a record's current data."""
    initial = {name: request_get.get(name) for name in action.target if request_get.get(name)}
    if form_class is RecordEditForm and initial.get("record"):
        record = next((r for r in selectors.account_records(account=account)
                       if str(r.pk) == str(initial["record"])), None)
        if record is not None:
            initial["data"] = json.dumps(record.data, indent=2, ensure_ascii=False)
            initial["etag"] = record.etag
    if form_class is RolesUnassignForm and request_get.get("roles"):
        initial["roles"] = request_get.getlist("roles")
    if form_class is ContextForm and request_get.get("context"):
        ctx = next((c for c in selectors.account_contexts(account=account)
                    if c.name == request_get.get("context")), None)
        if ctx is not None:
            # The form starts from what is stored: the date to the second, or "never".
            if ctx.expiration:
                initial["expiration"] = ctx.expiration.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
            else:
                initial["never_expires"] = True
    return initial

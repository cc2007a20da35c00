"""Actions on how the account signs in and stays signed in: its sessions, second factors,
passkeys and backup codes, securing it after a compromise, and impersonating it."""

from datetime import timedelta

from django import forms

from flows.securing import account_secure
from portal.console import selectors
from portal.console.actions.base import (
    AccountAction,
    ActionForm,
    Ctx,
    Secret,
    run_or_hold,
)
from security import services as security_services
from security.commands import AccountSecure, BackupCodesGenerate, FactorReset, PasskeyRemove
from tokens.commands import AccountSessionRevoke, AccountSessionsRevoke, SessionIssue
from tokens.services import sessions

# Impersonation tokens live this long (or less, if the tenant's access tokens are shorter).
IMPERSONATION_MINUTES = 15

FACTOR_LABELS = {
    "totp": "Authenticator app (TOTP)",
    "sms": "SMS one-time codes",
    "email": "Email one-time codes",
    "securityquestion": "Security questions",
    "passkey": "Passkeys (all)",
    "push": "Push devices",
    "duo": "Duo enrolment",
}


class SessionForm(ActionForm):
    def setup(self):
        self.fields["session"] = forms.TypedChoiceField(
            label="Session",
            coerce=int,
            choices=[(s.pk, s.label) for s in selectors.account_sessions(account=self.account)],
        )


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
            choices=[
                (p["id"], p["label"])
                for p in selectors.account_mfa(account=self.account)["passkeys"]
            ],
        )


class SecureForm(ActionForm):
    """What securing a compromised account does; every measure is on unless unchecked."""

    MEASURES = (
        (
            "revoke_sessions",
            "Revoke every session",
            "Access and refresh tokens stop working now; half-finished sign-ins cannot complete.",
        ),
        (
            "remove_passkeys",
            "Remove passkeys",
            "All of them, or only those added since the time below.",
        ),
        (
            "remove_push_devices",
            "Remove push devices",
            "All of them, or only those added since the time below.",
        ),
        (
            "reset_second_factors",
            "Reset the second factors",
            "Authenticator app, SMS and email codes, security "
            "questions, Duo enrolment and backup codes.",
        ),
        (
            "require_password_change",
            "Require a new password",
            "Password sign-in is refused until a new password "
            "is set (send a password reset afterwards).",
        ),
    )

    def setup(self):
        for name, label, help_text in self.MEASURES:
            self.fields[name] = forms.BooleanField(
                label=label, required=False, initial=True, help_text=help_text
            )
        self.fields["devices_added_since"] = forms.DateTimeField(
            label="Only devices added since (UTC)",
            required=False,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            help_text="Optional: leave empty to remove every passkey and push device.",
        )
        self.order_fields(
            [name for name, _label, _help in self.MEASURES[:3]]
            + ["devices_added_since", "reset_second_factors", "require_password_change"]
        )

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name, _label, _help in self.MEASURES):
            raise forms.ValidationError("Choose at least one thing to do to secure the account.")
        return data


def run_session_revoke(ctx: Ctx):
    command = AccountSessionRevoke(
        session_id=ctx.data["session"], reason=ctx.reason, ticket=ctx.ticket
    )
    sessions.account_session_revoke(command, **on_account(ctx))


def run_sessions_revoke_all(ctx: Ctx):
    command = AccountSessionsRevoke(reason=ctx.reason, ticket=ctx.ticket)
    run_or_hold(ctx, sessions.account_sessions_revoke, command)


def on_account(ctx: Ctx) -> dict:
    """Who acts, where and on whom: the keyword arguments beside a service's command."""
    return {"tenant": ctx.tenant, "actor": ctx.actor, "account": ctx.account}


def run_factor_reset(ctx: Ctx):
    command = FactorReset(factor=ctx.data["factor"], reason=ctx.reason, ticket=ctx.ticket)
    run_or_hold(ctx, security_services.mfa_factor_reset, command)


def run_passkey_delete(ctx: Ctx):
    command = PasskeyRemove(passkey_id=ctx.data["passkey"], reason=ctx.reason, ticket=ctx.ticket)
    security_services.passkey_delete(command, **on_account(ctx))


def run_backup_codes(ctx: Ctx):
    command = BackupCodesGenerate(reset=True, reason=ctx.reason, ticket=ctx.ticket)
    codes = security_services.backup_codes_generate(command, **on_account(ctx))
    return Secret(
        title="New backup codes",
        explain="The previous codes no longer work. Hand these to the account holder through a "
        "verified channel; they are shown only now.",
        values=[(f"Code {i}", code) for i, code in enumerate(codes, start=1)],
    )


def run_secure(ctx: Ctx):
    data = ctx.data
    command = AccountSecure(
        reason=ctx.reason,
        ticket=ctx.ticket,
        devices_added_since=data.get("devices_added_since"),
        **{name: bool(data.get(name)) for name, _label, _help in SecureForm.MEASURES},
    )
    return account_secure(command, **on_account(ctx))


def run_impersonate(ctx: Ctx):
    # Only the access token is shown, so no refresh token is issued: the session ends with it.
    command = SessionIssue(
        reason=ctx.reason,
        ticket=ctx.ticket,
        access_lifetime_seconds=int(timedelta(minutes=IMPERSONATION_MINUTES).total_seconds()),
        refresh=False,
    )
    issued = run_or_hold(ctx, sessions.session_issue, command)
    return Secret(
        title="Impersonation token",
        explain="Use it to see the product as this account does. It is shown only now and is "
        "recorded in the account's timeline with your name and reason.",
        values=[
            ("Access token", issued.access_token),
            ("Expires (UTC)", issued.access_expires_at.strftime("%Y-%m-%d %H:%M:%S")),
        ],
    )


ACTIONS = [
    AccountAction(
        "session_revoke",
        "Revoke",
        "Revoke session",
        "Ends this session now: its access and refresh tokens stop working.",
        "Session revoked.",
        "security.reset",
        run_session_revoke,
        SessionForm,
        danger=True,
        place="session",
        target=("session",),
    ),
    AccountAction(
        "sessions_revoke_all",
        "Revoke all sessions",
        "Revoke all sessions",
        "Ends every session of the account now; the person must sign in again everywhere.",
        "All sessions revoked.",
        "security.reset",
        run_sessions_revoke_all,
        ActionForm,
        danger=True,
        place="sessions",
    ),
    AccountAction(
        "factor_reset",
        "Reset",
        "Reset factor",
        "Removes the factor (for a lost phone or a new device) and ends the account's sessions.",
        "Factor reset.",
        "security.reset",
        run_factor_reset,
        FactorForm,
        danger=True,
        place="factor",
        target=("factor",),
    ),
    AccountAction(
        "passkey_delete",
        "Remove",
        "Remove passkey",
        "The passkey no longer signs in to this account.",
        "Passkey removed.",
        "security.reset",
        run_passkey_delete,
        PasskeyForm,
        danger=True,
        place="passkey",
        target=("passkey",),
    ),
    AccountAction(
        "backup_codes",
        "Regenerate backup codes",
        "Regenerate backup codes",
        "Replaces every backup code of the account with ten new ones, shown once.",
        "Backup codes regenerated.",
        "security.reset",
        run_backup_codes,
        ActionForm,
        danger=True,
        place="mfa",
    ),
    AccountAction(
        "secure",
        "Secure account",
        "Secure account",
        "For an account someone else got into: ends its sessions, removes its passkeys and push devices "
        "(or only those added since a time), resets its second factors and requires a new password, "
        "as one audited operation.",
        "Account secured.",
        "account.secure",
        run_secure,
        SecureForm,
        danger=True,
    ),
    AccountAction(
        "impersonate",
        "Issue impersonation token",
        "Issue token",
        "Opens a short session as this account, recorded with your name and reason. The access "
        "token is shown once, with the time it expires.",
        "Impersonation token issued.",
        "account.impersonate",
        run_impersonate,
        ActionForm,
        applies=lambda a: a.is_active,
        not_applicable="A blocked account cannot be impersonated.",
    ),
]

"""Console forms. Every field has a label; write forms ask for a reason where the log needs one."""

from django import forms

from portal import staff
from portal.models import TENANT_SETTING_DEFAULTS, ApiCredential, Tenant

TRI_STATE = [("", "Any"), ("yes", "Yes"), ("no", "No")]


def tri_state(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


class TenantSwitchForm(forms.Form):
    tenant = forms.IntegerField(widget=forms.HiddenInput)


class AccountSearchForm(forms.Form):
    q = forms.CharField(
        label="Search accounts",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "UID, email, phone, username or name",
                   "autofocus": True, "autocomplete": "off"}
        ),
    )
    blocked = forms.ChoiceField(label="Blocked", choices=TRI_STATE, required=False)
    locked = forms.ChoiceField(label="Locked", choices=TRI_STATE, required=False)
    verified = forms.ChoiceField(label="Email verified", choices=TRI_STATE, required=False)

    def search_kwargs(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "query": data.get("q", ""),
            "blocked": tri_state(data.get("blocked")),
            "locked": tri_state(data.get("locked")),
            "email_verified": tri_state(data.get("verified")),
        }


class ReasonForm(forms.Form):
    """What every account action asks for: why (required) and the ticket (optional)."""

    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Written to the audit log with the action.",
    )
    ticket = forms.CharField(label="Ticket reference", required=False, max_length=100,
                             help_text="Optional, e.g. SUP-1234.")
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class TenantCreateForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name", "slug"]
        help_texts = {"slug": "Optional: made from the name when empty."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False


SETTING_HELP = {
    "access_token_lifetime_minutes": "Minutes an access token lives.",
    "refresh_token_lifetime_days": "Days a refresh token lives.",
    "refresh_token_family_max_days": "Days before a refresh-token family must sign in again.",
    "refresh_reuse_grace_seconds": "Seconds a just-rotated refresh token is still accepted.",
    "lockout_threshold": "Failed sign-ins before the account is locked.",
    "lockout_minutes": "Minutes a lockout lasts.",
    "sms_otp_length": "Digits in an SMS one-time code.",
    "email_token_lifetime_minutes": "Minutes an email link stays valid.",
    "sms_otp_lifetime_minutes": "Minutes an SMS code stays valid.",
    "send_cooldown_seconds": "Seconds between two messages to the same recipient.",
    "daily_email_cap": "Emails sent per day at most.",
    "daily_sms_cap": "SMS sent per day at most.",
    "reauth_token_lifetime_seconds": "Seconds a re-authentication stays valid.",
    "request_signing": "Whether unsigned API requests are still accepted.",
}


class TenantSettingsForm(forms.Form):
    """One field per tenant setting, prefilled with the tenant's value."""

    reason = forms.CharField(label="Reason", required=False, max_length=1000)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        fields = {}
        for name, default in TENANT_SETTING_DEFAULTS.items():
            label = name.replace("_", " ").capitalize()
            if name == "request_signing":
                field = forms.ChoiceField(
                    label=label, choices=[("preferred", "Preferred"), ("strict", "Strict: signed requests only")]
                )
            elif isinstance(default, int):
                field = forms.IntegerField(label=label, min_value=0)
            else:
                field = forms.CharField(label=label)
            field.help_text = SETTING_HELP.get(name, "") + f" Default: {default}."
            field.initial = tenant.setting(name)
            fields[name] = field
        fields["reason"] = self.fields.pop("reason")
        self.fields = fields

    def changes(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in TENANT_SETTING_DEFAULTS and value != self.tenant.setting(name)
        }


class CredentialCreateForm(forms.Form):
    label = forms.CharField(label="Label", max_length=200, required=False,
                            help_text="What uses this secret, e.g. “billing backend”.")
    scopes = forms.MultipleChoiceField(
        label="Sections it may call", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(s, s) for s in ApiCredential.SECTIONS],
        help_text="None ticked: every section.",
    )


class CredentialRotateForm(forms.Form):
    overlap_hours = forms.IntegerField(
        label="Keep the current secrets working for (hours)", min_value=0, max_value=24 * 90,
        required=False, initial=24,
        help_text="0 revokes them now; empty keeps them until revoked by hand.",
    )


class CredentialRevokeForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=1000)


class StaffGrantForm(forms.Form):
    user = forms.ModelChoiceField(label="Staff member", queryset=None, to_field_name="username")
    permissions = forms.MultipleChoiceField(
        label="Permissions on this tenant", widget=forms.CheckboxSelectMultiple,
        choices=list(staff.TENANT_PERMISSIONS.items()),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff.staff_users()


class StaffRevokeForm(forms.Form):
    user = forms.CharField(widget=forms.HiddenInput)

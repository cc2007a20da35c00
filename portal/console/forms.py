"""Console forms. Every field has a label; write forms ask for a reason where the log needs one."""

import json
from datetime import timedelta

from django import forms

from portal import staff, tenant_settings
from portal.models import ApiCredential, Tenant

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
            attrs={
                "type": "search",
                "placeholder": "UID, email, phone, username or name",
                "autofocus": True,
                "autocomplete": "off",
            }
        ),
    )
    blocked = forms.ChoiceField(label="Blocked", choices=TRI_STATE, required=False)
    locked = forms.ChoiceField(label="Locked", choices=TRI_STATE, required=False)
    verified = forms.ChoiceField(label="Email verified", choices=TRI_STATE, required=False)
    has_mfa = forms.ChoiceField(label="Has MFA", choices=TRI_STATE, required=False)
    role = forms.ChoiceField(label="Role", required=False, choices=[("", "Any role")])
    created_from = forms.DateField(
        label="Created from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label="Created until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    FILTERS = ("blocked", "locked", "verified", "has_mfa", "role", "created_from", "created_to")

    def __init__(self, *args, roles: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "Any role"), *[(r, r) for r in roles]]

    def clean(self):
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "The end of the range is before its start.")
        return data

    def searching(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(k) for k in ("q", *self.FILTERS))

    def filter_data(self) -> dict:
        """The filterset's parameters (the native API's names) for the chosen filters."""
        data = self.cleaned_data
        out = {}
        for name in ("blocked", "locked", "verified", "has_mfa"):
            value = tri_state(data.get(name))
            if value is not None:
                out[name] = "true" if value else "false"
        if data.get("role"):
            out["role"] = data["role"]
        if data.get("created_from"):
            out["created_after"] = f"{data['created_from'].isoformat()}T00:00:00Z"
        if data.get("created_to"):
            out["created_before"] = (
                f"{(data['created_to'] + timedelta(days=1)).isoformat()}T00:00:00Z"
            )
        return out


class ReasonForm(forms.Form):
    """What every account action asks for: why (required) and the ticket (optional)."""

    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Written to the audit log with the action.",
    )
    ticket = forms.CharField(
        label="Ticket reference",
        required=False,
        max_length=100,
        help_text="Optional, e.g. SUP-1234.",
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class TenantCreateForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name", "slug"]
        help_texts = {"slug": "Optional: made from the name when empty."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False


class TenantSettingsForm(forms.Form):
    """One field per tenant setting (portal/tenant_settings.py: label, help, group), prefilled
    with the tenant's value. The form only reads each value's type; the rules (bounds, the
    minimum password length not above the maximum) are the service's, whose refusals
    `add_refusal` puts on the fields."""

    reason = forms.CharField(label="Reason", required=False, max_length=1000)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        fields = {}
        for setting in tenant_settings.SETTINGS:
            field = _setting_field(setting)
            field.label = setting.label
            field.help_text = f"{setting.help} Default: {setting.shown_default}."
            field.initial = tenant.setting(setting.name)
            fields[setting.name] = field
        fields["reason"] = self.fields.pop("reason")
        self.fields = fields

    def groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(group name, anchor id, its fields) in the order people read them."""
        return [
            (group.value, "settings-" + group.name.lower(), [self[s.name] for s in settings])
            for group, settings in tenant_settings.grouped()
        ]

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(anchor of the field, its label, the message) for every refusal; a refusal of no
        one field has no anchor."""
        summary = [("", "", message) for message in self.non_field_errors()]
        for name, field in self.fields.items():
            bound = self[name]
            multiple = bound.widget_type == "checkboxselectmultiple"
            anchor = bound.auto_id + ("_0" if multiple else "")
            summary.extend((anchor, str(field.label), message) for message in bound.errors)
        return summary

    def add_refusal(self, field_errors) -> None:
        """The service's field errors on the fields they name (others on the form)."""
        for item in field_errors:
            self.add_error(item.field if item.field in self.fields else None, item.message)

    def changes(self) -> dict:
        """The settings whose value differs from the stored one, compared as they would be
        stored (a list of choices in its one order)."""
        changed = {}
        for name, value in self.cleaned_data.items():
            setting = tenant_settings.BY_NAME.get(name)
            if setting is None:
                continue
            stored, refused = setting.checked(value)
            wanted = value if refused else stored
            if wanted != self.tenant.setting(name):
                changed[name] = wanted
        return changed


def _setting_field(setting: tenant_settings.Setting) -> forms.Field:
    """The form field of a setting's type; the browser is told the bounds as a hint."""
    kind = tenant_settings.Kind
    if setting.kind is kind.FLAG:
        return forms.BooleanField(required=False)
    if setting.kind is kind.CHOICE:
        return forms.ChoiceField(choices=list(setting.choices))
    if setting.kind is kind.CHOICES:
        return forms.MultipleChoiceField(
            required=False, choices=list(setting.choices), widget=forms.CheckboxSelectMultiple
        )
    if setting.kind is kind.TEXT:
        return forms.CharField(
            required=False, widget=forms.TextInput(attrs={"maxlength": setting.high})
        )
    return forms.IntegerField(
        widget=forms.NumberInput(attrs={"min": setting.low, "max": setting.high})
    )


class CredentialCreateForm(forms.Form):
    label = forms.CharField(
        label="Label",
        max_length=200,
        required=False,
        help_text="What uses this secret, e.g. “billing backend”.",
    )
    scopes = forms.MultipleChoiceField(
        label="Sections it may call",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(s, s) for s in ApiCredential.SECTIONS],
        help_text="None ticked: every section.",
    )
    requires_approval = forms.BooleanField(
        label="Its gated native calls wait for approval",
        required=False,
        help_text="Actions the tenant holds for a second person answer 202 with an approval "
        "request instead of running (the LoginRadius paths are never held).",
    )


class CredentialRotateForm(forms.Form):
    """Replace one secret: which one, how long the old one keeps working, and why."""

    credential = forms.TypedChoiceField(
        label="Secret to rotate",
        coerce=int,
        error_messages={"invalid_choice": "Choose a live secret of this tenant."},
    )
    overlap_hours = forms.IntegerField(
        label="Keep the old secret working for (hours)",
        min_value=0,
        max_value=24 * 90,
        initial=24,
        help_text="Time to switch its callers over: 0 revokes it at once, at most 2160 (90 days).",
    )
    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Written to the audit log with the rotation.",
        error_messages={
            "required": "Give a reason: it is written to the audit log with the rotation."
        },
    )
    ticket = forms.CharField(
        label="Ticket reference",
        required=False,
        max_length=100,
        help_text="Optional, e.g. SEC-1234.",
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, credentials: list[ApiCredential], **kwargs):
        super().__init__(*args, **kwargs)
        self.credentials = {c.pk: c for c in credentials}
        self.fields["credential"].choices = [
            (
                c.pk,
                f"…{c.secret_hint} · {c.label or 'no label'} · {', '.join(c.scopes) or 'all sections'}",
            )
            for c in credentials
        ]

    def chosen(self) -> ApiCredential:
        return self.credentials[self.cleaned_data["credential"]]


class CredentialRevokeForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=1000)


class StaffGrantForm(forms.Form):
    user = forms.ModelChoiceField(label="Staff member", queryset=None, to_field_name="username")
    permissions = forms.MultipleChoiceField(
        label="Permissions on this tenant",
        widget=forms.CheckboxSelectMultiple,
        choices=list(staff.TENANT_PERMISSIONS.items()),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff.staff_users()


class StaffRevokeForm(forms.Form):
    """Remove a staff member's access to a tenant: confirmed, with the reason for the audit log."""

    user = forms.CharField(widget=forms.HiddenInput, max_length=150)
    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Written to the audit log with the removal.",
        error_messages={
            "required": "Give a reason: it is written to the audit log with the removal."
        },
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


def _names(text: str) -> list[str]:
    return [p.strip() for p in (text or "").replace("\n", ",").split(",") if p.strip()]


class RoleWhyFields(forms.Form):
    """Reason and ticket of a role change, written to the audit log with it."""

    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=1000,
        help_text="Written to the audit log with the change.",
    )
    ticket = forms.CharField(
        label="Ticket reference",
        required=False,
        max_length=100,
        help_text="Optional, e.g. SUP-1234.",
    )


class RoleCreateForm(RoleWhyFields):
    name = forms.CharField(label="Role name", max_length=100)
    permissions = forms.CharField(
        label="Permissions",
        required=False,
        help_text="Comma-separated, e.g. read_orders, edit_orders.",
    )
    field_order = ["name", "permissions", "reason", "ticket"]

    def clean_permissions(self):
        return _names(self.cleaned_data["permissions"])


class RolePermissionsForm(RoleWhyFields):
    name = forms.CharField(widget=forms.HiddenInput, max_length=100)
    permissions = forms.CharField(label="Permissions", required=False, help_text="Comma-separated.")
    confirm_name = forms.CharField(
        label="Type the role name to confirm", required=False, max_length=100
    )

    def clean_permissions(self):
        return _names(self.cleaned_data["permissions"])


class ObjectTypeForm(forms.Form):
    """A custom-object type: name, optional JSON Schema, limits (blank = the default)."""

    name = forms.CharField(label="Name", max_length=100, help_text="Letters, digits, '_' or '-'.")
    schema = forms.CharField(
        label="JSON Schema",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        help_text="Optional: every record must satisfy it.",
    )
    max_bytes = forms.IntegerField(label="Max bytes per record", required=False, min_value=1)
    max_depth = forms.IntegerField(label="Max nesting depth", required=False, min_value=1)
    max_records_per_account = forms.IntegerField(
        label="Max records per account", required=False, min_value=1
    )
    reason = forms.CharField(label="Reason", max_length=1000, help_text="Written to the audit log.")

    LIMITS = ("max_bytes", "max_depth", "max_records_per_account")

    def __init__(self, *args, instance_type=None, **kwargs):
        self.instance_type = instance_type
        if instance_type is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance_type.name,
                "schema": json.dumps(instance_type.schema, indent=2)
                if instance_type.schema is not None
                else "",
                **{k: getattr(instance_type, k) for k in self.LIMITS},
            }
        super().__init__(*args, **kwargs)
        prefix = f"t{instance_type.pk}" if instance_type is not None else "new"
        self.auto_id = f"id_{prefix}_%s"

    def clean_schema(self):
        text = (self.cleaned_data.get("schema") or "").strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"This is not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("A JSON Schema is an object ({...}).")
        return value

    def values(self) -> dict:
        """What the service takes: the name and schema, and each limit that was given."""
        data = self.cleaned_data
        out = {"name": data["name"].strip(), "schema": data.get("schema")}
        out.update({k: data[k] for k in self.LIMITS if data.get(k) is not None})
        if self.instance_type is not None:
            current = {
                "name": self.instance_type.name,
                "schema": self.instance_type.schema,
                **{k: getattr(self.instance_type, k) for k in self.LIMITS},
            }
            out = {k: v for k, v in out.items() if current.get(k) != v}
        return out


class ObjectTypeDeleteForm(forms.Form):
    confirm_name = forms.CharField(label="Type the type's name to confirm", max_length=100)
    force = forms.BooleanField(label="Also delete its records", required=False)
    reason = forms.CharField(label="Reason", max_length=1000)

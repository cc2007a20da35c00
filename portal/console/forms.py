"""Console forms. Every field has a label; write forms ask for a reason where the log needs one."""

import json
from datetime import UTC, timedelta

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.safestring import SafeString

from portal import staff, tenant_settings
from portal.models import ApiCredential, Tenant

TRI_STATE = [("", "Any"), ("yes", "Yes"), ("no", "No")]


def _attrs_html(attrs: dict) -> str:
    # As django/forms/widgets/attrs.html writes them.
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class PlainSelect(forms.Select):
    """A <select> written as Django's select.html writes it, without its template: the search
    page's filters rendered two template includes per option, a tenth of its rendering."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [
            f'<select name="{conditional_escape(widget["name"])}"{_attrs_html(widget["attrs"])}>'
        ]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in options:
                parts.append(
                    f'\n  <option value="{escape(str(option["value"]))}"'
                    f"{_attrs_html(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return SafeString("".join(parts))


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
    blocked = forms.ChoiceField(
        label="Blocked", choices=TRI_STATE, required=False, widget=PlainSelect
    )
    locked = forms.ChoiceField(
        label="Locked", choices=TRI_STATE, required=False, widget=PlainSelect
    )
    verified = forms.ChoiceField(
        label="Email verified", choices=TRI_STATE, required=False, widget=PlainSelect
    )
    has_mfa = forms.ChoiceField(
        label="Has MFA", choices=TRI_STATE, required=False, widget=PlainSelect
    )
    role = forms.ChoiceField(
        label="Role", required=False, choices=[("", "Any role")], widget=PlainSelect
    )
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
    masks_personal_data = forms.BooleanField(
        label="Used by staff: its native answers show personal data masked",
        required=False,
        help_text="Emails, phone numbers, names and the tenant's masked custom fields read "
        "as a masked staff role sees them.",
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


class RoleContextReasonForm(forms.Form):
    """What every change to a role context asks: why (required) and the ticket. Its ids
    are its own: the dialog opens on pages that have other forms."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "ctx_%s")
        super().__init__(*args, **kwargs)

    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Written to the audit log with the change.",
        error_messages={"required": "Say why: it is written to the audit log with the change."},
    )
    ticket = forms.CharField(
        label="Ticket reference",
        required=False,
        max_length=100,
        help_text="Optional, e.g. SUP-1234.",
    )


class RoleContextExpiryForm(RoleContextReasonForm):
    """A new expiry: one UTC date-time, or "Never expires" (exactly one of them). The clean
    puts what will be stored in `cleaned_data["expires"]` (None = never)."""

    expiration = forms.DateTimeField(
        label="Expires at (UTC)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="A date and time in UTC (YYYY-MM-DD HH:MM), to the minute. The grant ends then.",
    )
    never_expires = forms.BooleanField(
        label="Never expires", required=False, help_text="The grant lasts until someone revokes it."
    )
    field_order = ["expiration", "never_expires", "reason", "ticket"]

    def clean(self):
        data = super().clean()
        if "expiration" in self.errors:
            return data
        moment, never = data.get("expiration"), bool(data.get("never_expires"))
        if moment and never:
            self.add_error("never_expires", "Give either an expiry or Never expires, not both.")
        elif not moment and not never:
            self.add_error("expiration", "Give the moment it expires, or tick Never expires.")
        elif never:
            data["expires"] = None
        elif moment <= timezone.now():
            self.add_error(
                "expiration", "This moment is in the past: give a later one, or Never expires."
            )
        else:
            data["expires"] = moment.astimezone(UTC)
        return data


class RoleContextExtendForm(RoleContextExpiryForm):
    """Give one holder of a context a new expiry."""

    account = forms.CharField(widget=forms.HiddenInput, max_length=100)
    version = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class RoleContextRevokeForm(RoleContextReasonForm):
    """Take a context, and everything it grants, from one holder."""

    account = forms.CharField(widget=forms.HiddenInput, max_length=100)
    version = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class RoleContextHolderAddForm(RoleContextExpiryForm):
    """Give an account the context: which account (found exactly), which roles, until when."""

    holder = forms.CharField(
        label="Account",
        max_length=255,
        help_text="Its email, username or UID, exactly.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    roles = forms.MultipleChoiceField(
        label="Roles in this context",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one role."},
    )
    field_order = ["holder", "roles", "expiration", "never_expires", "reason", "ticket"]

    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [(name, name) for name in roles]


class ContextNameInput(forms.TextInput):
    """A text input suggesting the tenant's context names (a native datalist: no script),
    refreshed from the typeahead endpoint as the name is typed (htmx)."""

    def __init__(self, *, names: list[str], attrs=None):
        super().__init__(attrs={"autocomplete": "off", "spellcheck": "false", **(attrs or {})})
        self.names = names

    def render(self, name, value, attrs=None, renderer=None):
        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id') or name}_names"
        attrs.update(
            {
                "list": list_id,
                "hx-get": reverse("console:role_context_names"),
                "hx-trigger": "input changed delay:200ms",
                "hx-target": f"#{list_id}",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
            }
        )
        options = format_html_join("", '<option value="{}"></option>', ((n,) for n in self.names))
        return format_html(
            '{}<datalist id="{}">{}</datalist>',
            super().render(name, value, attrs, renderer),
            list_id,
            options,
        )


class ContextNameField(forms.CharField):
    """A role-context name chosen from the tenant's (typeahead: the input's `list`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Role context")
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault(
            "help_text",
            "Pick one of the tenant's contexts as you type. A new name needs "
            "“Create a new context” ticked.",
        )
        super().__init__(**kwargs)


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

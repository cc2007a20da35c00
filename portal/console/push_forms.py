"""The push notification settings of a tenant (portal/console/views/push_settings.py)."""

from django import forms

from security.push.fcm import MAX_FILE_BYTES
from security.push.webhook import MAX_URL_LENGTH

PUSH_KINDS = [
    ("none", "None: push approval is not offered"),
    ("fcm", "Firebase Cloud Messaging (service account)"),
    ("webhook", "Signed webhook to our own push relay"),
]


class PushSettingsForm(forms.Form):
    kind = forms.ChoiceField(label="Deliver push challenges through", choices=PUSH_KINDS)
    service_account_file = forms.FileField(
        label="Service account key file (JSON)",
        required=False,
        help_text="Firebase console → Project settings → Service accounts → Generate new private key.",
    )
    service_account_json = forms.CharField(
        label="…or paste the key file",
        required=False,
        max_length=MAX_FILE_BYTES,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        help_text="Leave both empty to keep the stored service account.",
    )
    webhook_url = forms.CharField(
        label="Relay address (HTTPS)",
        required=False,
        max_length=MAX_URL_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://push.example.com/hooks/portal"}),
    )
    new_secret = forms.BooleanField(
        label="Make a new signing secret (the relay must then use it)", required=False
    )
    reason = forms.CharField(label="Reason", required=False, max_length=1000)
    ticket = forms.CharField(label="Ticket", required=False, max_length=200)

    def clean(self):
        data = super().clean()
        upload = data.get("service_account_file")
        if upload is not None:
            if upload.size > MAX_FILE_BYTES:
                self.add_error("service_account_file", "The file is too large for a key file.")
            else:
                try:
                    data["service_account_json"] = upload.read().decode("utf-8")
                except UnicodeDecodeError:
                    self.add_error("service_account_file", "The file is not a JSON text file.")
        return data

    def service_account(self) -> str | None:
        """The key file given (uploaded or pasted), or None to keep the stored one."""
        return (self.cleaned_data.get("service_account_json") or "").strip() or None

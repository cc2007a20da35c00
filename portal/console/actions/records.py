"""Actions on the account's custom-object records: edit one, delete one."""

import json

from django import forms

from customobjects import services as customobject_services
from customobjects.commands import RecordDelete, RecordUpdate
from portal.console import selectors
from portal.console.actions.base import AccountAction, ActionForm, Ctx, reason_and_ticket


class RecordForm(ActionForm):
    def setup(self):
        self.fields["record"] = forms.TypedChoiceField(
            label="Record",
            coerce=int,
            choices=[
                (r.pk, f"{r.object_type.name} · {r.record_id}")
                for r in selectors.account_records(account=self.account)
            ],
        )

    def record(self):
        pk = self.cleaned_data.get("record")
        return next(
            (r for r in selectors.account_records(account=self.account) if r.pk == pk), None
        )

    def run_data(self) -> dict:
        return {**super().run_data(), "record_obj": self.record()}


class RecordEditForm(RecordForm):
    def setup(self):
        super().setup()
        self.fields["data"] = forms.CharField(
            label="Record data (JSON object)",
            widget=forms.Textarea(attrs={"rows": 8, "class": "mono"}),
            help_text="Replaces the whole record; the type's schema and limits apply.",
        )
        self.fields["etag"] = forms.CharField(required=False, widget=forms.HiddenInput)

    @classmethod
    def initial_from(cls, initial: dict, *, account, query) -> dict:
        """The record's current data, to edit rather than retype."""
        if initial.get("record"):
            record = next(
                (
                    r
                    for r in selectors.account_records(account=account)
                    if str(r.pk) == str(initial["record"])
                ),
                None,
            )
            if record is not None:
                initial["data"] = json.dumps(record.data, indent=2, ensure_ascii=False)
                initial["etag"] = record.etag
        return initial

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


def run_record_edit(ctx: Ctx):
    command = RecordUpdate(
        data=ctx.data["data"], if_match=ctx.data.get("etag") or None, **reason_and_ticket(ctx)
    )
    customobject_services.record_update(
        command, tenant=ctx.tenant, actor=ctx.actor, record=ctx.data["record_obj"]
    )


def run_record_delete(ctx: Ctx):
    customobject_services.record_delete(
        RecordDelete(**reason_and_ticket(ctx)),
        tenant=ctx.tenant,
        actor=ctx.actor,
        record=ctx.data["record_obj"],
    )


ACTIONS = [
    AccountAction(
        "record_edit",
        "Edit",
        "Save record",
        "Replaces the record's data.",
        "Record saved.",
        "records.edit",
        run_record_edit,
        RecordEditForm,
        place="record",
        target=("record",),
    ),
    AccountAction(
        "record_delete",
        "Delete",
        "Delete record",
        "Deletes the record; the audit log keeps what it held.",
        "Record deleted.",
        "records.edit",
        run_record_delete,
        RecordForm,
        danger=True,
        place="record",
        target=("record",),
    ),
]

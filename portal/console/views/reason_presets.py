"""Reason presets of a tenant (Admin): the reasons agents pick in an action's dialog."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View

from portal.console.actions.base import point_at_errors
from portal.console.views.tenants import AdminMixin
from portal.errors import InvalidInput
from portal.models import ReasonPreset
from portal.reason_presets import (
    ReasonPresetCreate,
    ReasonPresetDelete,
    ReasonPresetUpdate,
    reason_preset_create,
    reason_preset_delete,
    reason_preset_list,
    reason_preset_update,
)


class ReasonPresetForm(forms.Form):
    label = forms.CharField(
        label="Label",
        max_length=ReasonPreset.LABEL_MAX_LENGTH,
        help_text="What agents pick in the list, e.g. “Lost phone”.",
    )
    text = forms.CharField(
        label="Reason",
        max_length=ReasonPreset.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The reason it fills in; agents can still edit it before confirming.",
    )

    def full_clean(self):
        super().full_clean()
        point_at_errors(self)

    def refused(self, error: InvalidInput) -> None:
        """Show the service's refusal on the fields it names (the rest at the top)."""
        named = False
        for item in error.field_errors:
            if item.field in self.fields:
                self.add_error(item.field, item.message)
                named = True
        if not named:
            self.add_error(None, error.sentence())
        point_at_errors(self)


def _list_page(view, request, tenant, *, form=None, status=200):
    return render(
        request,
        "console/reason_presets.html",
        {
            "console": view.console,
            "tenant": tenant,
            "presets": list(reason_preset_list(tenant=tenant)),
            "form": form or ReasonPresetForm(),
        },
        status=status,
    )


class ReasonPresetListView(AdminMixin, View):
    """The tenant's presets, and the form that adds one."""

    def get(self, request, slug):
        return _list_page(self, request, self.admin_tenant(slug))

    def post(self, request, slug):
        tenant = self.admin_tenant(slug)
        form = ReasonPresetForm(request.POST)
        if form.is_valid():
            command = ReasonPresetCreate(
                label=form.cleaned_data["label"], text=form.cleaned_data["text"]
            )
            try:
                preset = reason_preset_create(command, tenant=tenant, actor=self.console.actor)
            except InvalidInput as error:
                form.refused(error)
            else:
                messages.success(request, f"Preset “{preset.label}” added.")
                return redirect("console:reason_presets", tenant.slug)
        return _list_page(self, request, tenant, form=form, status=400)


class ReasonPresetEditView(AdminMixin, View):
    template_name = "console/reason_preset_edit.html"

    def _preset(self, tenant, pk) -> ReasonPreset:
        preset = reason_preset_list(tenant=tenant).filter(pk=pk).first()
        if preset is None:
            raise Http404("No such preset")
        return preset

    def _page(self, request, tenant, preset, form, status=200):
        context = {"console": self.console, "tenant": tenant, "preset": preset, "form": form}
        return render(request, self.template_name, context, status=status)

    def get(self, request, slug, pk):
        tenant = self.admin_tenant(slug)
        preset = self._preset(tenant, pk)
        form = ReasonPresetForm(initial={"label": preset.label, "text": preset.text})
        return self._page(request, tenant, preset, form)

    def post(self, request, slug, pk):
        tenant = self.admin_tenant(slug)
        preset = self._preset(tenant, pk)
        form = ReasonPresetForm(request.POST)
        if form.is_valid():
            command = ReasonPresetUpdate(
                preset_id=preset.pk,
                label=form.cleaned_data["label"],
                text=form.cleaned_data["text"],
            )
            try:
                reason_preset_update(command, tenant=tenant, actor=self.console.actor)
            except InvalidInput as error:
                form.refused(error)
            else:
                messages.success(request, f"Preset “{command.label.strip()}” saved.")
                return redirect("console:reason_presets", tenant.slug)
        return self._page(request, tenant, preset, form, status=400)


class ReasonPresetDeleteView(AdminMixin, View):
    def post(self, request, slug, pk):
        tenant = self.admin_tenant(slug)
        try:
            reason_preset_delete(
                ReasonPresetDelete(preset_id=pk), tenant=tenant, actor=self.console.actor
            )
        except InvalidInput as error:
            messages.error(request, f"Nothing was removed: {error.sentence()}")
        else:
            messages.success(request, "Preset removed. Past actions keep the reason they recorded.")
        return redirect("console:reason_presets", tenant.slug)

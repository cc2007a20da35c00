"""Custom-object types of the current tenant (Admin): list, create, edit, delete."""

import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from customobjects import selectors as customobject_selectors
from customobjects import services as customobject_services
from customobjects.commands import ObjectTypeCreate, ObjectTypeDelete, ObjectTypeUpdate
from portal.console.access import StaffRequiredMixin
from portal.console.actions import error_text
from portal.console.errors import SERVICE_ERRORS
from portal.console.forms import ObjectTypeDeleteForm, ObjectTypeForm


class ObjectTypesView(StaffRequiredMixin, TemplateView):
    template_name = "console/object_types.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.require_tenant()
        self.require_action(tenant, "tenant.administer")
        types = list(customobject_selectors.object_type_list(tenant=tenant))
        for t in types:
            t.schema_json = json.dumps(t.schema, ensure_ascii=False) if t.schema is not None else ""
        editing = kwargs.get("editing")
        context.update(
            tenant=tenant,
            types=types,
            create_form=kwargs.get("create_form") or ObjectTypeForm(),
            edit_forms=kwargs.get("edit_forms")
            or {t.pk: ObjectTypeForm(instance_type=t) for t in types},
            editing=editing,
        )
        return context


class ObjectTypeWriteView(StaffRequiredMixin, View):
    def post(self, request, op, pk=None):
        tenant = self.require_tenant()
        self.require_action(tenant, "tenant.administer")
        actor = self.console.actor
        back = reverse("console:object_types")
        object_type = None
        if pk is not None:
            object_type = next(
                (t for t in customobject_selectors.object_type_list(tenant=tenant) if t.pk == pk),
                None,
            )
            if object_type is None:
                raise Http404("No such custom object type")
        if op not in ("create", "edit", "delete") or (op == "create") != (object_type is None):
            raise Http404("No such operation")
        if op == "delete":
            form = ObjectTypeDeleteForm(request.POST)
            if not form.is_valid() or form.cleaned_data["confirm_name"] != object_type.name:
                messages.error(
                    request,
                    f"Type {object_type.name} and a reason to confirm: nothing was deleted.",
                )
                return redirect(back)
            try:
                removed = customobject_services.object_type_delete(
                    ObjectTypeDelete(
                        force=form.cleaned_data["force"], reason=form.cleaned_data["reason"]
                    ),
                    tenant=tenant,
                    actor=actor,
                    object_type=object_type,
                )
            except SERVICE_ERRORS as error:
                messages.error(request, f"Refused: {error_text(error)}")
                return redirect(back)
            messages.success(request, f"Type {object_type.name} deleted with {removed} record(s).")
            return redirect(back)
        form = ObjectTypeForm(request.POST, instance_type=object_type)
        error = None
        if form.is_valid():
            try:
                if op == "create" and object_type is None:
                    values = form.values()
                    customobject_services.object_type_create(
                        ObjectTypeCreate(
                            name=values.pop("name"),
                            schema=values.pop("schema", None),
                            limits=values,
                            reason=form.cleaned_data["reason"],
                        ),
                        tenant=tenant,
                        actor=actor,
                    )
                    messages.success(request, f"Type {form.cleaned_data['name']} created.")
                    return redirect(back)
                if op == "edit" and object_type is not None:
                    customobject_services.object_type_update(
                        ObjectTypeUpdate(changes=form.values(), reason=form.cleaned_data["reason"]),
                        tenant=tenant,
                        actor=actor,
                        object_type=object_type,
                    )
                    messages.success(request, f"Type {form.cleaned_data['name']} saved.")
                    return redirect(back)
                raise Http404("No such operation")
            except SERVICE_ERRORS as exc:
                error = error_text(exc)
        if error:
            form.add_error(None, error)
        view = ObjectTypesView()
        view.setup(request)
        view.console = self.console
        extra = {"create_form": form} if object_type is None else {"editing": object_type.pk}
        context = view.get_context_data(**extra)
        if object_type is not None:
            context["edit_forms"][object_type.pk] = form
        return render(request, view.template_name, context, status=400)

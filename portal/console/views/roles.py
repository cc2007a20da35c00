"""The roles screen: roles with their permissions and holders, and writing them."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from portal.console import selectors
from portal.console.access import StaffRequiredMixin
from portal.console.actions import error_text
from portal.console.errors import SERVICE_ERRORS
from portal.console.forms import RoleCreateForm, RolePermissionsForm
from roles import selectors as role_selectors
from roles import services as role_services
from roles.commands import (
    RoleDelete,
    RoleInput,
    RolePermissionsAdd,
    RolePermissionsRemove,
    RolesCreate,
)


class RolesView(StaffRequiredMixin, TemplateView):
    """Roles and their permissions, who holds each, and accounts per role context."""

    template_name = "console/roles.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.require_tenant()
        self.require_action(tenant, "account.view")
        counts = selectors.role_holder_counts(tenant=tenant)
        holders = selectors.role_holders(tenant=tenant)
        chosen = self.request.GET.get("context", "")
        context.update(
            tenant=tenant,
            roles=[
                {"role": r, "count": counts.get(r.name, 0), "holders": holders.get(r.name, [])}
                for r in selectors.roles_of(tenant=tenant)
            ],
            context_names=selectors.role_context_names(tenant=tenant),
            chosen_context=chosen,
            context_rows=role_selectors.role_context_list_by_name(tenant=tenant, name=chosen)
            if chosen
            else [],
            may_manage=self.console.may("roles.manage"),
            create_form=kwargs.get("create_form") or RoleCreateForm(),
            now=timezone.now(),
        )
        return context


def _why(form) -> dict:
    return {
        "reason": form.cleaned_data.get("reason", ""),
        "ticket": form.cleaned_data.get("ticket", ""),
    }


class RoleWriteView(StaffRequiredMixin, View):
    """Create or delete a role, add or remove permissions: through the roles services."""

    def post(self, request, op):
        tenant = self.require_tenant()
        self.require_action(tenant, "roles.manage")
        actor = self.console.actor
        back = reverse("console:roles")
        try:
            if op == "create":
                form = RoleCreateForm(request.POST)
                if not form.is_valid():
                    view = RolesView()
                    view.setup(request)
                    view.console = self.console
                    return render(
                        request,
                        view.template_name,
                        view.get_context_data(create_form=form),
                        status=400,
                    )
                role_services.roles_create(
                    RolesCreate(
                        roles=(
                            RoleInput(
                                name=form.cleaned_data["name"],
                                permissions=tuple(form.cleaned_data["permissions"]),
                            ),
                        ),
                        **_why(form),
                    ),
                    tenant=tenant,
                    actor=actor,
                )
                messages.success(request, f"Role {form.cleaned_data['name']} created.")
            elif op in ("delete", "add_permissions", "remove_permissions"):
                form = RolePermissionsForm(request.POST)
                if not form.is_valid():
                    messages.error(
                        request,
                        "Name the role" + (" and the permissions." if op != "delete" else "."),
                    )
                    return redirect(back)
                name = form.cleaned_data["name"]
                if op == "delete":
                    if form.cleaned_data.get("confirm_name") != name:
                        messages.error(
                            request, f"Type {name} to confirm: the role was not deleted."
                        )
                        return redirect(back)
                    role_services.role_delete(
                        RoleDelete(name=name, **_why(form)), tenant=tenant, actor=actor
                    )
                    messages.success(request, f"Role {name} deleted.")
                else:
                    permissions = form.cleaned_data["permissions"]
                    if not permissions:
                        messages.error(request, "Give at least one permission.")
                        return redirect(back)
                    if op == "add_permissions":
                        role_services.role_permissions_add(
                            RolePermissionsAdd(
                                name=name, permissions=tuple(permissions), **_why(form)
                            ),
                            tenant=tenant,
                            actor=actor,
                        )
                    else:
                        role_services.role_permissions_remove(
                            RolePermissionsRemove(
                                name=name, permissions=tuple(permissions), **_why(form)
                            ),
                            tenant=tenant,
                            actor=actor,
                        )
                    messages.success(request, f"Permissions of {name} saved.")
            else:
                raise Http404("No such operation")
        except SERVICE_ERRORS as error:
            messages.error(request, f"Refused: {error_text(error)}")
        return redirect(back)

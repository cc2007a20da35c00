"""How a tenant's push-approval challenges reach devices (Admin): none, Firebase Cloud
Messaging with an uploaded service account, or a signed webhook to the tenant's relay.
The service account is never shown back; a webhook signing secret is shown once."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views import View

from portal.console.errors import SERVICE_ERRORS
from portal.console.push_forms import PushSettingsForm
from portal.console.views.tenants import AdminMixin
from security import services as security_services
from security.commands import PushNotifierSet


class PushSettingsView(AdminMixin, View):
    template_name = "console/push_settings.html"

    def _render(self, request, tenant, form, status=200):
        config = security_services.push_notifier_get(tenant=tenant)
        response = render(
            request,
            self.template_name,
            {"console": self.console, "tenant": tenant, "config": config, "form": form},
            status=status,
        )
        response["Cache-Control"] = "no-store"
        return response

    def get(self, request, slug):
        tenant = self.admin_tenant(slug)
        config = security_services.push_notifier_get(tenant=tenant)
        initial = {"kind": config.kind if config else "none"}
        if config is not None:
            initial["webhook_url"] = config.webhook_url
        return self._render(request, tenant, PushSettingsForm(initial=initial))

    def post(self, request, slug):
        tenant = self.admin_tenant(slug)
        form = PushSettingsForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, tenant, form, status=400)
        data = form.cleaned_data
        try:
            saved = security_services.push_notifier_set(
                PushNotifierSet(
                    kind=data["kind"],
                    service_account_json=form.service_account(),
                    webhook_url=data.get("webhook_url") or "",
                    new_secret=bool(data.get("new_secret")),
                    reason=data.get("reason") or "",
                    ticket=data.get("ticket") or "",
                ),
                tenant=tenant,
                actor=self.console.actor,
            )
        except SERVICE_ERRORS as error:
            field = getattr(error, "field", "")
            target = {"service_account": "service_account_json"}.get(field, field)
            message = error.sentence() if hasattr(error, "sentence") else str(error)
            form.add_error(target if target in form.fields else None, message)
            return self._render(request, tenant, form, status=400)
        if saved.webhook_secret:
            response = render(
                request,
                "console/push_secret.html",
                {
                    "console": self.console,
                    "tenant": tenant,
                    "config": saved.config,
                    "webhook_secret": saved.webhook_secret,
                },
            )
            response["Cache-Control"] = "no-store"
            return response
        messages.success(request, "Push notification settings saved.")
        return redirect("console:push_settings", tenant.slug)

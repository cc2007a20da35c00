"""Revealing an account's masked personal data: the reader gives a reason (a preset or their
own words), the reveal records one event (portal/personal_data.py), and the answer is the
account page with that account's values shown. Nothing is kept: the next page view masks
again, and the revealed page is sent with `Cache-Control: no-store`."""

from django.shortcuts import redirect, render
from django.urls import reverse

from portal.console import display
from portal.console.actions.base import ActionForm, error_text
from portal.console.errors import SERVICE_ERRORS
from portal.console.views.accounts import AccountDetailView
from portal.errors import InvalidInput
from portal.personal_data import PersonalDataReveal, account_personal_data_reveal
from portal.reason_presets import reason_preset_list


class RevealForm(ActionForm):
    """Only the reason (with the tenant's presets) and the ticket."""

    def setup(self) -> None:
        self.fields["reason"].help_text = "Written to the audit log with the reveal."


class AccountRevealView(AccountDetailView):
    """GET: the reason form (a dialog for htmx, else a page). POST: record, then the account
    page revealed for this one view."""

    page_template = "console/account_reveal.html"
    dialog_template = "console/inc/dialog_reveal.html"

    def _form(self, tenant, account, data=None):
        presets = list(reason_preset_list(tenant=tenant))
        initial = {"preset": presets[0].pk, "reason": presets[0].text} if presets else {}
        return RevealForm(data, initial=initial, account=account, tenant=tenant, presets=presets)

    def _ask(self, request, tenant, account, form, *, status=200):
        htmx = request.htmx
        dialog = bool(htmx) and not htmx.boosted and not htmx.history_restore_request
        if form.is_bound:
            form.describe_errors()
        return render(
            request,
            self.dialog_template if dialog else self.page_template,
            {
                "console": self.console,
                "tenant": tenant,
                "account": account,
                "form": form,
                "preset_options": form.preset_options(),
                "in_dialog": dialog,
                "detail_url": reverse("console:account_detail", args=[tenant.slug, account.uid]),
                "reveal_url": reverse("console:account_reveal", args=[tenant.slug, account.uid]),
            },
            status=status,
        )

    def get(self, request, *args, **kwargs):
        tenant, account = self.load_account(kwargs["slug"], kwargs["uid"])
        if not display.current_masking().masked:
            return redirect("console:account_detail", tenant.slug, account.uid)
        return self._ask(request, tenant, account, self._form(tenant, account))

    def post(self, request, *args, **kwargs):
        tenant, account = self.load_account(kwargs["slug"], kwargs["uid"])
        if not display.current_masking().masked:
            return redirect("console:account_detail", tenant.slug, account.uid)
        form = self._form(tenant, account, data=request.POST)
        if not form.is_valid():
            return self._ask(request, tenant, account, form, status=400)
        try:
            account_personal_data_reveal(
                PersonalDataReveal(
                    reason=form.cleaned_data["reason"], ticket=form.cleaned_data["ticket"]
                ),
                tenant=tenant,
                actor=self.console.actor,
                account=account,
            )
        except SERVICE_ERRORS as error:
            if isinstance(error, InvalidInput) and error.field_errors:
                for item in error.field_errors:
                    form.add_error(item.field if item.field in form.fields else None, item.message)
            else:
                form.add_error(None, error_text(error))
            return self._ask(request, tenant, account, form, status=409)
        context = self.get_context_data(**kwargs)
        context["revealed"] = True
        # This answer only: the policy bound for this request (rendered before it ends) shows
        # the account's values; nothing is kept for a later page.
        display.set_masking(display.current_masking().revealing(display.personal_values(account)))
        response = self.render_to_response(context)
        response["Cache-Control"] = "no-store"
        return response

    def get_template_names(self):
        return [self.template_name]

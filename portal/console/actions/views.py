"""The page (or, asked by htmx from the account page, the dialog) of one account action.

Without script: ask what the action needs, a reason and a ticket; repeat it back for
confirmation; then run the section's service. In a dialog the dialog itself is the
confirmation (it says what will happen, to whom), so its one submit runs the action and the
answer sends the browser back to the account page (`HX-Redirect`). A refused or invalid
request changes nothing, either way."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django_htmx.http import HttpResponseClientRedirect

from portal.console.actions import ACTIONS, Ctx, Secret, error_text
from portal.console.actions.base import Held
from portal.console.actions.consequences import consequence
from portal.console.errors import SERVICE_ERRORS
from portal.console.views.accounts import AccountMixin
from portal.reason_presets import reason_preset_list

# The ticket of the last action done in this sign-in, offered again: support work on one
# ticket often takes several actions. Logging out clears the session, and with it this.
LAST_TICKET_SESSION_KEY = "console_last_ticket"


class AccountActionView(AccountMixin, View):
    template_name = "console/account_action.html"
    dialog_template_name = "console/inc/dialog_action.html"

    def setup_action(self, slug, uid, action):
        spec = ACTIONS.get(action)
        if spec is None:
            raise Http404("No such action")
        tenant, account = self.load_account(slug, uid)
        self.require_on_account(tenant, spec.permission, account.uid)
        return spec, tenant, account

    def in_dialog(self, request) -> bool:
        htmx = request.htmx
        return bool(htmx) and not htmx.boosted and not htmx.history_restore_request

    def _form(self, spec, tenant, account, data=None, initial=None):
        return spec.form(
            data,
            initial=initial,
            account=account,
            tenant=tenant,
            presets=list(reason_preset_list(tenant=tenant)),
        )

    def _render(
        self, request, spec, tenant, account, form, *, confirming=False, status=200, initial=None
    ):
        dialog = self.in_dialog(request)
        if form.is_bound:
            form.describe_errors()
        context = {
            "console": self.console,
            "spec": spec,
            "action": spec.name,
            "tenant": tenant,
            "account": account,
            "form": form,
            "confirming": confirming,
            "summary": form.summary() if confirming else [],
            "preset_options": form.preset_options(),
            "in_dialog": dialog,
            "consequence": consequence(
                action=spec.name, account=account, initial=initial or _chosen(form)
            ),
            "detail_url": reverse("console:account_detail", args=[tenant.slug, account.uid]),
            "action_url": reverse(
                "console:account_action", args=[tenant.slug, account.uid, spec.name]
            ),
        }
        template = self.dialog_template_name if dialog else self.template_name
        return render(request, template, context, status=status)

    def _notice(
        self,
        request,
        *,
        title: str,
        text: str,
        detail_url: str,
        status: int = 200,
        link_text: str = "Reload the account",
    ):
        """A dialog that only tells (the action no longer applies, was refused or waits)."""
        return render(
            request,
            "console/inc/dialog_notice.html",
            {"title": title, "text": text, "detail_url": detail_url, "link_text": link_text},
            status=status,
        )

    def get(self, request, slug, uid, action):
        spec, tenant, account = self.setup_action(slug, uid, action)
        detail_url = reverse("console:account_detail", args=[tenant.slug, account.uid])
        if not spec.applies(account):
            if self.in_dialog(request):
                return self._notice(
                    request, title=spec.title, text=spec.not_applicable, detail_url=detail_url
                )
            messages.warning(request, spec.not_applicable)
            return redirect(detail_url)
        initial = spec.initial(account=account, query=request.GET)
        remembered = request.session.get(LAST_TICKET_SESSION_KEY)
        if remembered and "ticket" not in initial:
            initial["ticket"] = remembered
        presets = list(reason_preset_list(tenant=tenant))
        if presets and not initial.get("reason"):
            # The tenant's first preset comes picked (still editable or changeable): a common
            # case is then one click to confirm.
            initial.update(preset=presets[0].pk, reason=presets[0].text)
        form = spec.form(None, initial=initial, account=account, tenant=tenant, presets=presets)
        return self._render(request, spec, tenant, account, form, initial=initial)

    def post(self, request, slug, uid, action):
        spec, tenant, account = self.setup_action(slug, uid, action)
        detail_url = reverse("console:account_detail", args=[tenant.slug, account.uid])
        dialog = self.in_dialog(request)
        if not spec.applies(account):
            if dialog:
                return self._notice(
                    request,
                    title=spec.title,
                    text=f"{spec.not_applicable} Nothing was changed.",
                    detail_url=detail_url,
                    status=409,
                )
            messages.warning(request, spec.not_applicable)
            return redirect(detail_url)
        form = self._form(spec, tenant, account, data=request.POST)
        if not form.is_valid():
            return self._render(request, spec, tenant, account, form, status=400)
        if not form.cleaned_data["confirmed"]:
            return self._render(request, spec, tenant, account, form, confirming=True)
        ctx = Ctx(
            tenant=tenant,
            account=account,
            actor=self.console.actor,
            data=form.run_data(),
            reason=form.cleaned_data["reason"],
            ticket=form.cleaned_data["ticket"],
        )
        try:
            outcome = spec.run(ctx)
        except Held as held:
            if ctx.ticket:
                request.session[LAST_TICKET_SESSION_KEY] = ctx.ticket
            waiting = reverse("console:approval_detail", args=[tenant.slug, held.request.pk])
            text = (
                f"{spec.title} needs a second person on this tenant: it was sent for approval "
                f"as request #{held.request.pk} and runs once someone else approves it."
            )
            if dialog:
                return self._notice(
                    request,
                    title="Sent for approval",
                    text=text,
                    detail_url=waiting,
                    status=202,
                    link_text="Open the request",
                )
            messages.info(request, text)
            return redirect(waiting)
        except SERVICE_ERRORS as error:
            refused = f"{spec.title} was refused: {error_text(error)}"
            if dialog:
                form.add_error(None, f"{refused} Nothing was changed.")
                return self._render(request, spec, tenant, account, form, status=409)
            messages.error(request, refused)
            return redirect(detail_url)
        if ctx.ticket:
            request.session[LAST_TICKET_SESSION_KEY] = ctx.ticket
        messages.success(request, spec.done)
        if isinstance(outcome, Secret):
            response = self._secret(request, tenant, account, outcome, dialog=dialog)
            response["Cache-Control"] = "no-store"
            return response
        after = reverse("console:account_search") if spec.after_url == "search" else detail_url
        if dialog:
            return HttpResponseClientRedirect(after)
        return redirect(after)

    def _secret(self, request, tenant, account, secret: Secret, *, dialog: bool) -> HttpResponse:
        """The one answer that shows what is shown once: in the dialog, or as a page."""
        template = "console/inc/dialog_secret.html" if dialog else "console/account_secret.html"
        return render(
            request,
            template,
            {
                "console": self.console,
                "tenant": tenant,
                "account": account,
                "secret": secret,
                "detail_url": reverse("console:account_detail", args=[tenant.slug, account.uid]),
            },
        )


def _chosen(form) -> dict:
    """The targets a bound form names (the session, the factor), for the specifics."""
    if not form.is_bound:
        return dict(form.initial)
    return {name: form.data.get(name) for name in ("session", "factor", "passkey")}

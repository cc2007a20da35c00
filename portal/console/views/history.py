"""An account's history put to use: the profile as it was at a past time, folded from its
events (read only), and restoring a value an event changed, which runs the reverse change as
a new command (with a reason, under the tenant's approval policy) and records its own event."""

from datetime import UTC

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from accounts import services as account_services
from accounts.history import RESTORABLE, profile_as_of, restore_changes
from portal.console.actions.base import Ctx, Held, error_text, run_or_hold
from portal.console.errors import SERVICE_ERRORS
from portal.console.forms import ReasonForm
from portal.console.views.accounts import AccountMixin
from portal.models import AuditEvent


class AsOfForm(forms.Form):
    at = forms.DateTimeField(
        label="As of (UTC)",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
    )


class AccountAsOfView(AccountMixin, View):
    """GET ?at=<time>: the fields the account's events left at that time (read only)."""

    def get(self, request, slug, uid):
        tenant, account = self.load_account(slug, uid)
        form = AsOfForm(request.GET or None)
        fields = None
        moment = None
        if form.is_bound and form.is_valid():
            moment = form.cleaned_data["at"].replace(tzinfo=UTC)
            state = profile_as_of(tenant=tenant, uid=account.uid, moment=moment)
            folded = state.pop("_events")
            fields = {"rows": sorted(state.items()), "events": folded}
        response = render(
            request,
            "console/account_as_of.html",
            {
                "console": self.console,
                "tenant": tenant,
                "account": account,
                "form": form,
                "fields": fields,
                "moment": moment,
                "detail_url": reverse("console:account_detail", args=[tenant.slug, account.uid]),
            },
        )
        response["Cache-Control"] = "no-store"
        return response


class AccountRestoreView(AccountMixin, View):
    """Put back the value event `event_id` replaced in `field`: confirm with a reason, then
    run the reverse `AccountChanges` (held for approval where the tenant's policy says)."""

    def _load(self, slug, uid, event_id, field):
        tenant, account = self.load_account(slug, uid)
        self.require_on_account(tenant, "account.edit", account.uid)
        event = AuditEvent.objects.filter(
            tenant=tenant, pk=event_id, subject_uid=account.uid
        ).first()
        pair = event.diff.get(field) if event is not None and isinstance(event.diff, dict) else None
        if field not in RESTORABLE or not (isinstance(pair, list) and len(pair) == 2):
            raise Http404("No such change")
        return tenant, account, event, pair

    def _page(self, request, tenant, account, event, field, pair, form, status=200):
        return render(
            request,
            "console/account_restore.html",
            {
                "console": self.console,
                "tenant": tenant,
                "account": account,
                "event": event,
                "field": field,
                "before": pair[0],
                "after": pair[1],
                "form": form,
                "detail_url": reverse("console:account_detail", args=[tenant.slug, account.uid]),
            },
            status=status,
        )

    def get(self, request, slug, uid, event_id, field):
        tenant, account, event, pair = self._load(slug, uid, event_id, field)
        form = ReasonForm(initial={"reason": f"Restore {field} from event {event.pk}"})
        return self._page(request, tenant, account, event, field, pair, form)

    def post(self, request, slug, uid, event_id, field):
        tenant, account, event, pair = self._load(slug, uid, event_id, field)
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return self._page(request, tenant, account, event, field, pair, form, status=400)
        reason, ticket = form.cleaned_data["reason"], form.cleaned_data.get("ticket", "")
        detail = reverse("console:account_detail", args=[tenant.slug, account.uid])
        try:
            command = restore_changes(
                tenant=tenant,
                uid=account.uid,
                event_id=event.pk,
                field=field,
                reason=reason,
                ticket=ticket,
            )
            ctx = Ctx(
                tenant=tenant,
                account=account,
                actor=self.console.actor,
                data={},
                reason=reason,
                ticket=ticket,
            )
            run_or_hold(ctx, account_services.account_update, command)
        except Held as held:
            messages.info(
                request, f"The restore was sent for approval as request #{held.request.pk}."
            )
            return redirect("console:approval_detail", tenant.slug, held.request.pk)
        except SERVICE_ERRORS as refused:
            message = error_text(refused)
            form.add_error(None, f"The restore was refused: {message} Nothing was changed.")
            return self._page(request, tenant, account, event, field, pair, form, status=409)
        messages.success(request, f"{field} restored.")
        return redirect(detail)

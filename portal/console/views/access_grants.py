"""Time-boxed access in the console: the tenant's live grants, a Lead's grant to a staff
member for a ticket, break-glass access to oneself, and ending a grant early. The rules
(who may grant, how long, the reason and ticket) are the service's (portal/access_grants.py)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from portal import access_grants, staff
from portal.console.access import StaffRequiredMixin
from portal.console.actions.base import error_text
from portal.console.errors import SERVICE_ERRORS
from portal.errors import InvalidInput
from portal.tenant_commands import AccessGrantCreate, AccessGrantRevoke, BreakGlassGrant

SCOPES = [("act", "View and act (an Agent's actions)"), ("view", "View only")]


def _uids(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.replace(",", " ").split() if part)


class GrantForm(forms.Form):
    user = forms.ChoiceField(label="Staff member")
    uids = forms.CharField(label="Account UIDs", help_text="One or more, separated by spaces.")
    scope = forms.ChoiceField(label="Access", choices=SCOPES)
    ends_at = forms.DateTimeField(
        label="Until (UTC)",
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Date and time in UTC.",
    )
    ticket = forms.CharField(label="Ticket", max_length=200)
    reason = forms.CharField(
        label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(str(u.pk), u.get_username()) for u in people]


class BreakGlassForm(forms.Form):
    uids = forms.CharField(label="Account UIDs", help_text="One or more, separated by spaces.")
    scope = forms.ChoiceField(label="Access", choices=SCOPES)
    minutes = forms.IntegerField(label="Minutes", min_value=1)
    ticket = forms.CharField(label="Ticket", max_length=200, required=False)
    reason = forms.CharField(
        label="Reason (required; the admins are told)",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _refused(form: forms.Form, error) -> None:
    if isinstance(error, InvalidInput) and error.field_errors:
        for item in error.field_errors:
            field = {"user_id": "user"}.get(item.field, item.field)
            form.add_error(field if field in form.fields else None, item.message)
        return
    form.add_error(None, error_text(error))


class AccessGrantsView(StaffRequiredMixin, View):
    template_name = "console/access_grants.html"

    def _page(self, request, tenant, *, grant_form=None, glass_form=None, status=200):
        people = [u for u in staff.staff_users() if u.pk != request.user.pk]
        may_grant = staff.staff_may(user=request.user, tenant=tenant, action="access.grant")
        return render(
            request,
            self.template_name,
            {
                "console": self.console,
                "tenant": tenant,
                "grants": list(access_grants.live_grants(tenant=tenant).order_by("ends_at")),
                "mine": list(access_grants.live_grants(tenant=tenant, user=request.user)),
                "may_grant": may_grant,
                "grant_form": grant_form or GrantForm(people=people),
                "glass_allowed": bool(tenant.setting("break_glass_allowed")),
                "glass_form": glass_form or BreakGlassForm(),
                "now": timezone.now(),
            },
            status=status,
        )

    def get(self, request):
        return self._page(request, self.require_tenant())

    def post(self, request):
        tenant = self.require_tenant()
        self.require_role(staff.AGENT, "give or take time-boxed access")
        op = request.POST.get("op")
        if op == "grant":
            self.require_action(tenant, "access.grant")
        try:
            if op == "grant":
                people = [u for u in staff.staff_users() if u.pk != request.user.pk]
                form = GrantForm(request.POST, people=people)
                if not form.is_valid():
                    return self._page(request, tenant, grant_form=form, status=400)
                data = form.cleaned_data
                access_grants.access_grant_create(
                    AccessGrantCreate(
                        user_id=int(data["user"]),
                        uids=_uids(data["uids"]),
                        scope=data["scope"],
                        ends_at=data["ends_at"],
                        ticket=data["ticket"],
                        reason=data["reason"],
                    ),
                    tenant=tenant,
                    granter=request.user,
                )
                messages.success(request, "Access granted.")
            elif op == "break_glass":
                form = BreakGlassForm(request.POST)
                if not form.is_valid():
                    return self._page(request, tenant, glass_form=form, status=400)
                data = form.cleaned_data
                access_grants.break_glass_grant(
                    BreakGlassGrant(
                        uids=_uids(data["uids"]),
                        scope=data["scope"],
                        minutes=data["minutes"],
                        reason=data["reason"],
                        ticket=data["ticket"],
                    ),
                    tenant=tenant,
                    user=request.user,
                )
                messages.warning(request, "Break-glass access taken; the admins are told.")
            elif op == "revoke":
                access_grants.access_grant_revoke(
                    AccessGrantRevoke(
                        grant_id=int(request.POST.get("grant") or 0),
                        reason=(request.POST.get("reason") or "").strip(),
                    ),
                    tenant=tenant,
                    user=request.user,
                )
                messages.success(request, "Grant ended.")
            else:
                messages.error(request, "Choose grant, break-glass or end.")
        except SERVICE_ERRORS as refused:
            if op == "grant":
                _refused(form, refused)
                return self._page(request, tenant, grant_form=form, status=409)
            if op == "break_glass":
                _refused(form, refused)
                return self._page(request, tenant, glass_form=form, status=409)
            messages.error(request, error_text(refused))
        except ValueError:
            messages.error(request, "No such grant.")
        return redirect("console:access_grants")

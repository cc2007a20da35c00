"""Guided recovery in the console: open a case for a holder who lost access, walk through
the checks the tenant asks for, then run (or schedule) the reset or email change. The
rules are the service's (security.services.recovery); these screens collect the agent's
input and say what happened."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View

from approvals.models import ApprovalRequest
from portal import access_grants, tenant_settings
from portal.audit import Actor
from portal.console.views.accounts import AccountMixin
from portal.errors import DomainError
from security.commands import (
    RecoveryAttest,
    RecoveryCaseClose,
    RecoveryCaseOpen,
    RecoveryCodeSend,
    RecoveryProceed,
)
from security.errors import RecoveryCaseNotFound
from security.models import RecoveryCase, SecurityAnswer
from security.services import FACTORS
from security.services.recovery import (
    PURPOSE_ACTIONS,
    recovery_answers_verify,
    recovery_attest,
    recovery_case_close,
    recovery_case_events,
    recovery_case_get,
    recovery_case_open,
    recovery_case_proceed,
    recovery_channels,
    recovery_code_send,
    recovery_code_verify,
)

CHECK_LABELS = dict(tenant_settings.RECOVERY_CHECKS)
STATUS_WORDS = {
    RecoveryCase.OPEN: "Checks under way",
    RecoveryCase.SCHEDULED: "Scheduled: the holder may still cancel",
    RecoveryCase.HELD: "Waiting for a second person's approval",
    RecoveryCase.DONE: "Done",
    RecoveryCase.CANCELLED: "Cancelled",
    RecoveryCase.FAILED: "Refused when it ran",
}


class RecoveryOpenForm(forms.Form):
    purpose = forms.ChoiceField(label="What the holder needs", choices=RecoveryCase.PURPOSES)
    factor = forms.ChoiceField(
        label="Second factor to reset",
        required=False,
        choices=[("", "—")] + [(f, f) for f in FACTORS],
        help_text="For a factor reset.",
    )
    new_email = forms.EmailField(
        label="New primary email", required=False, help_text="For an email change."
    )
    reason = forms.CharField(label="Reason", max_length=500)
    ticket = forms.CharField(label="Ticket", max_length=200, required=False)


class RecoveryStartView(AccountMixin, View):
    """The account's recovery: its cases and a form to open one."""

    template_name = "console/recovery/recovery_start.html"

    def load(self, slug: str, uid: str):
        tenant, account = self.load_account(slug, uid)
        user = self.request.user
        if not any(
            access_grants.staff_may_on_account(user=user, tenant=tenant, action=action, uid=uid)
            for action in PURPOSE_ACTIONS.values()
        ):
            self.require_action(tenant, "security.reset")
        return tenant, account

    def _render(self, request, tenant, account, form, status=200):
        cases = RecoveryCase.objects.filter(tenant=tenant, account=account).order_by("-id")[:20]
        chosen = tenant.setting("recovery_checks")
        context = {
            "console": self.console,
            "tenant": tenant,
            "account": account,
            "form": form,
            "cases": cases,
            "status_words": STATUS_WORDS,
            "checks": [CHECK_LABELS[c] for c in CHECK_LABELS if c in (chosen or ["code"])],
            "cooling_hours": int(tenant.setting("recovery_cooling_off_hours")),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, slug, uid):
        tenant, account = self.load(slug, uid)
        return self._render(request, tenant, account, RecoveryOpenForm())

    def post(self, request, slug, uid):
        tenant, account = self.load(slug, uid)
        form = RecoveryOpenForm(request.POST)
        if not form.is_valid():
            return self._render(request, tenant, account, form, status=400)
        data = form.cleaned_data
        self.require_on_account(tenant, PURPOSE_ACTIONS[data["purpose"]], account.uid)
        try:
            case = recovery_case_open(
                RecoveryCaseOpen(
                    purpose=data["purpose"],
                    factor=data["factor"] or "",
                    new_email=data["new_email"] or "",
                    reason=data["reason"],
                    ticket=data["ticket"] or "",
                ),
                tenant=tenant,
                actor=Actor.staff(request.user),
                account=account,
            )
        except DomainError as refused:
            for item in refused.field_errors:
                if item.field in form.fields:
                    form.add_error(item.field, item.message)
            if not refused.field_errors:
                form.add_error(None, refused.sentence())
            return self._render(request, tenant, account, form, status=400)
        return redirect("console:recovery_case", tenant.slug, case.pk)


class RecoveryCaseView(AccountMixin, View):
    """One case: the checks, each with what it needs, and what happens after them."""

    template_name = "console/recovery/recovery_case.html"

    def load(self, slug: str, pk: int):
        tenant = self.tenant_from_slug(slug)
        try:
            case = recovery_case_get(tenant=tenant, case_id=pk)
        except RecoveryCaseNotFound as missing:
            raise Http404 from missing
        self.account_tenant(slug, case.account.uid)
        self.require_on_account(tenant, PURPOSE_ACTIONS[case.purpose], case.account.uid)
        return tenant, case

    def get(self, request, slug, pk):
        tenant, case = self.load(slug, pk)
        return self._render(request, tenant, case)

    def _render(self, request, tenant, case, status=200):
        account = case.account
        checks = [
            {
                "name": name,
                "label": CHECK_LABELS[name],
                "passed": case.checks_passed.get(name),
                "at": str((case.checks_passed.get(name) or {}).get("at", ""))[:16].replace(
                    "T", " "
                ),
            }
            for name in case.checks_required
        ]
        context = {
            "console": self.console,
            "tenant": tenant,
            "case": case,
            "account": account,
            "checks": checks,
            "all_passed": all(c["passed"] for c in checks),
            "status_words": STATUS_WORDS,
            "channels": recovery_channels(account=account),
            "questions": list(
                SecurityAnswer.objects.filter(account=account)
                .order_by("question_id")
                .values_list("question_id", flat=True)
            ),
            "events": recovery_case_events(case),
            "attempts_left": max(
                0, int(tenant.setting("recovery_check_attempts")) - case.code_attempts
            ),
            "answer_attempts_left": max(
                0, int(tenant.setting("recovery_check_attempts")) - case.answer_attempts
            ),
            "cooling_hours": int(tenant.setting("recovery_cooling_off_hours")),
            # A held change ran (or not) when the approval was decided: say which.
            "approval": ApprovalRequest.objects.filter(tenant=tenant, pk=case.approval_id).first()
            if case.approval_id
            else None,
        }
        return render(request, self.template_name, context, status=status)

    def post(self, request, slug, pk):
        tenant, case = self.load(slug, pk)
        actor = Actor.staff(request.user)
        step = request.POST.get("step", "")
        data = request.POST
        try:
            if step == "send_code":
                recovery_code_send(
                    RecoveryCodeSend(case_id=case.pk, channel=data.get("channel", "")),
                    tenant=tenant,
                    actor=actor,
                )
                messages.success(request, "Code sent. Ask the holder to read it back.")
            elif step == "verify_code":
                ok = recovery_code_verify(
                    tenant=tenant, actor=actor, case_id=case.pk, code=data.get("code", "")
                )
                self._said(request, ok, "The code matches.", "That code does not match.")
            elif step == "answers":
                answers = {
                    key.removeprefix("answer-"): value
                    for key, value in data.items()
                    if key.startswith("answer-")
                }
                ok = recovery_answers_verify(
                    tenant=tenant, actor=actor, case_id=case.pk, answers=answers
                )
                self._said(request, ok, "The answers match.", "The answers do not match.")
            elif step in ("document", "callback"):
                recovery_attest(
                    RecoveryAttest(
                        case_id=case.pk,
                        check=step,
                        reference=data.get("reference", ""),
                        phone=data.get("phone", ""),
                        confirmed=data.get("confirmed") == "on",
                    ),
                    tenant=tenant,
                    actor=actor,
                )
                messages.success(request, "Recorded.")
            elif step == "proceed":
                done = recovery_case_proceed(
                    RecoveryProceed(case_id=case.pk), tenant=tenant, actor=actor
                )
                messages.success(request, f"{STATUS_WORDS[done.status]}.")
            elif step == "close":
                recovery_case_close(
                    RecoveryCaseClose(case_id=case.pk, reason=data.get("reason", "")),
                    tenant=tenant,
                    actor=actor,
                )
                messages.success(request, "Case closed: nothing will run.")
            else:
                messages.error(request, "Choose a step of the recovery.")
        except DomainError as refused:
            messages.error(request, refused.sentence())
        return redirect("console:recovery_case", tenant.slug, case.pk)

    @staticmethod
    def _said(request, ok: bool, yes: str, no: str) -> None:
        if ok:
            messages.success(request, yes)
        else:
            messages.error(request, no)

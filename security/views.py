"""The account holder's page to stop a scheduled recovery change (the link of their
notice; no staff sign-in). Opening the link only shows what would stop: mail scanners
fetch links, so only the page's POST cancels, once (security.services.recovery)."""

from django.shortcuts import render
from django.views import View

from portal.staff_session import apply_security_headers
from security.errors import RecoveryCancelRefused
from security.services.recovery import (
    recovery_case_by_cancel_token,
    recovery_case_cancel,
    recovery_change_text,
)

TEMPLATE = "security/recovery_cancel.html"


def _answer(request, context: dict, status: int = 200):
    response = render(request, TEMPLATE, context, status=status)
    # The token is in the address: keep it out of caches and of other sites' Referer
    # ("no-referrer" would also blank the Origin the page's own POST needs for CSRF).
    response["Referrer-Policy"] = "same-origin"
    return apply_security_headers(response)


class RecoveryCancelView(View):
    def get(self, request):
        token = request.GET.get("token", "")
        case = recovery_case_by_cancel_token(token)
        if case is None:
            return _answer(request, {"state": "refused"}, status=404)
        return _answer(
            request,
            {
                "state": "confirm",
                "token": token,
                "application": case.tenant.name,
                "change": recovery_change_text(case),
                "due": case.due_at,
            },
        )

    def post(self, request):
        try:
            case = recovery_case_cancel(token=request.POST.get("token", ""))
        except RecoveryCancelRefused:
            return _answer(request, {"state": "refused"}, status=409)
        return _answer(request, {"state": "cancelled", "application": case.tenant.name})

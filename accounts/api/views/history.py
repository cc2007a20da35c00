"""An account's privacy-policy acceptances (by UID and by access token) and consent logs."""

from drf_spectacular.utils import extend_schema

from accounts import selectors
from accounts.api import schema as s
from accounts.api.views.common import TAG, UID, AccountsView
from portal.lrapi.views import LRAPIView


class AccountPrivacyPolicyHistoryView(AccountsView):
    @extend_schema(
        tags=TAG,
        operation_id="getPrivacyPolicyHistoryByUid",
        summary="Privacy policy acceptances",
        parameters=[UID],
        responses=s.PRIVACY_HISTORY,
    )
    def get(self, request, uid):
        account = self.account(uid)
        return self.respond(selectors.privacy_policy_history(tenant=self.tenant, account=account))


class AccountConsentLogsView(AccountsView):
    @extend_schema(
        tags=["Consent Management"],
        operation_id="getConsentLogsByUid",
        summary="Consent logs",
        parameters=[UID],
        responses=s.CONSENT_LOGS,
    )
    def get(self, request, uid):
        account = self.account(uid)
        return self.respond(selectors.consent_logs(tenant=self.tenant, account=account))


class AuthPrivacyPolicyHistoryView(LRAPIView):
    """Token side: the signed-in account's privacy-policy acceptances."""

    section = "accounts"
    auth_mode = "access_token"

    @extend_schema(
        tags=["Authentication"],
        operation_id="authPrivacyPolicyHistory",
        summary="My privacy policy acceptances",
        parameters=[s.query("access_token", "Access token (or Authorization: Bearer).")],
        responses=s.PRIVACY_HISTORY,
    )
    def get(self, request):
        return self.respond(
            selectors.privacy_policy_history(tenant=self.tenant, account=self.account)
        )

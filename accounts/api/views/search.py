"""Every account using an email (LoginRadius). The native search is
accounts/api/native_accounts_list.py."""

from drf_spectacular.utils import extend_schema

from accounts import selectors
from accounts.api import schema as s
from accounts.api.views.common import TAG, AccountsView
from accounts.selectors import account_profile


class AccountIdentitiesByEmailView(AccountsView):
    @extend_schema(
        tags=TAG,
        operation_id="getIdentities",
        summary="Every account using an email",
        parameters=[s.query("email", "Email.", required=True), s.FIELDS],
        responses=s.IDENTITIES,
    )
    def get(self, request):
        accounts = selectors.accounts_by_email(
            tenant=self.tenant, email=self.query.get_plus_preserving("email")
        )
        profiles = [account_profile(account=a) for a in accounts]
        fields = self.query.get("fields")
        if fields:
            from portal.lrapi.projection import apply_fields

            profiles = [apply_fields(p, fields) for p in profiles]
        return self.respond({"Data": profiles}, project=False)

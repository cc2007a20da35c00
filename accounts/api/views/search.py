"""Lists of accounts: every account using an email (LoginRadius) and the native search
with an exact count and cursor pagination."""

from drf_spectacular.utils import extend_schema
from rest_framework.pagination import CursorPagination

from accounts import selectors
from accounts.api import schema as s
from accounts.api.views.common import TAG, AccountsView
from accounts.models import Account
from accounts.selectors import account_profile
from portal.lrapi.errors import LRError
from portal.lrapi.views import LRAPIView
from security import selectors as security_selectors


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


class AccountCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def account_summary(account: Account) -> dict:
    emails = selectors.account_email_rows(account)
    return {
        "uid": account.uid,
        "emails": [
            {"type": e["type"], "value": e["value"], "verified": e["verified"]} for e in emails
        ],
        "username": account.username,
        "phone": account.phone_id,
        "first_name": account.first_name,
        "last_name": account.last_name,
        "full_name": account.full_name,
        "blocked": not account.is_active,
        "locked": security_selectors.login_lock_active(account=account),
        "email_verified": account.email_verified,
        "phone_verified": account.phone_id_verified,
        "created": account.created.isoformat(),
        "last_login": account.last_login_date.isoformat() if account.last_login_date else None,
    }


class AccountSearchView(LRAPIView):
    """Native account search with an exact total count and cursor pagination."""

    section = "accounts"

    @extend_schema(
        tags=["Native"],
        operation_id="accounts_search",
        summary="Search accounts",
        parameters=[
            s.query("search", "Substring of a name, email, username, phone or UID."),
            s.query("email", "Email (exact, any case)."),
            s.query("email_prefix", "The start of an email (any case)."),
            s.query("phone", "Phone id (E.164)."),
            s.query("username", "Username (exact, any case)."),
            s.query("uid", "UID."),
            s.query("blocked", "true/false.", type_=bool),
            s.query("locked", "true/false.", type_=bool),
            s.query("verified", "Email verified: true/false.", type_=bool),
            s.query(
                "has_mfa",
                "Has a second factor (TOTP, SMS or email OTP, security questions, push): true/false.",
                type_=bool,
            ),
            s.query("role", "Holds this role directly (exact name)."),
            s.query("created_after", "ISO-8601 date-time (inclusive)."),
            s.query("created_before", "ISO-8601 date-time (exclusive)."),
            s.query("cursor", "Opaque cursor from next/previous."),
            s.query("page_size", "1 to 200 (default 50).", type_=int),
        ],
        responses=s.SEARCH_RESULT,
    )
    def get(self, request):
        queryset = selectors.account_search(tenant=self.tenant, params=request.query_params)
        paginator = AccountCursorPagination()
        try:
            with selectors.custom_plans(needed="email_prefix" in request.query_params):
                count = queryset.count()
                page = paginator.paginate_queryset(
                    selectors.accounts_with_emails(
                        security_selectors.accounts_with_lockout(queryset)
                    ),
                    request,
                    view=self,
                )
        except Exception as exc:  # a cursor that does not decode
            from rest_framework.exceptions import NotFound

            if isinstance(exc, NotFound):
                raise LRError(
                    1134, errors=[{"FieldName": "cursor", "ErrorMessage": "The cursor is invalid."}]
                ) from exc
            raise
        return self.respond(
            {
                "count": count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": [account_summary(a) for a in page],
            }
        )

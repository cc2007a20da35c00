"""The tenant's accounts as a native collection (docs/api.md): `GET /api/v1/accounts`
searches them, `POST` creates one.

The search takes the filters of accounts.filters (shared with bulk jobs and the console);
any other query parameter answers 400, so a typo never lists every account. Each result is
the account resource `GET /api/v1/accounts/{uid}` answers, newest first after an `after`
cursor, with an exact count: one query for the page (its emails, identities and the
sections' fields loaded with it on PostgreSQL) and one for the count.

A new account is the `AccountCreate` command the LoginRadius `POST
/identity/v2/manage/account` and the console build, read from a snake_case body.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api.native_account import ACCOUNT_EXAMPLE, ACCOUNT_SCHEMA, account_representation
from accounts.api.native_account_input import NativeNames, account_create_from_body
from accounts.filters import AccountFilter
from portal.api.native import (
    AFTER,
    PAGE_SIZE,
    REASON,
    TICKET,
    NativeAPIView,
    after_of,
    etag_of,
    list_example,
    list_of,
    page_body,
    page_size_of,
    query_parameter,
    reason_and_ticket,
)
from portal.errors import DomainError

TAG = ["Accounts (native)"]
FILTERS = tuple(AccountFilter.base_filters)
_FILTER_HELP = {
    "created_after": "RFC 3339 date-time (inclusive).",
    "created_before": "RFC 3339 date-time (exclusive).",
}
_FILTER_PARAMETERS = [
    query_parameter(name, _FILTER_HELP.get(name) or str(f.extra.get("help_text") or name))
    for name, f in AccountFilter.base_filters.items()
]
_CREATE = inline_serializer(
    "NativeAccountInput",
    {
        "uid": serializers.CharField(required=False),
        "username": serializers.CharField(required=False),
        "first_name": serializers.CharField(required=False),
        "middle_name": serializers.CharField(required=False),
        "last_name": serializers.CharField(required=False),
        "emails": serializers.ListField(
            child=inline_serializer(
                "NativeAccountInputEmail",
                {
                    "value": serializers.EmailField(),
                    "type": serializers.CharField(),
                    "verified": serializers.BooleanField(required=False),
                },
            ),
            required=False,
        ),
        "phone": serializers.CharField(required=False),
        "password": serializers.CharField(required=False),
        "custom_fields": serializers.DictField(required=False),
    },
)

_CREATE_EXAMPLE = {
    "username": "annl",
    "first_name": "Ann",
    "last_name": "Lee",
    "emails": [{"value": "ann@example.com", "type": "Primary", "verified": True}],
    "phone": "+14155552671",
    "password": "correct-horse-battery-42",
    "custom_fields": {"plan": "gold"},
}


# Filters whose generic plan cannot use their index for every value (`LIKE $1`: a prefix
# or a substring), so PostgreSQL plans them for the value at hand.
PLANNED_PER_VALUE = frozenset({"email_prefix", "search"})


class NativeAccountListView(NativeAPIView):
    """Search the tenant's accounts; create one."""

    section = "accounts"
    query_parameters = (*FILTERS, "after", "page_size")

    @extend_schema(
        tags=TAG,
        operation_id="native_accounts_list",
        summary="Search accounts",
        description="Newest first. Filters combine (all must match); an unknown parameter "
        "answers 400.",
        parameters=[*_FILTER_PARAMETERS, AFTER, PAGE_SIZE],
        responses={200: list_of("NativeAccountList", serializers.DictField())},
        examples=[list_example(ACCOUNT_EXAMPLE)],
    )
    def get(self, request):
        page_size, after = page_size_of(request), after_of(request)
        # Names match in any case, as the check of unknown names does: `Email=` filters.
        filters = {
            name.lower(): value
            for name, value in request.query_params.items()
            if name.lower() in FILTERS
        }
        accounts = selectors.account_search(tenant=self.tenant, params=filters)
        with selectors.custom_plans(needed=bool(PLANNED_PER_VALUE & filters.keys())):
            count = accounts.count()
            rows, more = selectors.account_profile_page(
                accounts=accounts, before=after, limit=page_size
            )
        body = page_body(
            request,
            [account_representation(account) for account in rows],
            count=count,
            more=more,
            last_id=rows[-1].pk if rows else after,
        )
        return self.respond(body, project=False)

    @extend_schema(
        tags=TAG,
        operation_id="native_accounts_create",
        summary="Create an account",
        description="No verification flow: the caller vouches for the account. Needs an email, "
        "a phone or a username. Answers 201 with the account, its `Location` and `ETag`; an "
        "email, phone, username or UID in use answers 409.",
        parameters=[REASON, TICKET],
        request=_CREATE,
        responses={201: ACCOUNT_SCHEMA},
        examples=[
            OpenApiExample("A new account", request_only=True, value=_CREATE_EXAMPLE),
            OpenApiExample(
                "Created", response_only=True, status_codes=["201"], value=ACCOUNT_EXAMPLE
            ),
        ],
    )
    def post(self, request):
        names = NativeNames()
        command = account_create_from_body(
            self.body_json(), names=names, **reason_and_ticket(request)
        )
        try:
            created = services.account_create(command, tenant=self.tenant, actor=self.actor)
        except DomainError as error:
            raise names.renamed(error) from None
        account = selectors.account_get(tenant=self.tenant, uid=created.uid, for_profile=True)
        response = Response(account_representation(account), status=201)
        response["ETag"] = etag_of(selectors.account_version(account))
        response["Location"] = request.build_absolute_uri(f"/api/v1/accounts/{account.uid}")
        return response

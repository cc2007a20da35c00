"""An account's linked provider identities as native resources (docs/api.md): list, link,
unlink.

Linking is the `IdentityLink` command (linking an identity the account already has
refreshes its profile); unlinking is `IdentityUnlink`, which refuses the account's last way
to sign in (409). An identity of another account is 404 through this account.
"""

from urllib.parse import quote

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api import profile_body
from accounts.api.native_account_input import body_object
from accounts.commands import IdentityLink, IdentityUnlink
from accounts.models import AccountIdentity
from portal.api.native import (
    AFTER,
    PAGE_SIZE,
    REASON,
    TICKET,
    NativeAPIView,
    after_of,
    list_example,
    list_of,
    moment,
    page_body,
    page_size_of,
    reason_and_ticket,
)
from portal.errors import DomainError, FieldError, InvalidInput

TAG = ["Account identities"]

_IDENTITY = inline_serializer(
    "NativeAccountIdentity",
    {
        "provider": serializers.CharField(),
        "provider_id": serializers.CharField(),
        "emails": serializers.ListField(child=serializers.CharField()),
        "profile": serializers.DictField(),
        "linked_at": serializers.DateTimeField(),
    },
)
_IDENTITY_INPUT = inline_serializer(
    "NativeAccountIdentityInput",
    {
        "provider": serializers.CharField(),
        "provider_id": serializers.CharField(),
        "emails": serializers.ListField(child=serializers.EmailField(), required=False),
        "profile": serializers.DictField(required=False),
    },
)
_EXAMPLE = {
    "provider": "google",
    "provider_id": "1093",
    "emails": ["ann@gmail.example"],
    "profile": {"FirstName": "Ann"},
    "linked_at": "2026-12-07T04:00:00.000Z",
}
# The service's names of the fields, as this resource's body spells them.
_FIELD_NAMES = {"providerid": "provider_id", "email": "emails"}


def identity_json(identity: AccountIdentity) -> dict:
    profile = identity.profile or {}
    return {
        "provider": identity.provider,
        "provider_id": identity.provider_id,
        "emails": [item["Value"] for item in profile.get("Email", [])],
        "profile": {key: value for key, value in profile.items() if key != "Email"},
        "linked_at": moment(identity.created),
    }


# The field of a refusal that names none, by its code.
_FIELD_OF_CODE = {"account.email_invalid": "emails", "account.identity_taken": "provider_id"}


def _renamed(error: DomainError) -> DomainError:
    fields = error.field_errors
    if not fields and error.code in _FIELD_OF_CODE:
        fields = (FieldError(_FIELD_OF_CODE[error.code], error.message),)
    error.field_errors = tuple(
        FieldError(_FIELD_NAMES.get(f.field.lower(), f.field.lower()), f.message, f.code)
        for f in fields
    )
    return error


class NativeAccountIdentityListView(NativeAPIView):
    """The account's linked identities in the order they were linked; POST links one."""

    section = "accounts"
    query_parameters = ("after", "page_size")

    @extend_schema(
        tags=TAG,
        operation_id="native_account_identities_list",
        summary="An account's linked identities",
        parameters=[AFTER, PAGE_SIZE],
        responses={200: list_of("NativeAccountIdentityList", _IDENTITY)},
        examples=[list_example(_EXAMPLE)],
    )
    def get(self, request, uid):
        page_size, after = page_size_of(request), after_of(request)
        account = selectors.account_get(tenant=self.tenant, uid=uid)
        rows, more, count = selectors.account_identity_page(
            account=account, after=after, limit=page_size
        )
        body = page_body(
            request,
            [identity_json(row) for row in rows],
            count=count,
            more=more,
            last_id=rows[-1].pk if rows else after,
        )
        return self.respond(body, project=False)

    @extend_schema(
        tags=TAG,
        operation_id="native_account_identities_create",
        summary="Link a provider identity",
        description="Linking an identity the account already has refreshes its profile and "
        "emails; one linked to another account answers 409.",
        parameters=[REASON, TICKET],
        request=_IDENTITY_INPUT,
        responses={201: _IDENTITY},
        examples=[
            OpenApiExample(
                "A Google identity",
                request_only=True,
                value={
                    "provider": "google",
                    "provider_id": "1093",
                    "emails": ["ann@gmail.example"],
                    "profile": {"FirstName": "Ann"},
                },
            ),
            OpenApiExample("Linked", response_only=True, status_codes=["201"], value=_EXAMPLE),
        ],
    )
    def post(self, request, uid):
        account = selectors.account_get(tenant=self.tenant, uid=uid)
        body = body_object(self.body_json(), ("provider", "provider_id", "emails", "profile"))
        problems = [
            FieldError(name, "Required: a text.", "required" if name not in body else "invalid")
            for name in ("provider", "provider_id")
            if not profile_body.provider_text(body.get(name)).strip()
        ]
        if problems:
            raise InvalidInput(field_errors=problems)
        try:
            command = IdentityLink(
                provider=profile_body.provider_text(body["provider"]),
                provider_id=profile_body.provider_text(body["provider_id"]),
                profile=body.get("profile"),
                emails=profile_body.identity_emails_read(body.get("emails")),
                **reason_and_ticket(request),
            )
            identity = services.account_identity_link(
                command, tenant=self.tenant, actor=self.actor, account=account
            )
        except DomainError as error:
            raise _renamed(error) from None
        response = Response(identity_json(identity), status=201)
        response["Location"] = request.build_absolute_uri(
            f"/api/v1/accounts/{quote(account.uid)}/identities/"
            f"{quote(identity.provider, safe='')}/{quote(identity.provider_id, safe='')}"
        )
        return response


class NativeAccountIdentityView(NativeAPIView):
    """One linked identity of the account: DELETE unlinks it."""

    section = "accounts"

    @extend_schema(
        tags=TAG,
        operation_id="native_account_identity_destroy",
        summary="Unlink a provider identity",
        description="The account's last way to sign in is not unlinked (409 "
        "`account.last_sign_in_method`).",
        parameters=[
            OpenApiParameter("provider", str, OpenApiParameter.PATH),
            OpenApiParameter("provider_id", str, OpenApiParameter.PATH),
            REASON,
            TICKET,
        ],
        request=None,
        responses={204: None},
    )
    def delete(self, request, uid, provider, provider_id):
        account = selectors.account_get(tenant=self.tenant, uid=uid)
        services.account_identity_unlink(
            IdentityUnlink(
                provider=provider, provider_id=provider_id, **reason_and_ticket(request)
            ),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return Response(status=204)

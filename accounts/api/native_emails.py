"""An account's emails as native resources (docs/api.md): list, add, remove.

Adding is the `EmailUpsert` command of the LoginRadius `PUT .../account/{uid}/email` and the
console: a `type` the account already has gets the new address (unverified), a new `type`
is added. Removing is `EmailRemove`, which never takes the account's last email (409).
"""

from urllib.parse import quote

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api.native_account_input import body_object
from accounts.commands import EmailAddress, EmailRemove, EmailUpsert
from accounts.models import AccountEmail
from portal.api.native import (
    AFTER,
    PAGE_SIZE,
    REASON,
    TICKET,
    NativeAPIView,
    after_of,
    held_for_approval,
    list_example,
    list_of,
    moment,
    page_body,
    page_size_of,
    reason_and_ticket,
)
from portal.errors import AccountNotFound, DomainError, FieldError, InvalidInput

TAG = ["Account emails"]

_EMAIL = inline_serializer(
    "NativeAccountEmail",
    {
        "value": serializers.EmailField(),
        "type": serializers.CharField(),
        "verified": serializers.BooleanField(),
        "created_at": serializers.DateTimeField(),
    },
)
_EMAIL_INPUT = inline_serializer(
    "NativeAccountEmailInput",
    {"value": serializers.EmailField(), "type": serializers.CharField()},
)
_EXAMPLE = {
    "value": "ann@example.com",
    "type": "Primary",
    "verified": True,
    "created_at": "2026-12-07T04:00:00.000Z",
}


def email_json(row: AccountEmail) -> dict:
    return {
        "value": row.value,
        "type": row.type,
        "verified": row.verified,
        "created_at": moment(row.created),
    }


def _renamed(error: DomainError) -> DomainError:
    """The service names the field `Email`; this resource calls it `value`."""
    fields = error.field_errors or (FieldError("value", error.message),)
    error.field_errors = tuple(
        FieldError("type" if f.field.lower() == "type" else "value", f.message, f.code)
        for f in fields
    )
    return error


class NativeAccountEmailListView(NativeAPIView):
    """The account's emails in the order they were added; POST adds or replaces one."""

    section = "accounts"
    query_parameters = ("after", "page_size")

    @extend_schema(
        tags=TAG,
        operation_id="native_account_emails_list",
        summary="An account's emails",
        parameters=[AFTER, PAGE_SIZE],
        responses={200: list_of("NativeAccountEmailList", _EMAIL)},
        examples=[list_example(_EXAMPLE)],
    )
    def get(self, request, uid):
        page_size, after = page_size_of(request), after_of(request)
        account = selectors.account_get(tenant=self.tenant, uid=uid)
        rows, more, count = selectors.account_email_page(
            account=account, after=after, limit=page_size
        )
        body = page_body(
            request,
            [email_json(row) for row in rows],
            count=count,
            more=more,
            last_id=rows[-1].pk if rows else after,
        )
        return self.respond(body, project=False)

    @extend_schema(
        tags=TAG,
        operation_id="native_account_emails_create",
        summary="Add an email to an account",
        description="A `type` the account already has gets this address instead (unverified); "
        "an address another account uses answers 409.",
        parameters=[REASON, TICKET],
        request=_EMAIL_INPUT,
        responses={201: _EMAIL},
        examples=[
            OpenApiExample(
                "A work address",
                request_only=True,
                value={"value": "ann@work.example", "type": "Secondary"},
            ),
            OpenApiExample(
                "Added",
                response_only=True,
                status_codes=["201"],
                value={
                    **_EXAMPLE,
                    "value": "ann@work.example",
                    "type": "Secondary",
                    "verified": False,
                },
            ),
        ],
    )
    def post(self, request, uid):
        account = selectors.account_get(tenant=self.tenant, uid=uid)
        body = body_object(self.body_json(), ("value", "type"))
        problems = [
            FieldError(name, "Required: a text.", "required" if name not in body else "invalid")
            for name in ("value", "type")
            if not isinstance(body.get(name), str)
        ]
        if problems:
            raise InvalidInput(field_errors=problems)
        command = EmailUpsert(
            emails=(EmailAddress(type=body["type"], value=body["value"]),),
            **reason_and_ticket(request),
        )
        held = held_for_approval(
            self, command, account_uid=uid, summary=f"Set the {body['type']} email of {uid}"
        )
        if held is not None:
            return held
        try:
            services.account_email_upsert(
                command, tenant=self.tenant, actor=self.actor, account=account
            )
        except DomainError as error:
            raise _renamed(error) from None
        row = selectors.account_email_find(account=account, email=body["value"])
        if row is None:  # deleted meanwhile
            raise AccountNotFound()
        response = Response(email_json(row), status=201)
        response["Location"] = request.build_absolute_uri(
            f"/api/v1/accounts/{quote(account.uid)}/emails/{quote(row.value, safe='@')}"
        )
        return response


class NativeAccountEmailView(NativeAPIView):
    """One email of the account: DELETE removes it, unless it is the last one."""

    section = "accounts"

    @extend_schema(
        tags=TAG,
        operation_id="native_account_email_destroy",
        summary="Remove an email from an account",
        description="The account's last email is not removed (409 `account.last_email`).",
        parameters=[
            OpenApiParameter("email", str, OpenApiParameter.PATH, description="The address."),
            REASON,
            TICKET,
        ],
        request=None,
        responses={204: None},
    )
    def delete(self, request, uid, email):
        account = selectors.account_get(tenant=self.tenant, uid=uid)
        services.account_email_remove(
            EmailRemove(email=email, **reason_and_ticket(request)),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return Response(status=204)

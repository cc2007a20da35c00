"""Passkeys: listing and removal (management and account side), registration and sign-in."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.selectors import account_get
from portal.lrapi.errors import required
from portal.lrapi.views import LRAPIView
from security import selectors, services
from security.api.views.common import (
    TAG_ACCOUNTS,
    TAG_PASSKEYS,
    UID_QUERY,
    IsDeleted,
    IsPosted,
)
from security.api.views.signin import LoginResponse, session_body
from security.commands import PasskeyRemove

PasskeyList = inline_serializer(
    "PasskeyList",
    {
        "Credentials": serializers.ListField(
            child=inline_serializer(
                "Passkey",
                {
                    "Id": serializers.CharField(),
                    "Authenticator": serializers.CharField(),
                    "Identifier": serializers.CharField(),
                    "CreatedAt": serializers.CharField(),
                },
            )
        )
    },
)
PASSKEY_ID = OpenApiParameter("passkey_id", OpenApiTypes.STR, OpenApiParameter.PATH)
WebAuthnCredential = inline_serializer(
    "WebAuthnCredential",
    {
        "id": serializers.CharField(),
        "rawId": serializers.CharField(),
        "type": serializers.CharField(),
        "response": serializers.DictField(),
    },
)


def credential_from_body(body_json) -> dict:
    """The PublicKeyCredential JSON, sent bare or under `PasskeyCredential`."""
    if not isinstance(body_json, dict):
        raise required("PasskeyCredential")
    for key, value in body_json.items():
        if key.lower() == "passkeycredential":
            body_json = value
            break
    if (
        not isinstance(body_json, dict)
        or not isinstance(body_json.get("response"), dict)
        or not body_json.get("id")
    ):
        raise required("PasskeyCredential")
    return body_json


class PasskeyManageListView(LRAPIView):
    """GET /identity/v2/manage/account/passkey?uid=: the account's passkeys."""

    section = "security"

    @extend_schema(
        tags=TAG_ACCOUNTS,
        operation_id="listPasskeyUser",
        summary="The passkeys of an account",
        parameters=[UID_QUERY],
        responses=PasskeyList,
    )
    def get(self, request):
        account = account_get(tenant=self.tenant, uid=self.query.get("uid"))
        return self.respond({"Credentials": selectors.passkey_list_json(account=account)})


class PasskeyManageDeleteView(LRAPIView):
    """DELETE /identity/v2/manage/account/passkey/{passkeyId}?uid=."""

    section = "security"

    @extend_schema(
        tags=TAG_ACCOUNTS,
        operation_id="deletePasskeyByUid",
        summary="Remove a passkey of an account",
        parameters=[UID_QUERY, PASSKEY_ID],
        request=None,
        responses=IsDeleted,
    )
    def delete(self, request, passkey_id: str):
        account = account_get(tenant=self.tenant, uid=self.query.get("uid"))
        services.passkey_delete(
            PasskeyRemove(passkey_id=passkey_id),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return self.respond({"IsDeleted": True})


class PasskeyAccountListView(LRAPIView):
    """GET /identity/v2/auth/account/passkey: the caller's passkeys."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        tags=TAG_PASSKEYS,
        operation_id="listPasskeyByAccessToken",
        summary="The caller's passkeys",
        responses=PasskeyList,
    )
    def get(self, request):
        return self.respond({"Credentials": selectors.passkey_list_json(account=self.account)})


class PasskeyAccountDeleteView(LRAPIView):
    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        tags=TAG_PASSKEYS,
        operation_id="deletePasskeyByAccessToken",
        summary="Remove one of the caller's passkeys",
        parameters=[PASSKEY_ID],
        request=None,
        responses=IsDeleted,
    )
    def delete(self, request, passkey_id: str):
        services.passkey_delete(
            PasskeyRemove(passkey_id=passkey_id),
            tenant=self.tenant,
            actor=self.actor,
            account=self.account,
        )
        return self.respond({"IsDeleted": True})


class PasskeyRegisterBeginView(LRAPIView):
    """GET /identity/v2/auth/account/register/passkey/begin: creation options."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        tags=TAG_PASSKEYS,
        operation_id="passkeyRegisterBeginByAccessToken",
        summary="Start registering a passkey: the WebAuthn creation options",
        responses=inline_serializer(
            "RegisterBegin", {"RegisterBeginCredential": serializers.DictField()}
        ),
    )
    def get(self, request):
        identifier = self.query.get("identifier") or ""
        options = services.passkey_registration_begin(
            tenant=self.tenant, account=self.account, identifier=identifier
        )
        return self.respond({"RegisterBeginCredential": {"publicKey": options}}, project=False)


class PasskeyRegisterFinishView(LRAPIView):
    """POST /identity/v2/auth/account/register/passkey/finish: the attestation."""

    section = "security"
    auth_mode = "access_token"

    @extend_schema(
        tags=TAG_PASSKEYS,
        operation_id="passkeyRegisterFinishByAccessToken",
        summary="Finish registering a passkey with its attestation",
        request=WebAuthnCredential,
        responses=IsPosted,
    )
    def post(self, request):
        credential = credential_from_body(self.body_json())
        services.passkey_register(
            tenant=self.tenant, actor=self.actor, account=self.account, credential=credential
        )
        return self.respond({"IsPosted": True})


class PasskeyLoginBeginView(LRAPIView):
    """GET /identity/v2/auth/login/passkey/begin?identifier=<email|username|phone>."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        tags=TAG_PASSKEYS,
        operation_id="passkeyLoginBegin",
        summary="Start a passkey sign-in: the WebAuthn request options",
        parameters=[
            OpenApiParameter("identifier", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True)
        ],
        responses=inline_serializer(
            "LoginBegin", {"LoginBeginCredential": serializers.DictField()}
        ),
    )
    def get(self, request):
        identifier = self.query.get_plus_preserving("identifier")
        if not identifier:
            raise required("identifier")
        account = selectors.account_for_identifier(tenant=self.tenant, identifier=identifier)
        if account is None:
            options = services.passkey_decoy_options()
        else:
            options = services.passkey_authentication_begin(tenant=self.tenant, account=account)
        return self.respond({"LoginBeginCredential": {"publicKey": options}}, project=False)


class PasskeyLoginFinishView(LRAPIView):
    """POST /identity/v2/auth/login/passkey/finish: the assertion; answers with a session."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        tags=TAG_PASSKEYS,
        operation_id="passkeyLoginFinish",
        summary="Finish a passkey sign-in with its assertion",
        request=WebAuthnCredential,
        responses=LoginResponse,
    )
    def post(self, request):
        body = self.body()
        identifier = next(
            (body.get(k) for k in ("email", "username", "phone", "identifier") if body.get(k)), None
        )
        if not identifier or not isinstance(identifier, str):
            raise required("email")
        credential = credential_from_body(self.body_json())
        account = selectors.account_for_identifier(tenant=self.tenant, identifier=identifier)
        services.passkey_login(
            tenant=self.tenant, identifier=identifier, account=account, credential=credential
        )
        return self.respond(
            session_body(tenant=self.tenant, account=account, reason="passkey sign-in")
        )

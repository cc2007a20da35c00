"""Linked provider identities: the token-side unlink (LoginRadius) and the native link
and unlink."""

from drf_spectacular.utils import OpenApiParameter, extend_schema

from accounts import services
from accounts.api import profile_body
from accounts.api import schema as s
from accounts.api.views.common import UID
from accounts.api.views.token_side import NOT_SERVED_LINK, not_served
from accounts.commands import (
    IdentityLink,
    IdentityUnlink,
)
from accounts.selectors import account_get
from portal.lrapi.views import LRAPIView


class SocialIdentityUnlinkView(LRAPIView):
    """Token side: the signed-in account unlinks one of its provider identities. Linking
    one by candidate token (POST) is not served: no social login is hosted here."""

    section = "accounts"
    auth_mode = "access_token"

    @extend_schema(
        tags=["Authentication"],
        operation_id="linkSocialIdentities",
        summary="Not served: link a provider identity by candidate token",
        parameters=[s.query("access_token", "Access token (or Authorization: Bearer).")],
        request=None,
        responses={405: None},
    )
    def post(self, request):
        raise not_served(NOT_SERVED_LINK)

    @extend_schema(
        tags=["Authentication"],
        operation_id="unlinkSocialIdentities",
        summary="Unlink a provider identity",
        parameters=[s.query("access_token", "Access token (or Authorization: Bearer).")],
        request=s.SOCIAL_IDENTITY_BODY,
        responses=s.IS_DELETED,
    )
    def delete(self, request):
        body = self.body()
        command = IdentityUnlink(
            provider=profile_body.provider_text(body.get("provider")),
            provider_id=profile_body.provider_text(body.get("providerid")),
        )
        services.account_identity_unlink(
            command, tenant=self.tenant, actor=self.actor, account=self.account
        )
        return self.respond({"IsDeleted": True}, project=False)


def identity_json(identity) -> dict:
    return {
        "provider": identity.provider,
        "provider_id": identity.provider_id,
        "emails": [e["Value"] for e in (identity.profile or {}).get("Email", [])],
        "profile": {k: v for k, v in (identity.profile or {}).items() if k != "Email"},
        "linked_at": identity.created.isoformat(),
    }


class AccountIdentityLinkView(LRAPIView):
    section = "accounts"

    @extend_schema(
        tags=["Native"],
        operation_id="account_identity_link",
        summary="Link a provider identity",
        parameters=[UID],
        request=s.IDENTITY_LINK_BODY,
        responses={201: s.IDENTITY},
    )
    def post(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        body = self.body()
        provider_id = body.get("provider_id") if "provider_id" in body else body.get("providerid")
        command = IdentityLink(
            provider=profile_body.provider_text(body.get("provider")),
            provider_id=profile_body.provider_text(provider_id),
            profile=body.raw().get(body.original_key("profile")) if "profile" in body else None,
            emails=profile_body.identity_emails_read(body.get("emails")),
        )
        identity = services.account_identity_link(
            command, tenant=self.tenant, actor=self.actor, account=account
        )
        return self.respond(identity_json(identity), status=201)


class AccountIdentityUnlinkView(LRAPIView):
    section = "accounts"

    @extend_schema(
        tags=["Native"],
        operation_id="account_identity_unlink",
        summary="Unlink a provider identity",
        parameters=[
            UID,
            OpenApiParameter("provider", str, OpenApiParameter.PATH),
            OpenApiParameter("provider_id", str, OpenApiParameter.PATH),
        ],
        request=None,
        responses={204: None},
    )
    def delete(self, request, uid, provider, provider_id):
        account = account_get(tenant=self.tenant, uid=uid)
        command = IdentityUnlink(provider=provider, provider_id=provider_id)
        services.account_identity_unlink(
            command, tenant=self.tenant, actor=self.actor, account=account
        )
        return self.respond(None, status=204, project=False)

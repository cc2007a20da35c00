"""Linked provider identities: the token-side unlink (LoginRadius). The native list, link
and unlink are accounts/api/native_identities.py."""

from drf_spectacular.utils import extend_schema

from accounts import services
from accounts.api import profile_body
from accounts.api import schema as s
from accounts.api.views.token_side import NOT_SERVED_LINK, not_served
from accounts.commands import IdentityUnlink
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

"""Duo Universal Prompt: the prompt of a pending sign-in (the tenant's Duo application is the
native resource of security/api/views/native_operations.py)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from portal.lrapi.errors import LRError, required
from portal.lrapi.views import LRAPIView
from security import services
from security.api.views.common import TAG_MFA, TOKEN_QUERY
from security.api.views.signin import LoginResponse, session_body


class DuoPromptStartView(LRAPIView):
    """GET /identity/v2/auth/login/2fa/duo: the Duo prompt URL for a pending sign-in."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        tags=TAG_MFA,
        operation_id="mfaDuoPromptStart",
        summary="The Duo prompt URL of a pending sign-in",
        parameters=[TOKEN_QUERY],
        responses=inline_serializer("DuoPrompt", {"AuthUrl": serializers.URLField()}),
    )
    def get(self, request):
        login = services.login_challenge_get(
            tenant=self.tenant, token=self.query.get("secondfactorauthenticationtoken")
        )
        return self.respond({"AuthUrl": services.duo_prompt_start(tenant=self.tenant, login=login)})


class DuoPromptCallbackView(LRAPIView):
    """GET /identity/v2/auth/login/2fa/duo/callback: where Duo sends the browser back."""

    section = "security"
    auth_mode = "apikey"

    @extend_schema(
        tags=TAG_MFA,
        operation_id="mfaDuoPromptCallback",
        summary="Complete a sign-in with the code Duo returned",
        parameters=[
            OpenApiParameter("duo_code", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True),
            OpenApiParameter("state", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True),
        ],
        responses=LoginResponse,
    )
    def get(self, request):
        state, code = self.query.get("state"), self.query.get("duo_code")
        if not state:
            raise required("state")
        if not code:
            raise required("duo_code")
        login = services.duo_prompt_complete(tenant=self.tenant, state=state, duo_code=code)
        if not services.login_challenge_complete(row=login):
            raise LRError(1193)
        return self.respond(
            session_body(tenant=self.tenant, account=login.account, reason="sign-in with Duo")
        )

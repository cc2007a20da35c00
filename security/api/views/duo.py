"""Duo Universal Prompt: the prompt of a pending sign-in and the tenant's Duo application
(native API)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from portal.lrapi.errors import LRError, field_errors, required
from portal.lrapi.params import parse_bool
from portal.lrapi.views import LRAPIView
from security import selectors, services
from security.api.views.common import TAG_MFA, TOKEN_QUERY
from security.api.views.signin import LoginResponse, session_body
from security.commands import DuoConfigDelete, DuoConfigSet


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


DuoConfigOut = inline_serializer(
    "DuoConfiguration",
    {
        "client_id": serializers.CharField(),
        "api_host": serializers.CharField(),
        "enabled": serializers.BooleanField(),
        "modified": serializers.DateTimeField(),
    },
)
DuoConfigIn = inline_serializer(
    "DuoConfigurationWrite",
    {
        "client_id": serializers.CharField(),
        "client_secret": serializers.CharField(
            required=False, help_text="Write-only; required the first time, kept when omitted"
        ),
        "api_host": serializers.CharField(
            help_text="api-XXXXXXXX.duosecurity.com, or api-XXXXXXXX.duofederal.com for Duo Federal; any other host is refused (1134)"
        ),
        "enabled": serializers.BooleanField(
            required=False, help_text="Default: the stored value, or true"
        ),
    },
)


def duo_config_json(config) -> dict:
    return {
        "client_id": config.client_id,
        "api_host": config.api_host,
        "enabled": config.enabled,
        "modified": config.modified.isoformat(),
    }


class DuoConfigView(LRAPIView):
    """/api/v1/security/duo: the tenant's Duo Universal Prompt application. The client
    secret is write-only: stored encrypted, never returned."""

    section = "security"

    @extend_schema(
        operation_id="security_duo_retrieve",
        summary="The tenant's Duo application",
        tags=["Security"],
        responses=DuoConfigOut,
        description="The tenant's Duo application without its secret; 404 when none is configured.",
    )
    def get(self, request):
        config = selectors.duo_config_get(tenant=self.tenant)
        if config is None:
            raise LRError(404, "Duo is not configured for this tenant.")
        return self.respond(duo_config_json(config))

    @extend_schema(
        operation_id="security_duo_update",
        summary="Create or change the tenant's Duo application",
        tags=["Security"],
        request=DuoConfigIn,
        responses=DuoConfigOut,
        description="Creates or changes the Duo application; checked by the Duo client's rules "
        "(1134 with Errors). While enabled, every sign-in of the tenant needs Duo. Audited.",
    )
    def put(self, request):
        body = self.body()
        current = selectors.duo_config_get(tenant=self.tenant)
        errors = {}
        values = {}
        for name in ("client_id", "client_secret", "api_host"):
            value = body.get(name)
            if value is None:
                continue
            if not isinstance(value, str):
                errors[name] = "Must be a string."
            values[name] = value
        if body.get("ca_bundle") not in (None, ""):  # Duo's pinned CAs are the only trust
            errors["ca_bundle"] = (
                "Custom CA bundles are not accepted; Duo's own pinned certificates are always used."
            )
        for name in ("client_id", "api_host"):
            if not values.get(name) and name not in errors:
                errors[name] = "This field is required."
        if current is None and not values.get("client_secret") and "client_secret" not in errors:
            errors["client_secret"] = "This field is required."
        if errors:
            raise field_errors(errors)
        enabled = (
            parse_bool(body.get("enabled"), name="enabled")
            if body.get("enabled") is not None
            else (current.enabled if current else True)
        )
        command = DuoConfigSet(
            client_id=values["client_id"],
            client_secret=values.get("client_secret") or None,
            api_host=values["api_host"],
            enabled=enabled,
        )
        config = services.duo_config_set(command, tenant=self.tenant, actor=self.actor)
        return self.respond(duo_config_json(config))

    @extend_schema(
        operation_id="security_duo_destroy",
        summary="Remove the tenant's Duo application",
        tags=["Security"],
        request=None,
        responses={204: None},
        parameters=[
            OpenApiParameter(
                "reason",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description="Kept in the audit log.",
            )
        ],
        description="Removes the Duo application (404 when none): sign-ins stop asking for Duo. Audited.",
    )
    def delete(self, request):
        services.duo_config_delete(
            DuoConfigDelete(reason=self.query.get("reason") or ""),
            tenant=self.tenant,
            actor=self.actor,
        )
        return self.respond(None, status=204, project=False)

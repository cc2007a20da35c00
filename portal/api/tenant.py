"""`/api/v1/tenant`: the calling tenant, on the native conventions (problem details, RFC 3339
times, declared query parameters: `fields` projects the answer). Reading it is open to any
credential of the tenant's `native` section or an admin one (it shows the tenant and the
calling credential); changing its settings is administration: `PATCH` needs a credential
whose scopes name `admin` (JSON merge patch of `settings`, `If-Match`).

Both answer the settings' version as `ETag`. The rules of a settings change (names, types,
bounds, the minimum password length not above the maximum) are the service's
(portal.services.tenant_update_settings, reading portal/tenant_settings.py); this view only
reads the patch's shape and names the refused settings `settings.<name>`."""

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers

from portal import services, tenant_settings
from portal.api.native import (
    IF_MATCH,
    REASON,
    TICKET,
    NativeAPIView,
    etag_of,
    expected_version_from,
    moment,
    rfc3339,
)
from portal.api.views import FIELDS_PARAMETER
from portal.errors import FieldError, InvalidInput
from portal.tenant_commands import TenantSettingsChange

READ_ONLY = ("name", "slug", "api_key", "created", "credential")


def settings_requested(patch: Any) -> dict[str, Any]:
    """The `settings` object of a merge patch of the tenant, or InvalidInput naming every
    other key (read-only or unknown) and a `settings` that is not an object."""
    if not isinstance(patch, dict):
        raise InvalidInput("A merge patch is a JSON object.")
    problems: list[FieldError] = [
        FieldError(key, "This field is read-only.", "read_only")
        if key in READ_ONLY
        else FieldError(key, "The tenant has no such field.", "unknown")
        for key in patch
        if key != "settings"
    ]
    requested = patch.get("settings", {})
    if not isinstance(requested, dict):
        problems.append(FieldError("settings", "An object of settings.", "invalid"))
    if problems:
        raise InvalidInput(field_errors=problems)
    return requested


def _under_settings(error: InvalidInput) -> InvalidInput:
    """The service's refusal with each setting named as the patch names it."""
    return InvalidInput(
        None if error.message_is_default else error.message,
        field_errors=[
            FieldError(f"settings.{item.field}", item.message, item.code)
            for item in error.field_errors
        ],
    )


_TENANT_PATCH = inline_serializer("NativeTenantPatch", {"settings": serializers.DictField()})
_TENANT = inline_serializer(
    "Tenant",
    {
        "name": serializers.CharField(),
        "slug": serializers.CharField(),
        "api_key": serializers.CharField(),
        "created": serializers.DateTimeField(),
        "settings": serializers.DictField(help_text="Every setting's effective value, by name."),
        "credential": inline_serializer(
            "TenantCredential",
            {
                "id": serializers.IntegerField(allow_null=True),
                "label": serializers.CharField(),
                "scopes": serializers.ListField(child=serializers.CharField()),
                "expires_at": serializers.DateTimeField(allow_null=True),
                "authenticated_via": serializers.ChoiceField(
                    ["secret", "client", "signature", "m2m"]
                ),
            },
        ),
    },
)
_TENANT_EXAMPLE = {
    "name": "Acme",
    "slug": "acme",
    "api_key": "6f1c0d4e-0000-4000-8000-000000000001",
    "created": "2026-12-01T09:00:00+00:00",
    "settings": {"lockout_threshold": 3, "sms_otp_length": 6, "retention_events_days": 365},
    "credential": {
        "id": 7,
        "label": "ops",
        "scopes": ["admin"],
        "expires_at": None,
        "authenticated_via": "secret",
    },
}


class TenantView(NativeAPIView):
    """The calling tenant: read by any of its credentials of the `native` section or an admin
    one; settings changed by an admin one."""

    section = "native"
    query_parameters = ("fields",)

    @property
    def _administers(self) -> bool:
        return self.request.method == "PATCH"

    def initial(self, request, *args, **kwargs):
        if self._administers:
            # Administration: only a credential whose scopes name `admin` (never implied).
            self.section = "admin"
        super().initial(request, *args, **kwargs)

    def principal_allowed(self, principal) -> bool:
        # An admin credential reads what it changes (and the ETag its If-Match needs).
        if not self._administers and principal.allows("admin"):
            return True
        return super().principal_allowed(principal)

    @extend_schema(
        operation_id="tenant_retrieve",
        summary="The calling tenant",
        description="The tenant (LoginRadius app) the credentials belong to, every setting's "
        "effective value, and the credential that authenticated the call. `ETag`: the version "
        "of the settings, for `If-Match` on `PATCH`.",
        tags=["Tenant"],
        parameters=[FIELDS_PARAMETER],
        responses={200: _TENANT},
        examples=[OpenApiExample("The tenant", response_only=True, value=_TENANT_EXAMPLE)],
    )
    def get(self, request):
        tenant = self.tenant
        credential = self.principal.credential
        return self.respond(
            {
                "name": tenant.name,
                "slug": tenant.slug,
                "api_key": tenant.api_key,
                "created": rfc3339(tenant.created),
                "settings": {name: tenant.setting(name) for name in tenant_settings.BY_NAME},
                "credential": {
                    "id": credential.pk if credential is not None else None,
                    "label": credential.label if credential is not None else "",
                    "scopes": list(credential.scopes or []) if credential is not None else [],
                    "expires_at": moment(credential.expires_at) if credential is not None else None,
                    "authenticated_via": self.principal.via,
                },
            }
        )

    @extend_schema(
        operation_id="tenant_patch",
        summary="Change the tenant's settings (JSON merge patch)",
        description="Needs a credential whose scopes name `admin`. Each setting named takes the "
        "value given (`null`: its default); the others are kept. Every refused setting is "
        "named in `errors` (`settings.<name>`) and nothing changes. `If-Match` with the ETag of "
        "`GET` refuses settings changed since (412 `tenant.version_stale`). Answers the tenant "
        "as `GET` does, with the new ETag.",
        tags=["Tenant"],
        parameters=[IF_MATCH, REASON, TICKET],
        request={"application/merge-patch+json": _TENANT_PATCH, "application/json": _TENANT_PATCH},
        responses={200: _TENANT},
        examples=[
            OpenApiExample(
                "A stricter lockout",
                request_only=True,
                value={"settings": {"lockout_threshold": 3, "sms_otp_length": None}},
            ),
            OpenApiExample("Changed", response_only=True, value=_TENANT_EXAMPLE),
        ],
    )
    def patch(self, request):
        requested = settings_requested(self.body_json())
        command = TenantSettingsChange(
            changes=requested,
            reason=request.headers.get("X-Reason", ""),
            ticket=request.headers.get("X-Ticket", ""),
            expected_version=expected_version_from(request.headers.get("If-Match")),
        )
        try:
            self.tenant = services.tenant_update_settings(
                command, tenant=self.tenant, actor=self.actor
            )
        except InvalidInput as refused:
            raise _under_settings(refused) from None
        return self.get(request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 200 and request.method in ("GET", "PATCH"):
            response["ETag"] = etag_of(tenant_settings.version_of(self.tenant.settings))
        return response

"""`/api/v1/tenant`: the calling tenant. Reading it stays open to any credential of the
tenant (section `native`, the LoginRadius envelope and `fields` projection it always had:
it shows the tenant and the calling credential); changing its settings is administration:
`PATCH` needs a credential whose scopes name `admin` and follows the native conventions
(JSON merge patch of `settings`, problem details).

A setting's name must be one of TENANT_SETTING_DEFAULTS and its value of the default's
type, within the same bounds the console's settings form applies; `null` puts a setting
back to its default. The change is the TenantSettingsChange command the console builds."""

from typing import Any

from django.db import transaction
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.password_policy import CHARACTER_CLASSES, LENGTH_CEILING, LENGTH_FLOOR
from portal import services
from portal.api.native import AUTHENTICATION_PARAMETERS, REASON, TICKET, native_exception_handler
from portal.api.views import TenantDetailView
from portal.errors import FieldError, InvalidInput
from portal.lrapi.parsers import LenientJSONParser, MergePatchParser
from portal.lrapi.views import is_json_content_type
from portal.models import TENANT_SETTING_DEFAULTS, Tenant
from portal.openapi import PROBLEM_MARK
from portal.tenant_commands import TenantSettingsChange

REQUEST_SIGNING_MODES = ("preferred", "strict")
PASSWORD_LENGTHS = ("password_min_length", "password_max_length")
READ_ONLY = ("name", "slug", "api_key", "created", "credential")


def _checked(name: str, value: Any) -> tuple[Any, str | None]:
    """(the value to store, None) or (None, why it is refused)."""
    default = TENANT_SETTING_DEFAULTS[name]
    if value is None:
        return default, None
    if name == "request_signing":
        if value not in REQUEST_SIGNING_MODES:
            return None, f"One of {', '.join(REQUEST_SIGNING_MODES)}."
        return value, None
    if isinstance(default, bool):
        return (value, None) if isinstance(value, bool) else (None, "true or false.")
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            return None, "A whole number."
        low, high = (LENGTH_FLOOR, LENGTH_CEILING) if name in PASSWORD_LENGTHS else (0, 2**31 - 1)
        if not low <= value <= high:
            return None, f"A whole number from {low} to {high}."
        return value, None
    if isinstance(default, list):
        if not isinstance(value, list) or any(item not in CHARACTER_CLASSES for item in value):
            return None, f"A list of {', '.join(CHARACTER_CLASSES)}."
        return [c for c in CHARACTER_CLASSES if c in value], None  # one order
    if not isinstance(value, type(default)):
        return None, f"A value of type {type(default).__name__}."
    return value, None


def settings_changes_from_merge_patch(tenant: Tenant, patch: Any) -> dict[str, Any]:
    """The settings a merge patch of the tenant asks to change (only those that differ), or
    InvalidInput naming every refused field; nothing is changed when any is refused."""
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
        requested = {}
    values: dict[str, Any] = {}
    for name, value in requested.items():
        if name not in TENANT_SETTING_DEFAULTS:
            problems.append(FieldError(f"settings.{name}", "No such setting.", "unknown"))
            continue
        checked, why = _checked(name, value)
        if why is not None:
            problems.append(FieldError(f"settings.{name}", why, "invalid"))
        else:
            values[name] = checked
    low = values.get("password_min_length", tenant.setting("password_min_length"))
    high = values.get("password_max_length", tenant.setting("password_max_length"))
    if not problems and low > high:
        problems.append(
            FieldError(
                "settings.password_max_length",
                "The maximum length cannot be below the minimum length.",
                "invalid",
            )
        )
    if problems:
        raise InvalidInput(field_errors=problems)
    return {name: value for name, value in values.items() if value != tenant.setting(name)}


_TENANT_PATCH = inline_serializer("NativeTenantPatch", {"settings": serializers.DictField()})


class TenantSchema(AutoSchema):
    """Documents problem details for the `PATCH` only: `GET` keeps the LoginRadius envelope."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and self.method == "PATCH":
            operation[PROBLEM_MARK] = True
        return operation


class TenantView(TenantDetailView):
    """The calling tenant: read by any of its credentials; settings changed by an admin one."""

    parser_classes = [LenientJSONParser, MergePatchParser]
    schema = TenantSchema()

    @property
    def _administers(self) -> bool:
        return self.request.method == "PATCH"

    def initial(self, request, *args, **kwargs):
        if self._administers:
            # Administration: only a credential whose scopes name `admin` (never implied).
            self.section = "admin"
        super().initial(request, *args, **kwargs)

    def get_exception_handler(self):
        if self._administers:
            return native_exception_handler
        return super().get_exception_handler()

    def accepts_content_type(self, content_type: str | None) -> bool:
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        return is_json_content_type(content_type) or media_type == MergePatchParser.media_type

    @extend_schema(
        operation_id="tenant_patch",
        summary="Change the tenant's settings (JSON merge patch)",
        description="Needs a credential whose scopes name `admin`. Each setting named takes the "
        "value given (`null`: its default); the others are kept. Answers the tenant as `GET` "
        "does.",
        tags=["Tenant"],
        parameters=[REASON, TICKET],
        request={"application/merge-patch+json": _TENANT_PATCH, "application/json": _TENANT_PATCH},
        responses={200: _TENANT_PATCH},
        examples=[
            OpenApiExample(
                "A stricter lockout",
                request_only=True,
                value={"settings": {"lockout_threshold": 3, "sms_otp_length": None}},
            )
        ],
    )
    def patch(self, request):
        unknown = sorted(
            name for name in request.query_params if name.lower() not in AUTHENTICATION_PARAMETERS
        )
        if unknown:
            raise InvalidInput(
                f"Unknown query parameter: {', '.join(unknown)}.",
                field_errors=[
                    FieldError(name, "This resource has no such query parameter.", "unknown")
                    for name in unknown
                ],
            )
        with transaction.atomic():
            # Judged against the stored settings (not a cached copy), one change at a time.
            tenant = Tenant.objects.select_for_update().get(pk=self.tenant.pk)
            changes = settings_changes_from_merge_patch(tenant, self.body_json())
            if changes:
                tenant = services.tenant_update_settings(
                    TenantSettingsChange(
                        changes=changes,
                        reason=request.headers.get("X-Reason", ""),
                        ticket=request.headers.get("X-Ticket", ""),
                    ),
                    tenant=tenant,
                    actor=self.actor,
                )
        self.tenant = tenant
        return self.get(request)

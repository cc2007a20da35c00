"""`GET /api/v1/accounts/{uid}/permissions`: what an account may do now, optionally within a
role context, on the native conventions (docs/api.md). The answer is cached; every change to
roles, assignments or contexts is seen by the next request."""

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.selectors import account_get
from portal.api.native import NativeAPIView, moment, query_parameter
from roles import selectors

_PERMISSIONS = inline_serializer(
    "NativeAccountPermissions",
    {
        "uid": serializers.CharField(),
        "context": serializers.CharField(allow_null=True),
        "context_found": serializers.BooleanField(),
        "context_active": serializers.BooleanField(),
        "context_expiration": serializers.DateTimeField(allow_null=True),
        "roles": serializers.ListField(child=serializers.CharField()),
        "permissions": serializers.ListField(child=serializers.CharField()),
        "valid_until": serializers.DateTimeField(
            allow_null=True,
            help_text="When this answer changes by itself (the context's expiration).",
        ),
        "permission": serializers.CharField(
            required=False, help_text="Echo of the `permission` asked about."
        ),
        "allowed": serializers.BooleanField(
            required=False, help_text="Whether `permission` is granted."
        ),
    },
)
_EXAMPLE = {
    "uid": "9f2c4b7e0c3a4d1e8f6a5b4c3d2e1f00",
    "context": "store-7",
    "context_found": True,
    "context_active": True,
    "context_expiration": "2027-01-01T00:00:00.000Z",
    "roles": ["support", "viewer"],
    "permissions": ["account.read", "refund.issue"],
    "valid_until": "2027-01-01T00:00:00.000Z",
    "permission": "refund.issue",
    "allowed": True,
}


class NativeAccountPermissionsView(NativeAPIView):
    """The account's effective roles and permissions (and whether one is granted)."""

    section = "roles"
    query_parameters = ("context", "permission")

    @extend_schema(
        tags=["Account roles"],
        operation_id="account_permissions",
        summary="Effective permissions of an account",
        description="The roles the account holds outside any context, plus those and the "
        "additional permissions of `context` while it is active. An unknown context grants "
        "only the account's own roles (`context_found` false).",
        parameters=[
            query_parameter("context", "A role context name; omitted: roles outside any context."),
            query_parameter("permission", "Also answer whether this permission is granted."),
        ],
        responses={200: _PERMISSIONS},
        examples=[OpenApiExample("Within a context", response_only=True, value=_EXAMPLE)],
    )
    def get(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        context = request.query_params.get("context") or None
        answer = selectors.account_permissions(tenant=self.tenant, account=account, context=context)
        data = {
            "uid": account.uid,
            "context": answer.context,
            "context_found": answer.context_found,
            "context_active": answer.context_active,
            "context_expiration": moment(answer.context_expiration),
            "roles": list(answer.roles),
            "permissions": list(answer.permissions),
            "valid_until": moment(answer.valid_until),
        }
        permission = request.query_params.get("permission")
        if permission is not None:
            data["permission"] = permission
            data["allowed"] = answer.allows(permission)
        return self.respond(data, project=False)

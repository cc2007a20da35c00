"""Roles Management endpoints (LoginRadius v11 role CRUD and v12 role contexts)."""

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers

from accounts.selectors import account_get
from portal.lrapi.views import LRAPIView
from roles import selectors, services
from roles.api import wire
from roles.commands import (
    AccountRolesAssign,
    AccountRolesUnassign,
    RoleContextDelete,
    RoleContextPermissionsRemove,
    RoleContextRolesRemove,
    RoleDelete,
    RolePermissionsAdd,
    RolePermissionsRemove,
)

TAG = "Roles Management"

_role = inline_serializer(
    "LRRole",
    {
        "Name": serializers.CharField(),
        "Permissions": serializers.DictField(child=serializers.BooleanField()),
    },
)
_role_list = inline_serializer(
    "LRRoleList", {"data": serializers.ListField(child=_role), "Count": serializers.IntegerField()}
)
_roles = inline_serializer(
    "LRAccountRoles", {"Roles": serializers.ListField(child=serializers.CharField())}
)
_roles_body = inline_serializer(
    "LRRolesBody", {"roles": serializers.ListField(child=serializers.CharField())}
)
_permissions_body = inline_serializer(
    "LRPermissionsBody", {"permissions": serializers.ListField(child=serializers.CharField())}
)
_additional_body = inline_serializer(
    "LRAdditionalPermissionsBody",
    {"additionalpermissions": serializers.ListField(child=serializers.CharField())},
)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "object", "additionalProperties": {"type": "boolean"}},
            {"type": "array", "items": {"type": "string"}},
        ],
        "nullable": True,
        "description": '`{"p": true}` (false ones are left out) or `["p"]`; null or absent: none. '
        "A flag that is not true or false: 1134; another type: 908.",
    }
)
class _PermissionsField(serializers.JSONField):
    pass


_create_body = inline_serializer(
    "LRRolesCreateBody",
    {
        "roles": serializers.ListField(
            child=inline_serializer(
                "LRRoleCreate",
                {"name": serializers.CharField(), "permissions": _PermissionsField(required=False)},
            )
        )
    },
)
_deleted = inline_serializer("LRRoleDeleted", {"IsDeleted": serializers.BooleanField()})
_context_fields = {
    "Roles": serializers.ListField(child=serializers.CharField()),
    "AdditionalPermissions": serializers.ListField(child=serializers.CharField()),
    "Expiration": serializers.DateTimeField(allow_null=True),
}
_context = inline_serializer(
    "LRRoleContext", {"Context": serializers.CharField(), **_context_fields}
)
_context_list = inline_serializer(
    "LRRoleContextList", {"Data": serializers.ListField(child=_context)}
)
_context_body = inline_serializer(
    "LRRoleContextBody",
    {
        "rolecontext": serializers.ListField(
            child=inline_serializer(
                "LRRoleContextItem",
                {
                    "context": serializers.CharField(),
                    "roles": serializers.ListField(child=serializers.CharField()),
                    "additionalpermissions": serializers.ListField(child=serializers.CharField()),
                    "expiration": serializers.CharField(
                        allow_null=True,
                        help_text='"07/15/2018 8:30:08 AM" or ISO 8601; UTC unless a zone is given',
                    ),
                },
            )
        )
    },
)
_context_accounts = inline_serializer(
    "LRRoleContextAccounts",
    {
        "Data": serializers.ListField(
            child=inline_serializer(
                "LRRoleContextAccount",
                {
                    "RoleContext": inline_serializer("LRRoleContextGrant", _context_fields),
                    "Uid": serializers.CharField(),
                    "LastLoginDate": serializers.DateTimeField(allow_null=True),
                    "FullName": serializers.CharField(allow_null=True),
                    "Email": serializers.ListField(child=serializers.DictField(), allow_null=True),
                    "ImageUrl": serializers.CharField(allow_null=True),
                },
            )
        )
    },
)


class RoleListView(LRAPIView):
    section = "roles"

    @extend_schema(
        tags=[TAG], operation_id="roles_list", responses=_role_list, summary="Roles list"
    )
    def get(self, request):
        roles = selectors.role_list(tenant=self.tenant)
        return self.respond({"data": [wire.role_json(r) for r in roles], "Count": len(roles)})

    @extend_schema(
        tags=[TAG],
        operation_id="roles_create",
        request=_create_body,
        responses=_role_list,
        summary="Create roles (several at once; 1175 if a name is invalid or taken)",
    )
    def post(self, request):
        roles = services.roles_create(
            wire.roles_create_command(self.body()), tenant=self.tenant, actor=self.actor
        )
        return self.respond({"data": [wire.role_json(r) for r in roles], "Count": len(roles)})


class RoleDetailView(LRAPIView):
    section = "roles"

    @extend_schema(
        tags=[TAG],
        operation_id="role_delete",
        request=None,
        responses=_deleted,
        summary="Delete a role (taken from every account and context)",
    )
    def delete(self, request, role):
        services.role_delete(RoleDelete(name=role), tenant=self.tenant, actor=self.actor)
        return self.respond({"IsDeleted": True})


class RolePermissionView(LRAPIView):
    section = "roles"

    @extend_schema(
        tags=[TAG],
        operation_id="role_permissions_add",
        request=_permissions_body,
        responses=_role,
        summary="Add permissions to a role",
    )
    def put(self, request, role):
        permissions = wire.name_list(self.body(), "permissions", label="Permissions")
        updated = services.role_permissions_add(
            RolePermissionsAdd(name=role, permissions=tuple(permissions)),
            tenant=self.tenant,
            actor=self.actor,
        )
        return self.respond(wire.role_json(updated))

    @extend_schema(
        tags=[TAG],
        operation_id="role_permissions_remove",
        request=_permissions_body,
        responses=_role,
        summary="Remove permissions from a role",
    )
    def delete(self, request, role):
        permissions = wire.name_list(self.body(), "permissions", label="Permissions")
        updated = services.role_permissions_remove(
            RolePermissionsRemove(name=role, permissions=tuple(permissions)),
            tenant=self.tenant,
            actor=self.actor,
        )
        return self.respond(wire.role_json(updated))


class AccountRoleView(LRAPIView):
    section = "roles"

    @extend_schema(
        tags=[TAG], operation_id="account_roles_get", responses=_roles, summary="Roles by UID"
    )
    def get(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        return self.respond({"Roles": selectors.account_role_names(account=account)})

    @extend_schema(
        tags=[TAG],
        operation_id="account_roles_assign",
        request=_roles_body,
        responses=_roles,
        summary="Assign roles by UID (1047 if a role does not exist)",
    )
    def put(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        names = wire.name_list(self.body(), "roles", label="Roles")
        roles = services.account_roles_assign(
            AccountRolesAssign(roles=tuple(names)),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return self.respond({"Roles": roles})

    @extend_schema(
        tags=[TAG],
        operation_id="account_roles_unassign",
        request=_roles_body,
        responses=_deleted,
        summary="Unassign roles by UID",
    )
    def delete(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        names = wire.name_list(self.body(), "roles", label="Roles")
        services.account_roles_unassign(
            AccountRolesUnassign(roles=tuple(names)),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return self.respond({"IsDeleted": True})


class AccountRoleContextView(LRAPIView):
    section = "roles"

    def _contexts(self, account):
        return {
            "Data": [
                wire.role_context_json(c) for c in selectors.role_context_list(account=account)
            ]
        }

    @extend_schema(
        tags=[TAG],
        operation_id="account_role_contexts_get",
        responses=_context_list,
        summary="Role contexts by UID (expired ones included)",
    )
    def get(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        return self.respond(self._contexts(account))

    @extend_schema(
        tags=[TAG],
        operation_id="account_role_contexts_upsert",
        request=_context_body,
        responses=_context_list,
        summary="Upsert role contexts by UID (roles and permissions are added; 1133, 1047, 1172)",
    )
    def put(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        command = wire.role_context_grant_command(self.body_json())
        services.role_contexts_upsert(
            command, tenant=self.tenant, actor=self.actor, account=account
        )
        return self.respond(self._contexts(account))


class AccountRoleContextDetailView(LRAPIView):
    section = "roles"

    @extend_schema(
        tags=[TAG],
        operation_id="account_role_context_delete",
        request=None,
        responses=_deleted,
        summary="Delete a role context by UID",
    )
    def delete(self, request, uid, context_name):
        account = account_get(tenant=self.tenant, uid=uid)
        services.role_context_delete(
            RoleContextDelete(name=context_name),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return self.respond({"IsDeleted": True})


class AccountRoleContextRoleView(LRAPIView):
    section = "roles"

    @extend_schema(
        tags=[TAG],
        operation_id="account_role_context_roles_remove",
        request=_roles_body,
        responses=_deleted,
        summary="Remove roles from a role context",
    )
    def delete(self, request, uid, context_name):
        account = account_get(tenant=self.tenant, uid=uid)
        names = wire.name_list(self.body(), "roles", label="Roles")
        services.role_context_roles_remove(
            RoleContextRolesRemove(name=context_name, roles=tuple(names)),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return self.respond({"IsDeleted": True})


class AccountRoleContextPermissionView(LRAPIView):
    section = "roles"

    @extend_schema(
        tags=[TAG],
        operation_id="account_role_context_permissions_remove",
        request=_additional_body,
        responses=_deleted,
        summary="Remove additional permissions from a role context (1142)",
    )
    def delete(self, request, uid, context_name):
        account = account_get(tenant=self.tenant, uid=uid)
        permissions = wire.name_list(
            self.body(), "additionalpermissions", label="AdditionalPermissions"
        )
        services.role_context_permissions_remove(
            RoleContextPermissionsRemove(name=context_name, permissions=tuple(permissions)),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return self.respond({"IsDeleted": True})


class RoleContextAccountsView(LRAPIView):
    section = "roles"

    @extend_schema(
        tags=[TAG],
        operation_id="role_context_accounts",
        responses=_context_accounts,
        summary="Accounts holding a role context of this name",
    )
    def get(self, request, context_name):
        services.context_name_check(context_name)
        contexts = selectors.role_context_list_by_name(tenant=self.tenant, name=context_name)
        return self.respond({"Data": [wire.role_context_account_json(c) for c in contexts]})

"""Roles, an account's roles and its role contexts as native resources (docs/api.md).

Every change is one command and one service (RolesCreate, RolePermissionsSet, RoleDelete,
AccountRolesSet, RoleContextGrant, RoleContextDelete; most of them the LoginRadius role
paths and the console build too), so the checks, events and permission-cache
invalidation are the same on every path. A role context is versioned (its ETag is
roles.selectors.role_context_version); `If-Match` on its PUT and DELETE becomes the
command's `expected_version`, and a stale one answers 412.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts.selectors import account_get
from portal.api.native import (
    AFTER,
    IF_MATCH,
    PAGE_SIZE,
    REASON,
    TICKET,
    NativeAPIView,
    after_of,
    held_for_approval,
    list_example,
    list_of,
    page_body,
    page_size_of,
    reason_and_ticket,
)
from portal.errors import FieldError, InvalidInput
from roles import selectors, services
from roles.api.native_json import (
    body_expiration,
    body_names,
    body_object,
    role_context_json,
    role_json,
)
from roles.commands import (
    AccountRolesSet,
    ContextGrant,
    RoleContextDelete,
    RoleContextGrant,
    RoleDelete,
    RoleInput,
    RolePermissionsSet,
    RolesCreate,
)

TAG_ROLES = ["Roles"]
TAG_ACCOUNT = ["Account roles"]

_ROLE = inline_serializer(
    "NativeRole",
    {
        "name": serializers.CharField(),
        "description": serializers.CharField(),
        "permissions": serializers.ListField(child=serializers.CharField()),
        "privileged": serializers.BooleanField(),
        "created_at": serializers.DateTimeField(),
        "modified_at": serializers.DateTimeField(),
    },
)
_ROLE_EXAMPLE = {
    "name": "support",
    "description": "Front-line support: reads accounts and issues refunds.",
    "permissions": ["account.read", "refund.issue"],
    "privileged": False,
    "created_at": "2026-12-01T09:00:00.000Z",
    "modified_at": "2026-12-07T04:00:00.000Z",
}
_ROLE_INPUT = inline_serializer(
    "NativeRoleInput",
    {
        "name": serializers.CharField(),
        "description": serializers.CharField(required=False, max_length=500),
        "permissions": serializers.ListField(child=serializers.CharField(), required=False),
    },
)
_ROLE_PATCH = inline_serializer(
    "NativeRolePatch",
    {
        "permissions": serializers.ListField(child=serializers.CharField(), allow_null=True),
        "privileged": serializers.BooleanField(required=False),
        "description": serializers.CharField(allow_null=True, required=False, max_length=500),
    },
)
_ACCOUNT_ROLES = inline_serializer(
    "NativeAccountRoles", {"roles": serializers.ListField(child=serializers.CharField())}
)
_CONTEXT = inline_serializer(
    "NativeRoleContext",
    {
        "name": serializers.CharField(),
        "roles": serializers.ListField(child=serializers.CharField()),
        "additional_permissions": serializers.ListField(child=serializers.CharField()),
        "expiration": serializers.DateTimeField(allow_null=True),
        "version": serializers.CharField(),
    },
)
_CONTEXT_INPUT = inline_serializer(
    "NativeRoleContextInput",
    {
        "roles": serializers.ListField(child=serializers.CharField(), required=False),
        "additional_permissions": serializers.ListField(
            child=serializers.CharField(), required=False
        ),
        "expiration": serializers.DateTimeField(allow_null=True, required=False),
    },
)
_CONTEXT_EXAMPLE = {
    "name": "store-7",
    "roles": ["support"],
    "additional_permissions": ["refund.issue"],
    "expiration": "2027-01-01T00:00:00.000Z",
    "version": "2026-12-07T04:00:00.123456+00:00",
}


# --- roles ------------------------------------------------------------------------------


class NativeRoleListView(NativeAPIView):
    """The tenant's roles in id order after a cursor; POST creates one."""

    section = "roles"
    query_parameters = ("after", "page_size")

    @extend_schema(
        tags=TAG_ROLES,
        operation_id="native_roles_list",
        summary="The tenant's roles",
        parameters=[AFTER, PAGE_SIZE],
        responses={200: list_of("NativeRoleList", _ROLE)},
        examples=[list_example(_ROLE_EXAMPLE)],
    )
    def get(self, request):
        page_size, after = page_size_of(request), after_of(request)
        rows, more, count = selectors.role_page(tenant=self.tenant, after=after, limit=page_size)
        body = page_body(
            request,
            [role_json(role) for role in rows],
            count=count,
            more=more,
            last_id=rows[-1].pk if rows else after,
        )
        return self.respond(body, project=False)

    @extend_schema(
        tags=TAG_ROLES,
        operation_id="native_roles_create",
        summary="Create a role",
        parameters=[REASON, TICKET],
        request=_ROLE_INPUT,
        responses={201: _ROLE},
        examples=[
            OpenApiExample(
                "A role",
                request_only=True,
                value={"name": "support", "permissions": ["account.read", "refund.issue"]},
            ),
            OpenApiExample(
                "Created", response_only=True, status_codes=["201"], value=_ROLE_EXAMPLE
            ),
        ],
    )
    def post(self, request):
        body = body_object(self.body_json(), ("name", "permissions", "description"))
        name = body.get("name")
        if not isinstance(name, str):
            raise InvalidInput(field_errors=[FieldError("name", "A role name.", "required")])
        command = RolesCreate(
            roles=(
                RoleInput(
                    name=name,
                    permissions=body_names(body, "permissions"),
                    description=body.get("description", ""),
                ),
            ),
            **reason_and_ticket(request),
        )
        (role,) = services.roles_create(command, tenant=self.tenant, actor=self.actor)
        return self.respond(role_json(role), status=201, project=False)


class NativeRoleDetailView(NativeAPIView):
    """One role: read, change its permissions by merge patch, delete."""

    section = "roles"

    @extend_schema(
        tags=TAG_ROLES,
        operation_id="native_role_retrieve",
        summary="A role",
        responses={200: _ROLE},
        examples=[OpenApiExample("A role", response_only=True, value=_ROLE_EXAMPLE)],
    )
    def get(self, request, role):
        return self.respond(
            role_json(selectors.role_get(tenant=self.tenant, name=role)), project=False
        )

    @extend_schema(
        tags=TAG_ROLES,
        operation_id="native_role_patch",
        summary="Change a role's permissions, privilege or description (JSON merge patch)",
        description="`permissions` replaces the role's list (null: none), `privileged` and "
        "`description` (null: none) replace theirs, as one change recording one "
        "`role.permissions_changed` event. The name cannot change.",
        parameters=[REASON, TICKET],
        request={"application/merge-patch+json": _ROLE_PATCH, "application/json": _ROLE_PATCH},
        responses={200: _ROLE},
        examples=[
            OpenApiExample(
                "Replace the permissions",
                request_only=True,
                value={"permissions": ["account.read", "account.write"]},
            ),
            OpenApiExample("Changed", response_only=True, value=_ROLE_EXAMPLE),
        ],
    )
    def patch(self, request, role):
        current = selectors.role_get(tenant=self.tenant, name=role)
        body = body_object(
            self.body_json(),
            ("permissions", "privileged", "description"),
            read_only=("name", "created_at", "modified_at"),
        )
        privileged = body.get("privileged")
        if privileged is not None and not isinstance(privileged, bool):
            raise InvalidInput(field_errors=[FieldError("privileged", "true or false.")])
        # Merge patch: null clears the description.
        description = (body["description"] or "") if "description" in body else None
        if "permissions" in body or privileged is not None or description is not None:
            services.role_permissions_set(
                RolePermissionsSet(
                    name=current.name,
                    permissions=body_names(body, "permissions") if "permissions" in body else None,
                    privileged=privileged,
                    description=description,
                    **reason_and_ticket(request),
                ),
                tenant=self.tenant,
                actor=self.actor,
            )
        return self.respond(
            role_json(selectors.role_get(tenant=self.tenant, name=role)), project=False
        )

    @extend_schema(
        tags=TAG_ROLES,
        operation_id="native_role_destroy",
        summary="Delete a role",
        description="Takes it from every account and role context in the same transaction.",
        parameters=[REASON, TICKET],
        request=None,
        responses={204: None},
    )
    def delete(self, request, role):
        services.role_delete(
            RoleDelete(name=role, **reason_and_ticket(request)),
            tenant=self.tenant,
            actor=self.actor,
        )
        return Response(status=204)


# --- an account's roles -----------------------------------------------------------------


class NativeAccountRolesView(NativeAPIView):
    """The roles assigned to an account directly: read, or set the whole set."""

    section = "roles"

    def _answer(self, account) -> Response:
        return self.respond({"roles": selectors.account_role_names(account=account)}, project=False)

    @extend_schema(
        tags=TAG_ACCOUNT,
        operation_id="account_roles_retrieve",
        summary="The account's roles",
        responses={200: _ACCOUNT_ROLES},
        examples=[OpenApiExample("Two roles", response_only=True, value={"roles": ["a", "b"]})],
    )
    def get(self, request, uid):
        return self._answer(account_get(tenant=self.tenant, uid=uid))

    @extend_schema(
        tags=TAG_ACCOUNT,
        operation_id="account_roles_replace",
        summary="Set the account's roles",
        description="Assigns the roles it lacks and takes away those not named, as one change "
        "recording one `account_roles.replaced` event; an unknown role answers 404 and nothing "
        "changes.",
        parameters=[REASON, TICKET],
        request=_ACCOUNT_ROLES,
        responses={200: _ACCOUNT_ROLES},
        examples=[OpenApiExample("Set", request_only=True, value={"roles": ["support", "editor"]})],
    )
    def put(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        body = body_object(self.body_json(), ("roles",))
        command = AccountRolesSet(
            roles=body_names(body, "roles", required=True), **reason_and_ticket(request)
        )
        held = held_for_approval(
            self,
            command,
            account_uid=uid,
            summary=f"Set the roles of {uid}: {', '.join(command.roles)}",
        )
        if held is not None:
            return held
        services.account_roles_set(command, tenant=self.tenant, actor=self.actor, account=account)
        return self._answer(account)


# --- an account's role contexts ---------------------------------------------------------


class NativeRoleContextListView(NativeAPIView):
    """The account's role contexts (expired ones included), by name."""

    section = "roles"

    @extend_schema(
        tags=TAG_ACCOUNT,
        operation_id="role_contexts_list",
        summary="The account's role contexts",
        responses={200: list_of("NativeRoleContextList", _CONTEXT)},
        examples=[
            OpenApiExample(
                "One context",
                response_only=True,
                value={"count": 1, "next": None, "previous": None, "results": [_CONTEXT_EXAMPLE]},
            )
        ],
    )
    def get(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        rows = [role_context_json(c) for c in selectors.role_context_list(account=account)]
        return self.respond(
            {"count": len(rows), "next": None, "previous": None, "results": rows}, project=False
        )


class NativeRoleContextDetailView(NativeAPIView):
    """One role context of the account, with its version as ETag."""

    section = "roles"

    def _answer(self, account, name: str, status: int = 200) -> Response:
        context = selectors.role_context_get(account=account, name=name)
        return self.respond_versioned(
            role_context_json(context),
            version=selectors.role_context_version(context),
            status=status,
        )

    @extend_schema(
        tags=TAG_ACCOUNT,
        operation_id="role_context_retrieve",
        summary="A role context",
        responses={200: _CONTEXT},
        examples=[OpenApiExample("A context", response_only=True, value=_CONTEXT_EXAMPLE)],
    )
    def get(self, request, uid, context_name):
        return self._answer(account_get(tenant=self.tenant, uid=uid), context_name)

    @extend_schema(
        tags=TAG_ACCOUNT,
        operation_id="role_context_grant",
        summary="Create a role context or add to it",
        description="The roles and additional permissions named are added to what the context "
        "holds (removing goes through DELETE); `expiration` (RFC 3339, null: never) replaces the "
        "stored one, and when left out keeps it. `If-Match` refuses a context changed since.",
        parameters=[IF_MATCH, REASON, TICKET],
        request=_CONTEXT_INPUT,
        responses={200: _CONTEXT, 201: _CONTEXT},
        examples=[
            OpenApiExample(
                "Grant until a date",
                request_only=True,
                value={
                    "roles": ["support"],
                    "additional_permissions": ["refund.issue"],
                    "expiration": "2027-01-01T00:00:00Z",
                },
            ),
            OpenApiExample("Granted", response_only=True, value=_CONTEXT_EXAMPLE),
        ],
    )
    def put(self, request, uid, context_name):
        account = account_get(tenant=self.tenant, uid=uid)
        body = body_object(
            self.body_json(),
            ("roles", "additional_permissions", "expiration"),
            read_only=("name", "version"),
        )
        keep = "expiration" not in body
        grant = ContextGrant(
            name=context_name,
            roles=body_names(body, "roles"),
            additional_permissions=body_names(body, "additional_permissions"),
            expiration=None if keep else body_expiration(body["expiration"]),
            keep_expiration=keep,
            expected_version=self.expected_version,
        )
        existed = any(c.name == context_name for c in selectors.role_context_list(account=account))
        services.role_contexts_upsert(
            RoleContextGrant(contexts=(grant,), **reason_and_ticket(request)),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return self._answer(account, context_name, status=200 if existed else 201)

    @extend_schema(
        tags=TAG_ACCOUNT,
        operation_id="role_context_destroy",
        summary="Remove a role context",
        parameters=[IF_MATCH, REASON, TICKET],
        request=None,
        responses={204: None},
    )
    def delete(self, request, uid, context_name):
        account = account_get(tenant=self.tenant, uid=uid)
        services.role_context_delete(
            RoleContextDelete(
                name=context_name,
                expected_version=self.expected_version,
                **reason_and_ticket(request),
            ),
            tenant=self.tenant,
            actor=self.actor,
            account=account,
        )
        return Response(status=204)

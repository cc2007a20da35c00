from portal import audit, events

# What a role context holds (roles.services.context_state).
CONTEXT_KEYS = ("roles", "additional_permissions", "expiration")

audit.register(
    {
        "role.created": "Role created",
        "role.deleted": "Role deleted (and taken from every account and context)",
        "role.permissions_changed": "Permissions, privilege or description of a role changed",
        "account_roles.assigned": "Roles assigned to an account",
        "account_roles.unassigned": "Roles taken from an account",
        "account_roles.replaced": "Roles of an account set to a new list",
        "role_context.created": "Role context created for an account",
        "role_context.updated": "Role context of an account changed",
        "role_context.deleted": "Role context of an account deleted",
    },
    section="roles",
    payloads={
        "role.created": events.payload("name", "permissions", "description"),
        "role.deleted": events.payload("name", "permissions", "accounts", "contexts"),
        "role.permissions_changed": events.payload(
            "permissions", "privileged", "description", values=("name",)
        ),
        "account_roles.assigned": events.payload("roles"),
        "account_roles.unassigned": events.payload("roles"),
        "account_roles.replaced": events.payload("roles"),
        "role_context.created": events.payload(*CONTEXT_KEYS, values=("context",)),
        "role_context.updated": events.payload(*CONTEXT_KEYS, values=("context",)),
        "role_context.deleted": events.payload(*CONTEXT_KEYS, values=("context",)),
    },
)

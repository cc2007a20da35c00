from portal import audit

audit.register(
    {
        "role.created": "Role created",
        "role.deleted": "Role deleted (and taken from every account and context)",
        "role.permissions_changed": "Permissions of a role changed",
        "account_roles.assigned": "Roles assigned to an account",
        "account_roles.unassigned": "Roles taken from an account",
        "role_context.created": "Role context created for an account",
        "role_context.updated": "Role context of an account changed",
        "role_context.deleted": "Role context of an account deleted",
    }
)

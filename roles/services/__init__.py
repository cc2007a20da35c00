"""Every write to roles, assignments and role contexts.

Each service takes one typed command (roles/commands.py), runs in one transaction, records
one audit event with a diff in it, and invalidates the effective-permissions cache after
the commit (see permission_cache). The operations live by what they change (roles and
their permissions, assignments, role contexts); this package names them all, so callers
import from `roles.services`.
"""

from roles.services.assignments import (
    account_roles_assign,
    account_roles_set,
    account_roles_unassign,
)
from roles.services.checks import context_name_check
from roles.services.contexts import (
    context_state,
    role_context_delete,
    role_context_permissions_remove,
    role_context_roles_remove,
    role_contexts_upsert,
)
from roles.services.roles import (
    role_delete,
    role_permissions_add,
    role_permissions_remove,
    role_permissions_set,
    roles_create,
)

__all__ = [
    "account_roles_assign",
    "account_roles_set",
    "account_roles_unassign",
    "context_name_check",
    "context_state",
    "role_context_delete",
    "role_context_permissions_remove",
    "role_context_roles_remove",
    "role_contexts_upsert",
    "role_delete",
    "role_permissions_add",
    "role_permissions_remove",
    "role_permissions_set",
    "roles_create",
]

"""Reads of roles, assignments and role contexts."""


def account_role_names(*, account) -> list[str]:
    """Names of the roles assigned to `account` (the profile's `Roles`)."""
    return []

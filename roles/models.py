"""Roles with their permissions, the roles assigned to accounts, and role contexts.

A role context scopes roles and extra permissions to a named context ("Home", "org-42")
of one account, optionally until an expiration; an expired context stays stored (the API
shows it) but grants nothing.
"""

from django.db import models
from django.utils import timezone

from portal.models import Tenant


class Role(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=100)
    # What the role is for, in the words of the admins who manage it (shown on its page).
    description = models.CharField(max_length=500, blank=True, default="")
    # Sorted, distinct permission names.
    permissions = models.JSONField(default=list, blank=True)
    # Granting a privileged role goes through a second person where the tenant asks for it
    # (approvals.policy, the `role.privileged` gate).
    privileged = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="role_name_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name


class AccountRole(models.Model):
    """A role assigned to an account outside any context (the profile's `Roles`)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="assignments")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "role"], name="account_role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.role_id}"


class RoleContext(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="role_contexts"
    )
    name = models.CharField(max_length=100)
    roles = models.ManyToManyField(Role, related_name="contexts", blank=True)
    # Sorted, distinct permission names granted in this context besides its roles'.
    additional_permissions = models.JSONField(default=list, blank=True)
    expiration = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "name"], name="role_context_unique_per_account"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "name"])]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.name}"

    def is_active(self, now=None) -> bool:
        """A context grants until (not including) its expiration."""
        return self.expiration is None or (now or timezone.now()) < self.expiration

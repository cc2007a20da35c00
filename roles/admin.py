"""Read-only admin pages: changes go through roles.services so they are audited and the
permission cache is invalidated."""

from django.contrib import admin

from roles.models import AccountRole, Role, RoleContext


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Role)
class RoleAdmin(ReadOnlyAdmin):
    list_display = ("name", "tenant", "modified")
    list_filter = ("tenant",)
    search_fields = ("name",)


@admin.register(AccountRole)
class AccountRoleAdmin(ReadOnlyAdmin):
    list_display = ("account", "role", "tenant", "created")
    list_filter = ("tenant",)
    search_fields = ("account__uid", "role__name")


@admin.register(RoleContext)
class RoleContextAdmin(ReadOnlyAdmin):
    list_display = ("account", "name", "expiration", "tenant")
    list_filter = ("tenant",)
    search_fields = ("account__uid", "name")

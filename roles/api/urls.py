from portal.lrapi.routing import lr_path
from roles.api import native, native_permissions, views

app_name = "roles_api"

_ACCOUNT = "identity/v2/manage/account"

# lr_path matches case-insensitively: `rolecontext` and v12's `roleContext` both route here.
urlpatterns = [
    lr_path("identity/v2/manage/role", views.RoleListView.as_view(), name="role_list"),
    lr_path(
        "identity/v2/manage/role/<str:role>", views.RoleDetailView.as_view(), name="role_detail"
    ),
    lr_path(
        "identity/v2/manage/role/<str:role>/permission",
        views.RolePermissionView.as_view(),
        name="role_permission",
    ),
    # The literal `account/rolecontext/<name>` comes before `account/<uid>/...`.
    lr_path(
        f"{_ACCOUNT}/rolecontext/<str:context_name>",
        views.RoleContextAccountsView.as_view(),
        name="role_context_accounts",
    ),
    lr_path(f"{_ACCOUNT}/<str:uid>/role", views.AccountRoleView.as_view(), name="account_role"),
    lr_path(
        f"{_ACCOUNT}/<str:uid>/rolecontext",
        views.AccountRoleContextView.as_view(),
        name="account_role_context",
    ),
    lr_path(
        f"{_ACCOUNT}/<str:uid>/rolecontext/<str:context_name>",
        views.AccountRoleContextDetailView.as_view(),
        name="account_role_context_detail",
    ),
    lr_path(
        f"{_ACCOUNT}/<str:uid>/rolecontext/<str:context_name>/role",
        views.AccountRoleContextRoleView.as_view(),
        name="account_role_context_role",
    ),
    lr_path(
        f"{_ACCOUNT}/<str:uid>/rolecontext/<str:context_name>/additionalpermission",
        views.AccountRoleContextPermissionView.as_view(),
        name="account_role_context_permission",
    ),
    lr_path(
        "api/v1/accounts/<str:uid>/permissions",
        native_permissions.NativeAccountPermissionsView.as_view(),
        name="account_permissions",
    ),
    # Native (/api/v1/, docs/api.md)
    lr_path("api/v1/roles", native.NativeRoleListView.as_view(), name="native_roles"),
    lr_path("api/v1/roles/<str:role>", native.NativeRoleDetailView.as_view(), name="native_role"),
    lr_path(
        "api/v1/accounts/<str:uid>/roles",
        native.NativeAccountRolesView.as_view(),
        name="native_account_roles",
    ),
    lr_path(
        "api/v1/accounts/<str:uid>/role-contexts",
        native.NativeRoleContextListView.as_view(),
        name="native_role_contexts",
    ),
    lr_path(
        "api/v1/accounts/<str:uid>/role-contexts/<str:context_name>",
        native.NativeRoleContextDetailView.as_view(),
        name="native_role_context",
    ),
]

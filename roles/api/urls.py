from portal.lrapi.routing import lr_path
from roles.api import views

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
        views.AccountPermissionsView.as_view(),
        name="account_permissions",
    ),
]

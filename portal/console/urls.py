from django.urls import path

from portal.console import signin, views

app_name = "console"

urlpatterns = [
    path("login/", signin.LoginView.as_view(), name="login"),
    path("login/verify/", signin.LoginVerifyView.as_view(), name="login_verify"),
    path("login/enrol/", signin.LoginEnrolView.as_view(), name="login_enrol"),
    path("logout/", signin.LogoutView.as_view(), name="logout"),
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("tenant/switch/", views.TenantSwitchView.as_view(), name="tenant_switch"),
    path("accounts/", views.AccountSearchView.as_view(), name="account_search"),
    path("accounts/<slug:slug>/<str:uid>/", views.AccountDetailView.as_view(), name="account_detail"),
    path(
        "accounts/<slug:slug>/<str:uid>/<str:action>/",
        views.AccountActionView.as_view(),
        name="account_action",
    ),
    path("roles/", views.RolesView.as_view(), name="roles"),
    path("roles/<str:op>/", views.RoleWriteView.as_view(), name="role_write"),
    path("custom-objects/", views.ObjectTypesView.as_view(), name="object_types"),
    path("custom-objects/<str:op>/", views.ObjectTypeWriteView.as_view(), name="object_type_write"),
    path("custom-objects/<int:pk>/<str:op>/", views.ObjectTypeWriteView.as_view(), name="object_type_write"),
    path("audit/", views.AuditLogView.as_view(), name="audit_log"),
    path("audit/export.csv", views.AuditExportView.as_view(), name="audit_export"),
    path("tenants/", views.TenantListView.as_view(), name="tenant_list"),
    path("tenants/<slug:slug>/", views.TenantDetailView.as_view(), name="tenant_detail"),
    path("tenants/<slug:slug>/settings/", views.TenantSettingsView.as_view(), name="tenant_settings"),
    path("tenants/<slug:slug>/credentials/new/", views.CredentialCreateView.as_view(), name="credential_create"),
    path("tenants/<slug:slug>/credentials/rotate/", views.CredentialRotateView.as_view(), name="credential_rotate"),
    path(
        "tenants/<slug:slug>/credentials/<int:pk>/revoke/",
        views.CredentialRevokeView.as_view(),
        name="credential_revoke",
    ),
    path("tenants/<slug:slug>/staff/grant/", views.StaffAccessGrantView.as_view(), name="staff_grant"),
    path("tenants/<slug:slug>/staff/revoke/", views.StaffAccessRevokeView.as_view(), name="staff_revoke"),
]

from django.urls import path

from portal.console import signin
from portal.console.views import (
    accounts,
    audit,
    dashboard,
    jobs,
    object_types,
    push_settings,
    roles,
    staff_access,
    tenants,
)

app_name = "console"

urlpatterns = [
    path("login/", signin.LoginView.as_view(), name="login"),
    path("login/verify/", signin.LoginVerifyView.as_view(), name="login_verify"),
    path("login/enrol/", signin.LoginEnrolView.as_view(), name="login_enrol"),
    path("logout/", signin.LogoutView.as_view(), name="logout"),
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("tenant/switch/", dashboard.TenantSwitchView.as_view(), name="tenant_switch"),
    path("accounts/", accounts.AccountSearchView.as_view(), name="account_search"),
    path(
        "accounts/<slug:slug>/<str:uid>/",
        accounts.AccountDetailView.as_view(),
        name="account_detail",
    ),
    path(
        "accounts/<slug:slug>/<str:uid>/<str:action>/",
        accounts.AccountActionView.as_view(),
        name="account_action",
    ),
    path("roles/", roles.RolesView.as_view(), name="roles"),
    path("roles/<str:op>/", roles.RoleWriteView.as_view(), name="role_write"),
    path("custom-objects/", object_types.ObjectTypesView.as_view(), name="object_types"),
    path(
        "custom-objects/<str:op>/",
        object_types.ObjectTypeWriteView.as_view(),
        name="object_type_write",
    ),
    path(
        "custom-objects/<int:pk>/<str:op>/",
        object_types.ObjectTypeWriteView.as_view(),
        name="object_type_write",
    ),
    path("audit/", audit.AuditLogView.as_view(), name="audit_log"),
    path("jobs/", jobs.JobListView.as_view(), name="job_list"),
    path("jobs/<int:pk>/", jobs.JobDetailView.as_view(), name="job_detail"),
    path("jobs/<int:pk>/report.csv", jobs.JobReportView.as_view(), name="job_report"),
    path("audit/export.csv", audit.AuditExportView.as_view(), name="audit_export"),
    path("tenants/", tenants.TenantListView.as_view(), name="tenant_list"),
    path("tenants/<slug:slug>/", tenants.TenantDetailView.as_view(), name="tenant_detail"),
    path(
        "tenants/<slug:slug>/settings/",
        tenants.TenantSettingsView.as_view(),
        name="tenant_settings",
    ),
    path(
        "tenants/<slug:slug>/push/",
        push_settings.PushSettingsView.as_view(),
        name="push_settings",
    ),
    path(
        "tenants/<slug:slug>/credentials/new/",
        tenants.CredentialCreateView.as_view(),
        name="credential_create",
    ),
    path(
        "tenants/<slug:slug>/credentials/rotate/",
        tenants.CredentialRotateView.as_view(),
        name="credential_rotate",
    ),
    path(
        "tenants/<slug:slug>/credentials/<int:pk>/revoke/",
        tenants.CredentialRevokeView.as_view(),
        name="credential_revoke",
    ),
    path(
        "tenants/<slug:slug>/staff/grant/",
        staff_access.StaffAccessGrantView.as_view(),
        name="staff_grant",
    ),
    path(
        "tenants/<slug:slug>/staff/revoke/",
        staff_access.StaffAccessRevokeView.as_view(),
        name="staff_revoke",
    ),
]

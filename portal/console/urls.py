from django.urls import path

from portal.console import signin
from portal.console.actions import views as action_views
from portal.console.views import (
    access_grants,
    accounts,
    approvals,
    audit,
    dashboard,
    history,
    jobs,
    object_types,
    push_settings,
    reason_presets,
    recovery,
    reveal,
    roles,
    search,
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
    path("accounts/typeahead/", search.AccountTypeaheadView.as_view(), name="account_typeahead"),
    path(
        "accounts/<slug:slug>/<str:uid>/",
        accounts.AccountDetailView.as_view(),
        name="account_detail",
    ),
    path(
        "accounts/<slug:slug>/<str:uid>/as-of/",
        history.AccountAsOfView.as_view(),
        name="account_as_of",
    ),
    path(
        "accounts/<slug:slug>/<str:uid>/restore/<int:event_id>/<str:field>/",
        history.AccountRestoreView.as_view(),
        name="account_restore",
    ),
    path(
        "accounts/<slug:slug>/<str:uid>/reveal/",
        reveal.AccountRevealView.as_view(),
        name="account_reveal",
    ),
    path(
        "accounts/<slug:slug>/<str:uid>/recovery/",
        recovery.RecoveryStartView.as_view(),
        name="recovery_start",
    ),
    path(
        "recovery/<slug:slug>/<int:pk>/",
        recovery.RecoveryCaseView.as_view(),
        name="recovery_case",
    ),
    path(
        "accounts/<slug:slug>/<str:uid>/<str:action>/",
        action_views.AccountActionView.as_view(),
        name="account_action",
    ),
    path("approvals/", approvals.ApprovalQueueView.as_view(), name="approvals"),
    path("access/", access_grants.AccessGrantsView.as_view(), name="access_grants"),
    path(
        "approvals/<slug:slug>/<int:pk>/",
        approvals.ApprovalDetailView.as_view(),
        name="approval_detail",
    ),
    path("roles/", roles.RolesView.as_view(), name="roles"),
    path("role/<str:name>/", roles.RoleDetailView.as_view(), name="role_detail"),
    path("role-contexts/", roles.RoleContextListView.as_view(), name="role_context_list"),
    path(
        "role-contexts-expiring/",
        roles.RoleContextExpiringView.as_view(),
        name="role_context_expiring",
    ),
    path("role-context-names/", roles.RoleContextNamesView.as_view(), name="role_context_names"),
    path(
        "role-contexts/<str:name>/",
        roles.RoleContextDetailView.as_view(),
        name="role_context_detail",
    ),
    path(
        "role-contexts/<str:name>/<str:op>/",
        roles.RoleContextActionView.as_view(),
        name="role_context_action",
    ),
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
    path("audit/<int:pk>/", audit.AuditEventDetailView.as_view(), name="audit_event"),
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
        "tenants/<slug:slug>/reason-presets/",
        reason_presets.ReasonPresetListView.as_view(),
        name="reason_presets",
    ),
    path(
        "tenants/<slug:slug>/reason-presets/<int:pk>/",
        reason_presets.ReasonPresetEditView.as_view(),
        name="reason_preset_edit",
    ),
    path(
        "tenants/<slug:slug>/reason-presets/<int:pk>/delete/",
        reason_presets.ReasonPresetDeleteView.as_view(),
        name="reason_preset_delete",
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

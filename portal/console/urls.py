from django.urls import URLPattern, path
from django.views import View

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


def under(prefix: str, *routes: tuple[str, type[View], str]) -> list[URLPattern]:
    """One family of pages: each `(rest, view, name)` served at `prefix` + `rest`, in the
    order given (a catch-all such as `<str:op>/` comes after the literal routes it would
    otherwise shadow)."""
    return [path(prefix + rest, view.as_view(), name=name) for rest, view, name in routes]


urlpatterns = [
    *under(
        "login/",
        ("", signin.LoginView, "login"),
        ("verify/", signin.LoginVerifyView, "login_verify"),
        ("enrol/", signin.LoginEnrolView, "login_enrol"),
    ),
    path("logout/", signin.LogoutView.as_view(), name="logout"),
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("tenant/switch/", dashboard.TenantSwitchView.as_view(), name="tenant_switch"),
    *under(
        "accounts/",
        ("", accounts.AccountSearchView, "account_search"),
        ("typeahead/", search.AccountTypeaheadView, "account_typeahead"),
    ),
    *under(
        "accounts/<slug:slug>/<str:uid>/",
        ("", accounts.AccountDetailView, "account_detail"),
        ("as-of/", history.AccountAsOfView, "account_as_of"),
        ("restore/<int:event_id>/<str:field>/", history.AccountRestoreView, "account_restore"),
        ("reveal/", reveal.AccountRevealView, "account_reveal"),
        ("recovery/", recovery.RecoveryStartView, "recovery_start"),
        ("<str:action>/", action_views.AccountActionView, "account_action"),
    ),
    path(
        "recovery/<slug:slug>/<int:pk>/", recovery.RecoveryCaseView.as_view(), name="recovery_case"
    ),
    *under(
        "approvals/",
        ("", approvals.ApprovalQueueView, "approvals"),
        ("<slug:slug>/<int:pk>/", approvals.ApprovalDetailView, "approval_detail"),
    ),
    path("access/", access_grants.AccessGrantsView.as_view(), name="access_grants"),
    path("roles/", roles.RolesView.as_view(), name="roles"),
    path("role/<str:name>/", roles.RoleDetailView.as_view(), name="role_detail"),
    *under(
        "role-contexts/",
        ("", roles.RoleContextListView, "role_context_list"),
        ("<str:name>/", roles.RoleContextDetailView, "role_context_detail"),
        ("<str:name>/<str:op>/", roles.RoleContextActionView, "role_context_action"),
    ),
    path(
        "role-contexts-expiring/",
        roles.RoleContextExpiringView.as_view(),
        name="role_context_expiring",
    ),
    path("role-context-names/", roles.RoleContextNamesView.as_view(), name="role_context_names"),
    path("roles/<str:op>/", roles.RoleWriteView.as_view(), name="role_write"),
    *under(
        "custom-objects/",
        ("", object_types.ObjectTypesView, "object_types"),
        ("<str:op>/", object_types.ObjectTypeWriteView, "object_type_write"),
        ("<int:pk>/<str:op>/", object_types.ObjectTypeWriteView, "object_type_write"),
    ),
    *under(
        "audit/",
        ("", audit.AuditLogView, "audit_log"),
        ("<int:pk>/", audit.AuditEventDetailView, "audit_event"),
        ("export.csv", audit.AuditExportView, "audit_export"),
    ),
    *under(
        "jobs/",
        ("", jobs.JobListView, "job_list"),
        ("<int:pk>/", jobs.JobDetailView, "job_detail"),
        ("<int:pk>/report.csv", jobs.JobReportView, "job_report"),
    ),
    path("tenants/", tenants.TenantListView.as_view(), name="tenant_list"),
    *under(
        "tenants/<slug:slug>/",
        ("", tenants.TenantDetailView, "tenant_detail"),
        ("settings/", tenants.TenantSettingsView, "tenant_settings"),
        ("push/", push_settings.PushSettingsView, "push_settings"),
        ("credentials/new/", tenants.CredentialCreateView, "credential_create"),
        ("credentials/rotate/", tenants.CredentialRotateView, "credential_rotate"),
        ("credentials/<int:pk>/revoke/", tenants.CredentialRevokeView, "credential_revoke"),
        ("reason-presets/", reason_presets.ReasonPresetListView, "reason_presets"),
        ("reason-presets/<int:pk>/", reason_presets.ReasonPresetEditView, "reason_preset_edit"),
        (
            "reason-presets/<int:pk>/delete/",
            reason_presets.ReasonPresetDeleteView,
            "reason_preset_delete",
        ),
        ("staff/grant/", staff_access.StaffAccessGrantView, "staff_grant"),
        ("staff/revoke/", staff_access.StaffAccessRevokeView, "staff_revoke"),
    ),
]

from approvals.api import views
from portal.lrapi.routing import lr_path

app_name = "approvals_api"

urlpatterns = [
    lr_path("api/v1/approvals", views.ApprovalListView.as_view(), name="approval_list"),
    lr_path(
        "api/v1/approvals/<str:request_id>",
        views.ApprovalDetailView.as_view(),
        name="approval_detail",
    ),
    lr_path(
        "api/v1/approvals/<str:request_id>/cancel",
        views.ApprovalCancelView.as_view(),
        name="approval_cancel",
    ),
]

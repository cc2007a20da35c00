from jobs.api import views
from portal.lrapi.routing import lr_path

app_name = "jobs_api"

urlpatterns = [
    lr_path("api/v1/jobs", views.JobListView.as_view(), name="job_list"),
    lr_path("api/v1/jobs/<str:job_id>", views.JobDetailView.as_view(), name="job_detail"),
    lr_path("api/v1/jobs/<str:job_id>/report", views.JobReportView.as_view(), name="job_report"),
    lr_path("api/v1/jobs/<str:job_id>/cancel", views.JobCancelView.as_view(), name="job_cancel"),
    lr_path("api/v1/jobs/<str:job_id>/revert", views.JobRevertView.as_view(), name="job_revert"),
]

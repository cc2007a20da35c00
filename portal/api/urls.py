from portal.api import views
from portal.lrapi.routing import lr_path

app_name = "portal_api"

urlpatterns = [
    lr_path("api/v1/tenant", views.TenantDetailView.as_view(), name="tenant_detail"),
]

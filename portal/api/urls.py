from portal.api import views
from portal.lrapi.routing import lr_path

app_name = "portal_api"

urlpatterns = [
    lr_path("api/v1/tenant", views.TenantDetailView.as_view(), name="tenant_detail"),
    # LoginRadius's OAuth M2M path (v12 spec, operation GenerateM2MToken).
    lr_path("service/oauth/token", views.M2MTokenView.as_view(), name="m2m_token"),
]

from portal.api import credentials, events, tenant, views
from portal.lrapi.routing import lr_path

app_name = "portal_api"

urlpatterns = [
    lr_path("api/v1/tenant", tenant.TenantView.as_view(), name="tenant_detail"),
    lr_path("api/v1/events", events.EventFeedView.as_view(), name="events"),
    lr_path("api/v1/event-types", events.EventTypesView.as_view(), name="event_types"),
    lr_path("api/v1/credentials", credentials.CredentialListView.as_view(), name="credentials"),
    lr_path(
        "api/v1/credentials/<str:credential_id>",
        credentials.CredentialDetailView.as_view(),
        name="credential",
    ),
    lr_path(
        "api/v1/credentials/<str:credential_id>/rotate",
        credentials.CredentialRotateView.as_view(),
        name="credential_rotate",
    ),
    # LoginRadius's OAuth M2M path (v12 spec, operation GenerateM2MToken).
    lr_path("service/oauth/token", views.M2MTokenView.as_view(), name="m2m_token"),
]

from portal.lrapi.routing import lr_path
from webhooks.api import views

app_name = "webhooks_api"

urlpatterns = [
    lr_path("api/v1/webhooks", views.WebhookListView.as_view(), name="webhook_list"),
    lr_path(
        "api/v1/webhooks/<str:webhook_id>", views.WebhookDetailView.as_view(), name="webhook_detail"
    ),
    lr_path(
        "api/v1/webhooks/<str:webhook_id>/rotate-secret",
        views.WebhookSecretRotateView.as_view(),
        name="webhook_rotate_secret",
    ),
    lr_path(
        "api/v1/webhooks/<str:webhook_id>/deliveries",
        views.WebhookDeliveryListView.as_view(),
        name="webhook_deliveries",
    ),
    lr_path(
        "api/v1/webhooks/<str:webhook_id>/replay",
        views.WebhookReplayView.as_view(),
        name="webhook_replay",
    ),
]

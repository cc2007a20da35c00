from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal import views
from portal.admin import StaffAdminSite
from portal.lrapi.routing import IndexedRoutes
from security.views import RecoveryCancelView

# The admin is entered only through the console sign-in (password, then TOTP).
admin.site.__class__ = StaffAdminSite

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="console:dashboard", permanent=False), name="home"),
    path("console/", include("portal.console.urls")),
    # The account holder stops a scheduled recovery change (the link of their notice).
    path("recovery/cancel/", RecoveryCancelView.as_view(), name="recovery_cancel"),
    IndexedRoutes(
        [
            # Sections whose literal paths (account/access_token, account/passkey, ...) would
            # otherwise be taken for a UID by accounts' account/<uid> come first.
            path("", include("portal.api.urls")),
            path("", include("webhooks.api.urls")),
            path("", include("tokens.api.urls")),
            path("", include("security.api.urls")),
            path("", include("roles.api.urls")),
            path("", include("customobjects.api.urls")),
            path("", include("jobs.api.urls")),
            path("", include("approvals.api.urls")),
            path("", include("accounts.api.urls")),
        ]
    ),
]

handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"

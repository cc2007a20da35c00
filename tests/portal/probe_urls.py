"""A test-only URLconf: the real routes plus probe views that exercise the wire layer
(echo of what it parsed, an unhandled exception, an HTML page that fails)."""

from django.urls import include, path

from portal.lrapi.routing import lr_path
from portal.lrapi.views import LRAPIView
from portal.urls import urlpatterns as portal_urlpatterns


class EchoView(LRAPIView):
    section = "native"

    def _echo(self):
        return self.respond(
            {
                "Via": self.principal.via,
                "ApiKey": self.tenant.api_key,
                "Email": self.query.get_plus_preserving("email"),
                "Flag": self.query.get_bool("flag"),
                "Name": self.query.get("name"),
                "Body": self.body().raw(),
                "BodyFirstName": self.body().get("firstname"),
            }
        )

    def get(self, request, **kwargs):
        return self._echo()

    post = put = delete = get


class NoBodyView(LRAPIView):
    section = "native"

    def post(self, request):
        return self.respond({"IsPosted": True})


class BoomView(LRAPIView):
    section = "native"

    def get(self, request):
        raise RuntimeError("secret internals: database password is hunter2")


def html_boom(request):
    raise RuntimeError("console page failed")


def middleware_probe(request):
    """What the middleware gave the request: the console's parts, or not."""
    from django.http import JsonResponse

    return JsonResponse(
        {
            "session": hasattr(request, "session"),
            "user": hasattr(request, "user"),
            "htmx": hasattr(request, "htmx"),
            "request_id": getattr(request, "request_id", None),
        }
    )


urlpatterns = [
    lr_path("api/v1/_probe/echo", EchoView.as_view()),
    lr_path("api/v2/_probe/echo", EchoView.as_view()),
    lr_path("identity/v2/manage/_probe/<str:uid>/Echo", EchoView.as_view()),
    lr_path("api/v1/_probe/boom", BoomView.as_view()),
    lr_path("api/v1/_probe/nobody", NoBodyView.as_view()),
    path("pages/_probe/boom", html_boom),
    lr_path("api/v1/_probe/middleware", middleware_probe),
    lr_path("identity/v2/manage/_probe/middleware", middleware_probe),
    path("pages/_probe/middleware", middleware_probe),
    path("", include(portal_urlpatterns)),
]

handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"

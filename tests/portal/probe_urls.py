"""A test-only URLconf: the real routes plus probe views that exercise the wire layer
(echo of what it parsed, an unhandled exception, an HTML page that fails)."""

from django.urls import include, path
from rest_framework.response import Response

from portal.api.native import NativeAPIView
from portal.lrapi.routing import IndexedRoutes, lr_path
from portal.lrapi.views import LRAPIView
from portal.services import credential_create
from portal.tenant_commands import CredentialCreate
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


class NativeCredentialProbe(NativeAPIView):
    """A native POST with a real effect and a secret in its answer: a new API secret."""

    section = "native"

    def post(self, request):
        body = self.body_json()
        if body.get("explode"):
            raise RuntimeError("probe failure")
        issued = credential_create(
            CredentialCreate(label=str(body.get("label", ""))),
            tenant=self.tenant,
            actor=self.actor,
        )
        return Response({"id": issued.credential.pk, "secret": issued.raw_secret}, status=201)


# Wire routes are matched in any case only inside IndexedRoutes, as the sections' are.
urlpatterns = [
    IndexedRoutes(
        [
            lr_path("api/v1/_probe/echo", EchoView.as_view()),
            lr_path("api/v2/_probe/echo", EchoView.as_view()),
            lr_path("identity/v2/manage/_probe/<str:uid>/Echo", EchoView.as_view()),
            lr_path("api/v1/_probe/boom", BoomView.as_view()),
            lr_path("api/v1/_probe/nobody", NoBodyView.as_view()),
            lr_path("api/v1/_probe/middleware", middleware_probe),
            lr_path("identity/v2/manage/_probe/middleware", middleware_probe),
            lr_path("api/v1/_probe/native-credentials", NativeCredentialProbe.as_view()),
        ]
    ),
    path("pages/_probe/boom", html_boom),
    path("pages/_probe/middleware", middleware_probe),
    path("", include(portal_urlpatterns)),
]

handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"

"""The URL configuration as a flat list of routes, classified for the access matrix."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from portal.lrapi.views import LRAPIView

API_PREFIXES = ("identity/", "api/v1/", "api/v2/", "service/")
METHODS = ("get", "post", "put", "patch", "delete")
PARAM_RE = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")

# Routes that are reachable without a management credential on purpose.
PUBLIC_ROUTES: dict[str, str] = {
    "healthz": "liveness probe for load balancers; answers no data",
    "readyz": "readiness probe; answers only dependency status words",
    "api/schema/": "the OpenAPI document of the public API",
    "api/docs/": "Swagger UI over the public schema",
    "": "redirect to the console dashboard (which itself requires sign-in)",
    "service/oauth/token": "OAuth2 client-credentials grant: the client_id/client_secret in the request are the credential it checks",
    "recovery/cancel/": "the account holder's link to stop a scheduled recovery change: the single-use token in the request is the credential; GET shows a form and changes nothing",
}


@dataclass(frozen=True)
class Route:
    route: str  # as in the URL configuration, without a leading slash
    view_class: type | None
    callback: object

    @property
    def params(self) -> list[str]:
        return [m.group("name") for m in PARAM_RE.finditer(self.route)]

    @property
    def methods(self) -> list[str]:
        cls = self.view_class
        if cls is None:
            return ["get"]
        return [
            m
            for m in METHODS
            if hasattr(cls, m) and m in getattr(cls, "http_method_names", METHODS)
        ]

    def path(self, values: dict[str, str]) -> str:
        return "/" + PARAM_RE.sub(lambda m: str(values[m.group("name")]), self.route)

    @property
    def family(self) -> str:
        if self.route in PUBLIC_ROUTES:
            return "public"
        if self.route.startswith("admin/"):
            return "admin"
        if self.route.startswith("console/"):
            return "console"
        if self.route.lower().startswith(API_PREFIXES):
            if self.view_class is not None and issubclass(self.view_class, LRAPIView):
                return "api"
            return "unclassified"
        return "unclassified"


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            yield Route(route=prefix + str(pattern.pattern), view_class=cls, callback=callback)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))

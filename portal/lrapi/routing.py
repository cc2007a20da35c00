"""URL routing for the LoginRadius sections, built from `path()` and `include()` alone.

Case-insensitive routes: SDKs and docs mix `2FA`/`2fa`, `roleContext`/`rolecontext`.
`lr_path` declares a route whose literal segments match without regard to ASCII case inside
`IndexedRoutes` (elsewhere it is a plain `path()`); what a converter captures keeps its case. Converters are `<str:...>` (one segment) and
`<path:...>` (the rest of the path), the two whose matching this module can state exactly.

`IndexedRoutes` holds the sections' routes. Django would try them one by one (well over a
hundred regex searches for a request to `account/<uid>`). Instead, an index of the routes'
segments gives the few routes that can match; the first of them, in declaration order, that
fits the path is the route. Its literal segments are then written in the route's own case,
and Django's resolver over that one route does the matching and builds the ResolverMatch,
so views, `reverse()`, namespaces and the OpenAPI schema see ordinary `path()` routes.
"""

import re
import weakref
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import Resolver404, URLResolver, include, path

# Routes and prefixes declared with lr_path: only these are matched without regard to case.
_CASE_FOLDED: "weakref.WeakSet" = weakref.WeakSet()

_ONE_SEGMENT = re.compile(r"<(?:str:)?\w+>")
_REST = re.compile(r"<path:\w+>")

LITERAL, ONE, REST = "literal", "one", "rest"


def lr_path(route: str, view, kwargs: dict | None = None, name: str | None = None):
    """`path(route, view, kwargs, name)` whose literal segments match in any ASCII case;
    `view` may be an `include()`."""
    route_template(route)  # refuse a converter this module cannot match exactly, now
    entry = path(route, view, kwargs, name)
    _CASE_FOLDED.add(entry)
    return entry


def route_template(route: str) -> tuple[tuple[str, str], ...]:
    """The segments a route demands: (LITERAL, text), (ONE, name) or a final (REST, name)."""
    template = []
    parts = route.split("/")
    for i, part in enumerate(parts):
        if "<" not in part and ">" not in part:
            template.append((LITERAL, part))
        elif _ONE_SEGMENT.fullmatch(part):
            template.append((ONE, part))
        elif _REST.fullmatch(part) and i == len(parts) - 1:
            template.append((REST, part))
        else:
            raise ImproperlyConfigured(
                f"lr_path route {route!r}: a segment is a literal, <str:name> or a final "
                f"<path:name>, not {part!r}"
            )
    return tuple(template)


def fold(text: str) -> str:
    """ASCII case folding: SDKs vary the case of literal segments, never their letters."""
    return text.lower() if text.isascii() else text


@dataclass(frozen=True, eq=False)
class Route:
    position: tuple[int, ...]  # where it sits, through the includes
    template: tuple[tuple[str, str], ...]

    @cached_property
    def matcher(self) -> re.Pattern:
        """Whether a path is one the route matches, as Django would with the literal segments
        compared without regard to ASCII case: `<str:>` is `[^/]+`, `<path:>` is `.+`."""
        kinds = {ONE: "[^/]+", REST: ".+"}
        body = "/".join(kinds.get(kind) or re.escape(text) for kind, text in self.template)
        return re.compile(body, re.ASCII | re.IGNORECASE)

    def canonical(self, segments: list[str]) -> str:
        """The path with this route's literal segments in the route's own case."""
        written = list(segments)
        for i, (kind, text) in enumerate(self.template):
            if kind == LITERAL:
                written[i] = text
            elif kind == REST:
                break
        return "/".join(written)


class RouteNode:
    __slots__ = ("children", "routes")

    def __init__(self):
        self.children: dict[str, RouteNode] = {}
        self.routes: list[Route] = []  # the routes whose known segments end here


ANY_SEGMENT = "*"


class IndexedRoutes(URLResolver):
    """`path("", include(patterns))` for lr_path routes and includes of them (namespaced or
    not), resolved through an index of their segments. Reversing, checks and the schema see
    the patterns as they are."""

    def __init__(self, patterns: list):
        declared = path("", include(list(patterns)))
        super().__init__(declared.pattern, declared.urlconf_name)
        # Candidate routes by the set of index nodes a path reached; resolvers by route.
        self.candidates: dict[frozenset, list[Route]] = {}
        self.single: dict[tuple[int, ...], URLResolver] = {}

    @cached_property
    def index(self) -> RouteNode:
        """A tree of folded literal segments (ANY_SEGMENT for a converter); each route sits at
        the node of the segments before any `<path:>`."""
        root = RouteNode()

        def add(items, position, prefix):
            for i, item in enumerate(items):
                text = str(item.pattern)
                if text and item not in _CASE_FOLDED:
                    raise ImproperlyConfigured(
                        f"IndexedRoutes holds lr_path routes and includes only, not {text!r}"
                    )
                if isinstance(item, URLResolver):
                    add(item.url_patterns, (*position, i), prefix + text)
                    continue
                template = route_template(prefix + text)
                node = root
                for kind, literal in template:
                    if kind == REST:
                        break
                    key = fold(literal) if kind == LITERAL else ANY_SEGMENT
                    node = node.children.setdefault(key, RouteNode())
                node.routes.append(Route((*position, i), template))

        add(self.url_patterns, (), "")
        return root

    def routes_for(self, segments: list[str]) -> list[Route]:
        """The routes that can match a path, in declaration order: those at every index node
        whose segments agree with the path's leading segments."""
        reached = frontier = [self.index]
        for segment in segments:
            folded = fold(segment)
            frontier = [
                child
                for node in frontier
                for child in (node.children.get(folded), node.children.get(ANY_SEGMENT))
                if child is not None
            ]
            if not frontier:
                break
            reached = reached + frontier
        key = frozenset(map(id, reached))  # the nodes live as long as the index
        routes = self.candidates.get(key)
        if routes is None:
            routes = self.candidates[key] = sorted(
                (route for node in reached for route in node.routes), key=lambda r: r.position
            )
        return routes

    def resolver_of(self, route: Route) -> URLResolver:
        resolver = self.single.get(route.position)
        if resolver is None:
            resolver = self.single[route.position] = path(
                "", include(only_route(self.url_patterns, route.position))
            )
        return resolver

    def resolve(self, path):
        path = str(path)
        segments = path.split("/")
        for route in self.routes_for(segments):
            if route.matcher.fullmatch(path):
                return self.resolver_of(route).resolve(route.canonical(segments))
        if settings.DEBUG:  # the debug 404 page lists every route
            return super().resolve(path)
        raise Resolver404({"tried": [], "path": path})


def only_route(items, position: tuple[int, ...]) -> list:
    """The one route at `position` inside the includes it sits in, which keep their prefix,
    namespace and kwargs; an include that adds nothing to a match is left out."""
    item = items[position[0]]
    if len(position) == 1:
        return [item]
    inner = only_route(item.url_patterns, position[1:])
    if not (str(item.pattern) or item.namespace or item.app_name or item.default_kwargs):
        return inner
    return [
        path(
            str(item.pattern),
            include((inner, item.app_name), namespace=item.namespace),
            item.default_kwargs,
        )
    ]

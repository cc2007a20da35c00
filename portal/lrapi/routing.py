"""URL routing for the LoginRadius sections.

Case-insensitive routes: SDKs and docs mix `2FA`/`2fa`, `roleContext`/`rolecontext`.
`lr_path` is `path()` matched without regard to case: the pattern's regex is the one Django
makes of the same route, compiled with IGNORECASE.

`IndexedRoutes`: Django tries a URLconf's patterns one by one, and the sections hold well
over a hundred, so a request for `account/<uid>` paid for a regex search of nearly every
route before it (half a millisecond). The index narrows the search to the routes whose
leading segments (read from each route's text, `str(pattern)`) agree with the path's;
Django's own resolver still does the matching, over those routes in their original
order, so the first match (and every ResolverMatch) is what it would be without the index.
"""

import re
from functools import cached_property

from django.conf import settings
from django.urls import Resolver404, URLPattern, URLResolver
from django.urls.resolvers import RoutePattern


class CaseInsensitiveRoutePattern(RoutePattern):
    def __init__(self, route, name=None, is_endpoint=False):
        super().__init__(route, name=name, is_endpoint=is_endpoint)
        # An instance attribute: RoutePattern's own regex is computed on first read.
        self.regex = re.compile(
            RoutePattern(route, is_endpoint=is_endpoint).regex.pattern, re.IGNORECASE
        )


def lr_path(route: str, view, kwargs: dict | None = None, name: str | None = None):
    """`path(route, view, kwargs, name)`, case-insensitive; `view` may be an `include()`."""
    if isinstance(view, (list, tuple)):
        urlconf_module, app_name, namespace = view
        return URLResolver(
            CaseInsensitiveRoutePattern(route, is_endpoint=False),
            urlconf_module,
            kwargs,
            app_name=app_name,
            namespace=namespace,
        )
    if not callable(view):
        raise TypeError(f"view must be a callable or an include(), not {type(view).__name__}")
    return URLPattern(
        CaseInsensitiveRoutePattern(route, name=name, is_endpoint=True), view, kwargs, name
    )


# A route segment that is one converter matching within a single path segment.
_ONE_SEGMENT_CONVERTER = re.compile(r"<(?:(?:str|int|slug|uuid):)?\w+>")
ANY_SEGMENT = "*"


def route_segments(patterns: list) -> tuple[str, ...]:
    """What a chain of patterns (an include's prefixes, then a route's) demands of the
    leading segments of any path it matches, read from the routes' text (`str(pattern)`):
    the lower-cased literal text of a whole segment, or ANY_SEGMENT for a segment that is
    one converter. A segment with anything else ends what is known; a regex demands nothing."""
    if not all(isinstance(pattern, RoutePattern) for pattern in patterns):
        return ()
    known = []
    for part in "".join(str(pattern) for pattern in patterns).split("/"):
        if "<" not in part:
            known.append(part.lower())
        elif _ONE_SEGMENT_CONVERTER.fullmatch(part):
            known.append(ANY_SEGMENT)
        else:
            break
    return tuple(known)


class RouteNode:
    __slots__ = ("children", "routes")

    def __init__(self):
        self.children: dict[str, RouteNode] = {}
        self.routes: list[tuple[int, ...]] = []  # positions of the routes ending here


class IndexedRoutes(URLResolver):
    """`path("", include([...]))` for `patterns` (includes and routes, namespaced or not),
    resolved through an index of path segments. Reversing, checks and the admin's URL
    listing see the patterns as they are."""

    def __init__(self, patterns: list):
        super().__init__(RoutePattern(""), list(patterns))
        # Resolvers over the candidate routes, by the set of index nodes a path reached.
        self.narrowed: dict[frozenset, URLResolver] = {}

    @cached_property
    def index(self) -> RouteNode:
        """A tree of route segments; each route (its position through the includes) sits
        at the node of the segments it demands."""
        root = RouteNode()

        def add(items, position, chain):
            for i, item in enumerate(items):
                if isinstance(item, URLResolver):
                    add(item.url_patterns, (*position, i), (*chain, item.pattern))
                    continue
                node = root
                for segment in route_segments([*chain, item.pattern]):
                    node = node.children.setdefault(segment, RouteNode())
                node.routes.append((*position, i))

        add(self.url_patterns, (), ())
        return root

    def reached(self, path: str) -> list[RouteNode]:
        """Every index node whose segments agree with the leading segments of `path`. Only
        their routes can match it: any other route demands a segment the path lacks."""
        reached = frontier = [self.index]
        for segment in path.lower().split("/"):
            frontier = [
                child
                for node in frontier
                for child in (node.children.get(segment), node.children.get(ANY_SEGMENT))
                if child is not None
            ]
            if not frontier:
                break
            reached = reached + frontier
        return reached

    def narrowed_for(self, path: str) -> URLResolver:
        reached = self.reached(path)
        key = frozenset(map(id, reached))  # the nodes live as long as the index
        resolver = self.narrowed.get(key)
        if resolver is None:
            candidates = {position for node in reached for position in node.routes}
            resolver = self.narrowed[key] = URLResolver(
                RoutePattern(""), only_routes(self.url_patterns, candidates, ())
            )
        return resolver

    def resolve(self, path):
        path = str(path)
        if not path.isascii():
            # str.lower() and the regex module's case folding agree only on ASCII.
            return super().resolve(path)
        try:
            return self.narrowed_for(path).resolve(path)
        except Resolver404:
            if settings.DEBUG:  # the debug 404 page lists every route, not only those tried
                return super().resolve(path)
            raise


def only_routes(items, candidates: set, position: tuple) -> list:
    """`items` with only the routes at `candidates`, in order. Includes are copied; one that
    adds nothing to a match (no prefix, namespace or kwargs) is inlined."""
    kept = []
    for i, item in enumerate(items):
        here = (*position, i)
        if isinstance(item, URLResolver):
            inner = only_routes(item.url_patterns, candidates, here)
            if not inner:
                continue
            plain = (
                type(item.pattern) is RoutePattern
                and str(item.pattern) == ""
                and not (item.namespace or item.app_name or item.default_kwargs)
            )
            if plain:
                kept.extend(inner)
            else:
                kept.append(
                    URLResolver(
                        item.pattern, inner, item.default_kwargs, item.app_name, item.namespace
                    )
                )
        elif here in candidates:
            kept.append(item)
    return kept

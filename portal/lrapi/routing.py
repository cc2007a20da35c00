"""URL routing for the LoginRadius sections.

Case-insensitive routes: SDKs and docs mix `2FA`/`2fa`, `roleContext`/`rolecontext`.

`IndexedRoutes`: Django tries a URLconf's patterns one by one, and the sections hold well
over a hundred, so a request for `account/<uid>` paid for a regex search of nearly every
route before it. The index narrows the search to the routes whose literal leading segments
agree with the path; Django's own resolver still does the matching, over those routes in
their original order, so the first match (and every ResolverMatch) is what it would be
without the index."""

import re
from functools import partial

from django.conf import settings
from django.urls import Resolver404, URLResolver
from django.urls.conf import _path
from django.urls.resolvers import RoutePattern
from django.utils.functional import cached_property


class CaseInsensitiveRoutePattern(RoutePattern):
    @cached_property
    def regex(self):
        return re.compile(self._regex, re.IGNORECASE)


lr_path = partial(_path, Pattern=CaseInsensitiveRoutePattern)


# A route segment that is one converter matching within a single path segment.
_ONE_SEGMENT_CONVERTER = re.compile(r"<(?:(?:str|int|slug|uuid):)?\w+>")
ANY_SEGMENT = "*"


def _known_segments(patterns: list) -> tuple[str, ...]:
    """What a chain of patterns (an include's prefixes, then a route) demands of the
    leading path segments of any path it matches: the lower-cased literal text of a whole
    segment, or ANY_SEGMENT for a segment that is one converter. A segment with anything
    else, a regex or another pattern kind ends what is known."""
    route, is_endpoint = "", False
    for pattern in patterns:
        if type(pattern) not in (RoutePattern, CaseInsensitiveRoutePattern):
            is_endpoint = False
            break
        route += str(pattern._route)
        is_endpoint = pattern._is_endpoint
    parts = route.split("/")
    if not is_endpoint:
        parts = parts[:-1]  # a prefix's last part may be the start of a longer segment
    known = []
    for part in parts:
        if "<" not in part:
            known.append(part.lower())
        elif _ONE_SEGMENT_CONVERTER.fullmatch(part):
            known.append(ANY_SEGMENT)
        else:
            break
    return tuple(known)


class _Node:
    __slots__ = ("children", "routes")

    def __init__(self):
        self.children: dict[str, _Node] = {}
        self.routes: list[tuple] = []  # positions of the routes whose known segments end here


class _Index(_Node):
    __slots__ = ("resolvers",)

    def __init__(self):
        super().__init__()
        # Resolvers over the candidate routes, by the set of this index's nodes a path reached.
        self.resolvers: dict[frozenset, URLResolver] = {}


class IndexedRoutes(URLResolver):
    """`path("", include([...]))` for `patterns` (includes and routes, namespaced or not),
    resolved through an index of path segments. Reversing, checks and the admin's URL
    listing see the patterns as they are."""

    def __init__(self, patterns: list):
        super().__init__(RoutePattern(""), list(patterns))

    @cached_property
    def _index(self) -> _Index:
        root = _Index()

        def add(items, position, chain):
            for i, item in enumerate(items):
                if isinstance(item, URLResolver):
                    add(item.url_patterns, (*position, i), (*chain, item.pattern))
                    continue
                node = root
                for segment in _known_segments([*chain, item.pattern]):
                    node = node.children.setdefault(segment, _Node())
                node.routes.append((*position, i))

        add(self.url_patterns, (), ())
        return root

    def _reached(self, path: str) -> list[_Node]:
        """Every index node whose segments agree with the leading segments of `path`. Only
        their routes can match it: any other route demands a segment the path lacks."""
        reached = frontier = [self._index]
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

    def _resolver_for(self, reached: list[_Node]) -> URLResolver:
        # reached[0] is the index the nodes belong to: its memo is keyed by their ids.
        memo, key = reached[0].resolvers, frozenset(map(id, reached))
        resolver = memo.get(key)
        if resolver is None:
            candidates = {position for node in reached for position in node.routes}
            resolver = memo[key] = URLResolver(
                RoutePattern(""), self._only(self.url_patterns, candidates, ())
            )
        return resolver

    @classmethod
    def _only(cls, items, candidates: set, position: tuple) -> list:
        """`items` with only the routes at `candidates`, in order. Includes are copied;
        one that adds nothing to a match (no prefix, namespace or kwargs) is inlined."""
        kept = []
        for i, item in enumerate(items):
            here = (*position, i)
            if isinstance(item, URLResolver):
                inner = cls._only(item.url_patterns, candidates, here)
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

    def resolve(self, path):
        path = str(path)
        if not path.isascii():
            # str.lower() and the regex module's case folding agree only on ASCII.
            return super().resolve(path)
        try:
            return self._resolver_for(self._reached(path)).resolve(path)
        except Resolver404:
            if settings.DEBUG:  # the debug 404 page lists every route, not only those tried
                return super().resolve(path)
            raise

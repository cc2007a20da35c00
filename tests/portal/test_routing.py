"""LoginRadius routes match without regard to case, and the indexed routes resolve every path
exactly as Django's resolver over the same patterns."""

import itertools
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.urls import Resolver404, URLResolver, get_resolver, include, path, re_path, reverse

from portal.lrapi.routing import IndexedRoutes, lr_path


def _view(name):
    def view(request, **kwargs):
        return HttpResponse(name)

    view.__name__ = name
    return view


def _outcome(resolver: URLResolver, target: str):
    """What a resolver makes of a path: the parts of the match a view and reverse() see."""
    try:
        match = resolver.resolve(target)
    except Resolver404:
        return "404"
    return (
        match.func,
        match.args,
        match.kwargs,
        match.url_name,
        match.app_names,
        match.namespaces,
        match.captured_kwargs,
        match.extra_kwargs,
    )


def _regex(route: str) -> str:
    """The regex Django would match a route with, by hand: literal text, `[^/]+` for
    `<str:>`, `.+` for `<path:>`."""
    parts = []
    for part in re.split(r"(<[^>]+>)", route):
        converter = re.fullmatch(r"<(?:(str|path):)?(\w+)>", part)
        if converter:
            kind, name = converter.groups()
            parts.append(f"(?P<{name}>{'.+' if kind == 'path' else '[^/]+'})")
        else:
            parts.append(re.escape(part))
    return "".join(parts)


def _oracle_patterns(items) -> list:
    """The same routes as regexes matched with ASCII-only IGNORECASE: what "literal segments
    match in any ASCII case" means, stated with Django's own regex resolver."""
    patterns = []
    for item in items:
        text = str(item.pattern)
        if isinstance(item, URLResolver):
            inner = _oracle_patterns(item.url_patterns)
            patterns.append(
                re_path(
                    "(?ai)^" + _regex(text),
                    include((inner, item.app_name), namespace=item.namespace),
                    item.default_kwargs,
                )
            )
        else:
            patterns.append(
                re_path(
                    "(?ai)^" + _regex(text) + r"\Z", item.callback, item.default_args, item.name
                )
            )
    return patterns


def _plain(indexed: IndexedRoutes) -> URLResolver:
    return re_path("", include(_oracle_patterns(indexed.url_patterns)))


SAMPLES = ("uid-1", "42", "ACCOUNT", "access_token", "", "2FA", "e\u0301", "\u212a")


def _paths_for(route: str) -> set[str]:
    """Paths near a route: its converters filled with sample values, its literal text in
    other cases, a trailing slash, one segment more and one less."""
    filled = {re.sub(r"<[^>]+>", sample, route) for sample in SAMPLES}
    variants = set()
    for candidate in filled:
        variants |= {
            candidate,
            candidate.upper(),
            candidate.title(),
            candidate + "/",
            candidate + "/extra",
            candidate.rsplit("/", 1)[0],
        }
    return variants


def _routes(resolver: URLResolver, prefix: str = "") -> list[str]:
    routes = []
    for item in resolver.url_patterns:
        text = prefix + str(item.pattern)
        routes.extend(_routes(item, text) if isinstance(item, URLResolver) else [text])
    return routes


def test_every_route_of_the_project_resolves_as_without_the_index():
    indexed = next(p for p in get_resolver().url_patterns if isinstance(p, IndexedRoutes))
    plain = _plain(indexed)
    routes = _routes(indexed)
    assert len(routes) > 100
    paths = set().union(*(_paths_for(route) for route in routes))
    for target in sorted(paths):
        assert _outcome(indexed, target) == _outcome(plain, target), target


def test_order_and_kinds_of_routes_are_kept():
    first, uid, wide, tail, named = (_view(n) for n in ("first", "uid", "wide", "tail", "named"))
    nested = ([lr_path("items/<str:pk>", named, name="item")], "shop")
    indexed = IndexedRoutes(
        [
            lr_path("api/account/special", first, name="special"),
            lr_path("api/account/<str:uid>", uid, name="by-uid"),
            lr_path("api/files/<path:rest>", wide),
            lr_path("api/<str:a>/<str:b>/tail", tail),
            lr_path("Store/", include(nested, namespace="store")),
        ]
    )
    plain = _plain(indexed)
    cases = {
        "api/account/special": "first",
        "API/Account/SPECIAL": "first",
        "api/account/other": "uid",
        "api/files/a/b/c": "wide",
        "api/files//c": "wide",
        "api/files/": None,
        "api/q/r/tail": "tail",
        "api/account/x/tail": "tail",
        "store/items/7": "named",
        "STORE/Items/Seven": "named",
        # Only ASCII letters fold: a dotless i is not an i, a Kelvin sign not a K.
        "api/account/spec\u0131al": "uid",
        "api/\u017fpecial/x/tail": "tail",
        "api/\u212aaccount/x": None,
        "api/account": None,
        "api/account/": None,
        "store/items": None,
    }
    for target, expected in cases.items():
        outcome = _outcome(indexed, target)
        assert outcome == _outcome(plain, target), target
        assert (outcome[0].__name__ if outcome != "404" else None) == expected, target
    assert _outcome(indexed, "store/items/7")[4:6] == (["shop"], ["store"])
    assert indexed.resolve("STORE/items/Seven").route == "Store/items/<str:pk>"


def test_only_routes_whose_matching_is_known_are_indexed():
    with pytest.raises(ImproperlyConfigured):
        lr_path("api/<int:n>", _view("n"))
    with pytest.raises(ImproperlyConfigured):
        lr_path("api/v<str:n>", _view("n"))
    with pytest.raises(ImproperlyConfigured):
        lr_path("api/<path:rest>/tail", _view("n"))
    indexed = IndexedRoutes([lr_path("a", _view("a")), path("b", _view("b"))])
    with pytest.raises(ImproperlyConfigured):
        indexed.resolve("a")


def test_a_converter_keeps_the_case_of_what_it_captured():
    resolver = IndexedRoutes([lr_path("account/<str:uid>/Echo", _view("echo"))])
    match = resolver.resolve("ACCOUNT/AbC/echo")
    assert match.kwargs == {"uid": "AbC"}


@pytest.mark.parametrize("combo", list(itertools.product(["a", "A", "<str:x>"], ["b", "<str:n>"])))
def test_literal_and_converter_segments_in_any_order(combo):
    """Routes whose segments mix literals and converters, declared in every order: the
    index must never let a later route win over an earlier one that also matches."""
    first_segment, second_segment = combo
    routes = [
        lr_path(f"{first_segment}/{second_segment}", _view("one")),
        lr_path("<str:x>/<str:y>", _view("two")),
        lr_path(f"{first_segment}/<str:y>", _view("three")),
    ]
    indexed = IndexedRoutes(routes)
    plain = _plain(indexed)
    for target in ("a/b", "A/B", "a/7", "z/b", "a", "a/b/c", "/b", "a/"):
        assert _outcome(indexed, target) == _outcome(plain, target), target


def test_sections_route_mixed_case_paths_of_the_project():
    resolver = get_resolver()
    assert resolver.resolve("/identity/v2/manage/account/abc").url_name == "account_detail"
    assert resolver.resolve("/IDENTITY/v2/Manage/Account/abc").kwargs == {"uid": "abc"}
    # A literal path of another section is not taken for a UID.
    assert resolver.resolve("/identity/v2/manage/account/access_token").url_name != "account_detail"


def test_reverse_sees_the_sections_as_they_are():
    assert reverse("account_detail", kwargs={"uid": "abc"}) == "/identity/v2/manage/account/abc"
    assert reverse("roles_api:role_list") == "/identity/v2/manage/role"


def test_a_debug_404_lists_every_route(settings):
    indexed = IndexedRoutes([lr_path("a/b", _view("ab")), lr_path("c/<str:x>", _view("cx"))])
    settings.DEBUG = False
    with pytest.raises(Resolver404) as quiet:
        indexed.resolve("a/zzz")
    settings.DEBUG = True
    with pytest.raises(Resolver404) as debug:
        indexed.resolve("a/zzz")
    assert len(debug.value.args[0]["tried"]) == 2 > len(quiet.value.args[0]["tried"])


def test_threads_resolving_at_once_on_a_new_index_agree_with_the_plain_resolver():
    from tests.concurrency import run_concurrently

    project = next(p for p in get_resolver().url_patterns if isinstance(p, IndexedRoutes))
    plain = _plain(project)
    targets = sorted(set().union(*(_paths_for(route) for route in _routes(project)[:40])))
    for _ in range(5):
        fresh = IndexedRoutes(
            project.url_patterns
        )  # its index is built by whichever thread comes first
        outcomes = run_concurrently(
            lambda i, fresh=fresh: [_outcome(fresh, t) for t in targets[i::8]], 8, pass_index=True
        )
        assert sorted(map(len, outcomes)) == sorted(len(targets[i::8]) for i in range(8))
        resolved = [outcome for chunk in outcomes for outcome in chunk]
        assert sorted(map(repr, resolved)) == sorted(repr(_outcome(plain, t)) for t in targets)

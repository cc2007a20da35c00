"""CPU time and SQL queries of the console's two busiest pages, one view at a time in one
process, over the tenant `bench.seed` wrote (the paths `bench.console_pages` requests):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
    REDIS_URL=redis://127.0.0.1:6379/13 SECRET_KEY=... FIELD_ENCRYPTION_KEY=... \\
        python -m bench.console_profile search|names|emails|account [--n 200] [--queries]

A view is what the load bench times: the request and the redirects it is answered with (a
search's text posted as `?q=`, then its results page). Each view goes through Django's WSGI
handler with a signed-in console session, DEBUG off. It prints CPU ms per view (process
time), wall ms and queries per view; `--queries` also lists one view's statements with
their time. The first 20 views warm caches and are not counted. Run it under py-spy
(`py-spy record -f raw -- python -m bench.console_profile ...`) to see where the time goes.
"""

import argparse
import json
import os
import time
from dataclasses import dataclass, field
from io import BytesIO
from urllib.parse import urlsplit

if __name__ == "__main__":
    # As the load bench's server: DEBUG off, and no messages worth delivering. Only when run:
    # a test importing this module keeps its own environment.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("ALLOW_UNDELIVERED_MESSAGES", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402

from bench import console_pages  # noqa: E402
from bench.seed import console_session  # noqa: E402
from portal.models import Tenant  # noqa: E402

WARM_UP = 20
MAX_REDIRECTS = 3


@dataclass
class Profile:
    views: int
    cpu_ms: float
    wall_ms: float
    queries: int
    statements: list[tuple[float, str]] = field(default_factory=list)


class ConsoleViews:
    """Console pages served in this process for one signed-in session."""

    def __init__(self, cookie: str):
        self.cookie = cookie
        self.handler = WSGIHandler()

    def get(self, path: str) -> tuple[str, dict, bytes]:
        route, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": route,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1:8000",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_COOKIE": self.cookie,
            "HTTP_ACCEPT": "text/html",
            "wsgi.input": BytesIO(b""),
            "wsgi.url_scheme": "http",
        }
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, dict(headers)

        body = b"".join(self.handler(environ, start_response))
        return answer["status"], answer["headers"], body

    def view(self, path: str) -> bytes:
        """`path` and the redirects it is answered with; the page's body."""
        for _ in range(MAX_REDIRECTS + 1):
            status, headers, body = self.get(path)
            if status[:3] in ("301", "302", "303") and headers.get("Location"):
                path = urlsplit(headers["Location"])._replace(scheme="", netloc="").geturl()
                continue
            if not status.startswith("200"):
                raise RuntimeError(f"{path}: {status} {body[:200]!r}")
            return body
        raise RuntimeError(f"{path}: too many redirects")


def profile(views: ConsoleViews, paths: list[str], n: int) -> Profile:
    """CPU and wall time per view over `n` views of `paths` (after a warm-up), and the
    statements of one more view."""
    for path in paths[:WARM_UP]:
        views.view(path)
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        views.view(paths[(WARM_UP + i) % len(paths)])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    statements: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((1000 * (time.perf_counter() - started), sql))

    with connection.execute_wrapper(timed):
        views.view(paths[(WARM_UP + n) % len(paths)])
    return Profile(
        views=n,
        cpu_ms=1000 * cpu / n,
        wall_ms=1000 * wall / n,
        queries=len(statements),
        statements=statements,
    )


def paths_of(which: str, *, state: dict, slug: str) -> list[str]:
    """The load bench's paths of the page: `search` alternates names and emails as it does."""
    search, account = console_pages.pages(state, slug)
    if which == "account":
        return account.paths
    if which == "search":
        return search.paths
    # The search page's paths alternate: names at the odd positions, emails at the even.
    return search.paths[1::2] if which == "names" else search.paths[0::2]


def main(argv=None) -> Profile:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("page", choices=("search", "names", "emails", "account"))
    parser.add_argument("--n", type=int, default=200, help="views measured")
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--queries", action="store_true", help="list one view's statements")
    args = parser.parse_args(argv)
    state = json.loads((settings.BASE_DIR / "var" / "bench" / f"{args.tenant}.json").read_text())
    tenant = Tenant.objects.get(slug=args.tenant)
    views = ConsoleViews(console_session(tenant))
    result = profile(views, paths_of(args.page, state=state, slug=args.tenant), args.n)
    if args.queries:
        for ms, sql in result.statements:
            print(f"{ms:7.2f} ms  {sql[:160]}")
    print(
        f"{args.page}: {result.cpu_ms:.1f} ms CPU per view, {result.wall_ms:.1f} ms wall, "
        f"{result.queries} queries per view ({result.views} views)"
    )
    return result


if __name__ == "__main__":
    main()

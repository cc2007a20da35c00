"""`GET /api/v1/events` over a tenant holding 1,000,000 events: the cost of a page at the
start, the middle and the end of the feed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench21 REDIS_URL=redis://127.0.0.1:6379/6 \
        FIELD_ENCRYPTION_KEY=... .venv/bin/python -m bench.events_paging --events 1000000

The tenant `--tenant` is given `--events` events in one INSERT ... SELECT over
generate_series (six account event types, a small diff each), once. Then, at each of three
places (the first event, the middle one, the last full pages), `--pages` consecutive pages
of `--page-size` are read the way a consumer reads them (each page's `next` link; the
middle is reached with `after=<an event id>`, the documented cursor), the whole Django
request in process through the test client. Per page: wall time, and the SQL time of the
page's queries split into the count and the rest (CaptureQueriesContext).

The count of a set of filters is a snapshot taken once and reused by every page for a
minute (portal/event_counts.py): the warm-up takes it, so the three places show the steady
cost; the page that takes a snapshot is measured apart (`--cold` times, the tenant's
snapshots retired before each).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.database import migrate

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

TYPES = (
    "account.updated",
    "account.blocked",
    "account.unblocked",
    "account.created",
    "account_password.set",
    "account_email.verified",
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--tenant", default="events-bench")
    parser.add_argument("--pages", type=int, default=30, help="pages read at each place")
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--cold", type=int, default=5, help="snapshot-taking pages read")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL (PostgreSQL)")
    migrate()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench import seed
    from portal.event_counts import event_counts_forget
    from portal.models import AuditEvent

    tenant, state = seed.bench_tenant(args.tenant)
    have = AuditEvent.objects.filter(tenant=tenant).count()
    if have < args.events:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO portal_auditevent (
                    occurred_at, action, actor_type, actor_id, actor_label, subject_uid,
                    reason, ticket, diff, request_id, ip, user_agent, tenant_id, caused_by,
                    schema_version, imported, webhooks_suppressed
                )
                SELECT now() - make_interval(secs => (%(n)s - i) * 0.5),
                       (%(types)s::text[])[1 + i %% %(ntypes)s],
                       'credential', '1', 'bench', md5('bench-' || (i %% 100000)),
                       'bench', '', jsonb_build_object('FirstName', jsonb_build_array('A', 'B' || i)),
                       md5(i::text), '10.0.0.8', 'bench', %(tenant)s, NULL, 1, false, true
                FROM generate_series(1, %(n)s) AS i
                """,
                {
                    "n": args.events - have,
                    "types": list(TYPES),
                    "ntypes": len(TYPES),
                    "tenant": tenant.pk,
                },
            )
            cursor.execute("ANALYZE portal_auditevent")
        print(
            f"seeded {args.events - have:,} events in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    ids = AuditEvent.objects.filter(tenant=tenant).order_by("id").values_list("id", flat=True)
    total = ids.count()
    middle = ids[total // 2]
    end = ids[max(0, total - args.pages * args.page_size - 1)]

    client = Client()
    headers = {"HTTP_X_LOGINRADIUS_APISECRET": state["api_secret"]}

    def read(after: int, pages: int = args.pages) -> dict:
        """`pages` pages from `after`, following `next`."""
        url = f"/api/v1/events?apikey={state['api_key']}&page_size={args.page_size}&after={after}"
        walls, counts, others, seen = [], [], [], 0
        for _ in range(pages):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, **headers)
                walls.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content[:300]
            body = response.json()
            seen += len(body["results"])
            count_ms = sum(
                float(q["time"]) * 1000
                for q in queries.captured_queries
                if q["sql"].startswith("SELECT COUNT(*)")
            )
            all_ms = sum(float(q["time"]) * 1000 for q in queries.captured_queries)
            counts.append(count_ms)
            others.append(all_ms - count_ms)
            if not body["next"]:
                break
            parts = urlsplit(body["next"])
            url = f"{parts.path}?{parts.query}"
        return {"walls": walls, "counts": counts, "others": others, "seen": seen}

    read(0)  # warm: connection, caches, the credential
    print(
        f"{total:,} events of one tenant; {args.pages} consecutive pages of {args.page_size} "
        f"at each place (whole request in process):",
        flush=True,
    )
    for label, after in (("start", 0), ("middle", middle), ("end", end)):
        result = read(after)
        walls = result["walls"]
        print(
            f"  {label:6} (after={after}): {len(walls)} pages, {result['seen']:,} events; "
            f"per page median {statistics.median(walls):.1f} ms, p95 {percentile(walls, 0.95):.1f} ms; "
            f"SQL: count {statistics.median(result['counts']):.1f} ms, "
            f"the page's other queries {statistics.median(result['others']):.1f} ms (medians)",
            flush=True,
        )
    colds: dict[str, list[float]] = {"walls": [], "counts": []}
    for _ in range(args.cold):
        event_counts_forget(tenant_id=tenant.pk)
        result = read(middle, pages=1)
        colds["walls"] += result["walls"]
        colds["counts"] += result["counts"]
    if colds["walls"]:
        print(
            f"  a page taking the count snapshot ({args.cold} times): median "
            f"{statistics.median(colds['walls']):.1f} ms, SQL count "
            f"{statistics.median(colds['counts']):.1f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""CPU time and SQL queries of one password sign-in (`POST /identity/v2/auth/login`, email
and password, the production hasher), in one process through Django's test client, over
the sign-in pool `bench.seed` wrote to var/bench/<slug>.json:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \
    REDIS_URL=redis://127.0.0.1:6379/11 SECRET_KEY=... FIELD_ENCRYPTION_KEY=... \
        python -m bench.signin_profile [--n 40] [--slug bench] [--profile out.pstats] [--queries]

It prints CPU ms per sign-in (process time, so other load on the machine does not count),
wall ms, queries per sign-in with their total SQL time, and the CPU of one password check
alone (the hashing floor). The first sign-in warms caches and is not counted.
"""

import argparse
import cProfile
import json
import os
import time
from collections import Counter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import check_password, make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--slug", default="bench")
    parser.add_argument("--profile", default="", help="write cProfile stats to this file")
    parser.add_argument("--queries", action="store_true", help="print the last sign-in's SQL")
    args = parser.parse_args()

    state = json.loads((settings.BASE_DIR / "var" / "bench" / f"{args.slug}.json").read_text())
    path = f"/identity/v2/auth/login?apikey={state['api_key']}"
    emails = state["signin_emails"]
    client = Client()

    def sign_in(i: int):
        body = {"email": emails[i % len(emails)], "password": state["signin_password"]}
        response = client.post(path, json.dumps(body), content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        return response

    sign_in(0)  # warm-up: settings, hashers, the tenant's credential
    profiler = cProfile.Profile() if args.profile else None
    queries, sql_ms, last = 0, 0.0, []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(1, args.n + 1):
        with CaptureQueriesContext(connection) as captured:
            if profiler:
                profiler.enable()
            sign_in(i)
            if profiler:
                profiler.disable()
        queries += len(captured.captured_queries)
        sql_ms += sum(float(q["time"]) * 1000 for q in captured.captured_queries)
        last = captured.captured_queries
    cpu = (time.process_time() - cpu0) * 1000 / args.n
    wall = (time.perf_counter() - wall0) * 1000 / args.n

    encoded = make_password(state["signin_password"])
    t0 = time.process_time()
    for _ in range(10):
        check_password(state["signin_password"], encoded)
    hash_ms = (time.process_time() - t0) * 100

    print(
        f"{args.n} sign-ins: {cpu:.1f} ms CPU and {wall:.1f} ms wall per sign-in, "
        f"{queries / args.n:.1f} queries per sign-in ({sql_ms / args.n:.1f} ms in SQL); "
        f"one password check: {hash_ms:.1f} ms CPU"
    )
    if args.queries:
        kinds = Counter(q["sql"].split(" ")[0] for q in last)
        print(dict(kinds))
        for q in last:
            print(f"{float(q['time']) * 1000:7.2f} ms  {q['sql'][:220]}")
    if profiler:
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()

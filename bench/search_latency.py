"""Latency of the native account search itself (the selector plus its count and first page,
no HTTP), over the seeded benchmark tenant: p50/p95 per kind of query.

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.search_latency [--tenant bench] [--n 200]
"""

import argparse
import json
import os
import random
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.db import connection  # noqa: E402

from accounts.selectors import account_search  # noqa: E402
from bench import seed as s  # noqa: E402
from portal.models import Tenant  # noqa: E402

PAGE = 20


def run(tenant, params) -> tuple[float, int]:
    t0 = time.perf_counter()
    qs = account_search(tenant=tenant, params=params)
    total = qs.count()
    list(qs[:PAGE])
    return (time.perf_counter() - t0) * 1000, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    tenant = Tenant.objects.get(slug=args.tenant)
    size = tenant.accounts.count()
    rng = random.Random(7)
    kinds = {
        "exact email": lambda i: {"email": s.email_of(i)},
        "email prefix": lambda i: {"email_prefix": s.email_of(i)[:10]},
        "email prefix as substring": lambda i: {"search": s.email_of(i)[:10]},
        "phone": lambda i: {"phone": s.phone_of(i)},
        "UID": lambda i: {"uid": s.uid_of(i)},
        "name substring": lambda i: {"search": s.names_of(i)[1].lower()[1:7]},
    }
    out = {"accounts": size, "database": connection.vendor}
    for name, make in kinds.items():
        times, totals = [], []
        for _ in range(args.n):
            ms, total = run(tenant, make(rng.randrange(size)))
            times.append(ms)
            totals.append(total)
        times.sort()
        out[name] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "max_ms": round(times[-1], 2),
            "mean_total": round(statistics.mean(totals), 1),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

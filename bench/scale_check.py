"""GET account by UID on the small and the large benchmark tenant, in one process,
alternating request by request (so both see the same machine load): median and p95 of
the whole request through Django (middleware, authentication, queries, rendering).

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.scale_check [--n 500]
"""

import argparse
import json
import os
import random
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from bench import seed as s  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--small", default="bench-small")
    parser.add_argument("--large", default="bench")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    tenants = {}
    for slug in (args.small, args.large):
        state = json.loads((s.STATE_DIR / f"{slug}.json").read_text())
        tenants[slug] = state
    rng = random.Random(3)
    times: dict[str, list[float]] = {slug: [] for slug in tenants}
    for k in range(args.n * 2 + 40):
        slug = (args.small, args.large)[k % 2]
        state = tenants[slug]
        uid = s.uid_of(rng.randrange(state["accounts"]))
        t0 = time.perf_counter()
        response = client.get(
            f"/identity/v2/manage/account/{uid}?apikey={state['api_key']}",
            HTTP_X_LOGINRADIUS_APISECRET=state["api_secret"],
        )
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, response.content[:200]
        if k >= 40:  # warm-up
            times[slug].append(elapsed)
    out = {}
    for slug, values in times.items():
        values.sort()
        out[slug] = {
            "accounts": tenants[slug]["accounts"],
            "median_ms": round(values[len(values) // 2], 2),
            "p95_ms": round(values[int(len(values) * 0.95)], 2),
        }
    out["ratio_large_small_median"] = round(
        out[args.large]["median_ms"] / out[args.small]["median_ms"], 2
    )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

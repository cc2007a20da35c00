"""Event -> webhook receipt latency at a sustained event rate, through real Celery workers.

Needs PostgreSQL and Redis (the relay runs on worker processes):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench21 REDIS_URL=redis://127.0.0.1:6379/6 \
        FIELD_ENCRYPTION_KEY=... .venv/bin/python -m bench.webhooks_latency --rate 200 --seconds 60

A fresh tenant with `--accounts` accounts and one endpoint subscribed to `account.updated`
on a loopback receiver (its own process, an HTTP server thread per request); the endpoint is
deleted at the end, so a run interrupted before its backlog drained leaves none to the next.
`--producers` processes call the service the profile API calls
(accounts.services.account_update), `--rate` calls a second in all for `--seconds` (paced;
the rate achieved is printed), or with `--via record` record the event alone in its own
transaction (portal.audit.record, how every service ends: less work per event); each commit kicks the relay as in production
(webhooks/subscribers.py), `--workers` solo worker processes run it, and a beat process
runs it every 5 s as well. Latency = the receiver's clock at receipt minus the event's
`occurred_at` (same machine, same clock). Lost = events not received `--drain` seconds
after the last one was made. Its Redis database is flushed.
"""

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.database import migrate

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# The receiver is on loopback: the operator setting that allows it, here and in the workers.
os.environ["WEBHOOKS_ALLOW_PRIVATE_NETWORKS"] = "1"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def receive(ports, stop, results) -> None:
    """An HTTP receiver: the first receipt time of each `webhook-id`, and all copies."""
    import http.server
    import threading

    first: dict[str, float] = {}
    copies = [0]
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            now = time.time()
            with lock:
                first.setdefault(self.headers["webhook-id"], now)
                copies[0] += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ports.put(server.server_address[1])
    stop.wait()
    server.shutdown()
    with lock:
        results.put((dict(first), copies[0]))


def produce(
    tenant_id: int, account_ids: list[int], rate: float, *, via: str, seconds, go, made
) -> None:
    """Paced `account.updated` events: profile updates through the service, or (`via`
    "record") the event alone, recorded in its own transaction as a service ends."""
    import django

    django.setup()
    from django.db import transaction

    from accounts.commands import AccountChanges
    from accounts.models import Account
    from accounts.services import account_update
    from portal import audit
    from portal.audit import Actor
    from portal.models import Tenant

    tenant = Tenant.objects.get(pk=tenant_id)
    accounts = list(Account.objects.filter(pk__in=account_ids))
    actor = Actor.system("benchmark")
    made.put("ready")
    go.wait()
    total = int(rate * seconds)
    interval = 1.0 / rate
    started = next_at = time.perf_counter()
    late = 0
    for i in range(total):
        account = accounts[i % len(accounts)]
        if via == "record":
            with transaction.atomic():
                audit.record(
                    tenant=tenant,
                    actor=actor,
                    action="account.updated",
                    subject_uid=account.uid,
                    changes={"FirstName": [f"Name{i - 1}", f"Name{i}"]},
                )
        else:
            account_update(
                AccountChanges(values={"FirstName": f"Name{i}"}),
                tenant=tenant,
                actor=actor,
                account=account,
            )
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            late += 1
    made.put((total, late, time.perf_counter() - started))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (solo pool)")
    parser.add_argument("--producers", type=int, default=2, help="processes making the events")
    parser.add_argument(
        "--via",
        choices=("service", "record"),
        default="service",
        help="events from account_update calls, or recorded alone (portal.audit.record)",
    )
    parser.add_argument("--drain", type=float, default=120.0)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        sys.exit("set DATABASE_URL (PostgreSQL) and REDIS_URL")
    migrate()

    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.db import connection

    from portal.audit import Actor
    from portal.models import AuditEvent
    from tests.factories import AccountFactory, TenantFactory
    from webhooks.commands import WebhookCreate, WebhookDelete
    from webhooks.services import webhook_create, webhook_delete

    spawn = multiprocessing.get_context("spawn")
    ports, results, stop = spawn.Queue(), spawn.Queue(), spawn.Event()
    receiver = spawn.Process(target=receive, args=(ports, stop, results))
    receiver.start()
    port = ports.get(timeout=30)

    stamp = int(time.time())
    tenant = TenantFactory(slug=f"webhooks-bench-{stamp}", name=f"Webhooks bench {stamp}")
    actor = Actor.system("benchmark")
    accounts = [AccountFactory(tenant=tenant) for _ in range(args.accounts)]
    endpoint, _secret = webhook_create(
        WebhookCreate(url=f"http://127.0.0.1:{port}/hook", events=("account.updated",)),
        tenant=tenant,
        actor=actor,
    )
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()

    env = {
        **os.environ,
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        "LOG_LEVEL": "WARNING",
        "ALLOW_UNDELIVERED_MESSAGES": "1",
    }
    celery = [sys.executable, "-m", "celery", "-A", "portal"]
    quiet = {"cwd": BASE_DIR, "env": env, "stdout": subprocess.DEVNULL, "start_new_session": True}
    schedule = Path(tempfile.mkdtemp()) / "beat-schedule"
    processes = [
        subprocess.Popen(
            [
                *celery,
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                "portal",
                "-n",
                f"webhooks-bench-{n}@%h",
            ],
            stderr=subprocess.DEVNULL,
            **quiet,
        )
        for n in range(args.workers)
    ]
    processes.append(
        subprocess.Popen(
            [*celery, "beat", "--loglevel=WARNING", "-s", str(schedule)],
            stderr=subprocess.DEVNULL,
            **quiet,
        )
    )
    print("worker and beat pids: " + " ".join(str(p.pid) for p in processes), file=sys.stderr)
    try:
        time.sleep(5)  # the workers are up before the first event
        first_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
        go, made = spawn.Event(), spawn.Queue()
        ids = [account.pk for account in accounts]
        producers = [
            spawn.Process(
                target=produce,
                args=(tenant.pk, ids[n :: args.producers], args.rate / args.producers),
                kwargs={"via": args.via, "seconds": args.seconds, "go": go, "made": made},
            )
            for n in range(args.producers)
        ]
        for producer in producers:
            producer.start()
        for _ in producers:
            assert made.get(timeout=120) == "ready"
        go.set()
        outcomes = [made.get(timeout=args.seconds * 10) for _ in producers]
        for producer in producers:
            producer.join(30)
        produced_in = max(elapsed for _count, _late, elapsed in outcomes)
        late = sum(late for _count, late, _elapsed in outcomes)
        occurred = dict(
            AuditEvent.objects.filter(
                tenant=tenant, action="account.updated", id__gt=first_event or 0
            ).values_list("id", "occurred_at")
        )
        print(
            f"produced {len(occurred):,} events in {produced_in:.1f} s by {args.producers} "
            f"process(es) ({len(occurred) / produced_in:.1f}/s achieved, target "
            f"{args.rate:.0f}/s; {late} calls started late)",
            flush=True,
        )
        deadline = time.monotonic() + args.drain
        from webhooks.models import WebhookDelivery

        while time.monotonic() < deadline:
            done = WebhookDelivery.objects.filter(
                endpoint__tenant=tenant, state=WebhookDelivery.SUCCEEDED
            ).count()
            if done >= len(occurred):
                break
            time.sleep(1)
        time.sleep(1)
        stop.set()
        received, copies = results.get(timeout=60)
        receiver.join(30)
        latencies = []
        per_window: dict[int, list[float]] = {}
        origin = min(occurred.values()).timestamp() if occurred else 0.0
        for pk, moment in occurred.items():
            at = received.get(f"evt_{pk}")
            if at is None:
                continue
            latency = (at - moment.timestamp()) * 1000
            latencies.append(latency)
            per_window.setdefault(int((moment.timestamp() - origin) // 10), []).append(latency)
        lost = len(occurred) - len(latencies)
        print(
            f"received {len(latencies):,}/{len(occurred):,} events (lost {lost}), "
            f"{copies - len(received)} repeated copies",
            flush=True,
        )
        if latencies:
            print(
                f"event -> receipt: p50 {percentile(latencies, 0.5):.0f} ms, "
                f"p95 {percentile(latencies, 0.95):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms, "
                f"max {max(latencies):.0f} ms, mean {statistics.mean(latencies):.0f} ms",
                flush=True,
            )
            windows = [percentile(v, 0.95) for _w, v in sorted(per_window.items())]
            print(
                f"p95 per 10 s window of occurrence ({len(windows)} windows): "
                f"lowest {min(windows):.0f} ms, highest {max(windows):.0f} ms, "
                f"last {windows[-1]:.0f} ms",
                flush=True,
            )
    finally:
        stop.set()
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in processes:
            process.wait(30)
        # Its receiver is gone: a later run must not inherit this endpoint's backlog.
        webhook_delete(
            WebhookDelete(reason="benchmark finished"),
            tenant=tenant,
            actor=actor,
            endpoint=endpoint,
        )
        connection.close()


if __name__ == "__main__":
    main()

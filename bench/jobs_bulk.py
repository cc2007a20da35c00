"""Bulk job throughput (`block`, then its `revert`) through real Celery workers, and the
latency of GET account by UID while a job runs against the same database, compared with
the same probe while nothing runs.

Needs PostgreSQL and Redis (the workers are separate processes):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench21 REDIS_URL=redis://127.0.0.1:6379/6 \
        FIELD_ENCRYPTION_KEY=... .venv/bin/python -m bench.jobs_bulk --accounts 100000

The tenant `--tenant` is seeded up to `--accounts` accounts (bench.seed, COPY) and every
account is made active again first. A job is created through the service the API calls
(jobs.services.job_create: the selection snapshotted as rows, scheduled on commit) and run
by `--workers` worker processes; rows/s = rows / (the job's created_at -> finished_at).
The probe is another process making paced GET /identity/v2/manage/account/{uid} requests
(`--probe-rate` per second, random UIDs, the whole Django request in process through the
test client): `--idle-seconds` with no job, then for the duration of each job.
Its Redis database is flushed.
"""

import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.database import migrate

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
# One access log line per probe request would be part of what is measured.
os.environ.setdefault("LOG_LEVEL", "WARNING")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(latencies: list[float]) -> str:
    if not latencies:
        return "no requests"
    return (
        f"{len(latencies)} requests, p50 {percentile(latencies, 0.5):.1f} ms, "
        f"p95 {percentile(latencies, 0.95):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms"
    )


def probe(
    api_key: str, secret: str, uids: list[str], rate: float, ready, stop, results, phase: str
) -> None:
    """Paced GETs by UID until `stop` is set, once warm (`ready`); the latencies (ms) go to
    `results`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.test import Client

    client = Client()
    headers = {"HTTP_X_LOGINRADIUS_APISECRET": secret}
    chooser = random.Random(21)
    latencies: list[float] = []
    interval = 1.0 / rate
    next_at = time.perf_counter()
    warm = 20  # the first requests fill caches and open the connection
    while not stop.is_set():
        uid = chooser.choice(uids)
        started = time.perf_counter()
        response = client.get(f"/identity/v2/manage/account/{uid}?apikey={api_key}", **headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"probe: HTTP {response.status_code} {response.content[:200]!r}")
        if warm:
            warm -= 1
            if not warm:
                ready.set()
        else:
            latencies.append(elapsed)
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.perf_counter()
    results.put((phase, latencies))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--tenant", default="jobs-bench")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (solo pool)")
    parser.add_argument("--probe-rate", type=float, default=20.0)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=3600.0, help="per job")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        sys.exit("set DATABASE_URL (PostgreSQL) and REDIS_URL")
    migrate()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()

    import redis
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Account
    from bench import seed
    from jobs.commands import JobCreate, JobRevert
    from jobs.models import Job, JobRow
    from jobs.services import job_create, job_revert
    from portal.audit import Actor
    from portal.models import AuditEvent

    def log(message: str) -> None:
        print(f"[jobs] {message}", file=sys.stderr, flush=True)

    tenant, state = seed.bench_tenant(args.tenant)
    seed.seed_accounts(tenant, args.accounts, log)
    reactivated = Account.objects.filter(tenant=tenant, is_active=False).update(is_active=True)
    if reactivated:
        log(f"made {reactivated} accounts active again")
    uids = list(
        Account.objects.filter(tenant=tenant)
        .order_by("id")
        .values_list("uid", flat=True)[: args.accounts]
    )
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    connection.close()  # the probe and the workers open their own

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        "LOG_LEVEL": "WARNING",
        "ALLOW_UNDELIVERED_MESSAGES": "1",
    }
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                "portal",
                "-n",
                f"jobs-bench-{n}@%h",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for n in range(args.workers)
    ]
    log("worker pids: " + " ".join(str(w.pid) for w in workers))
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()

    def probing(phase: str):
        ready, stop = spawn.Event(), spawn.Event()
        process = spawn.Process(
            target=probe,
            args=(state["api_key"], state["api_secret"], uids, args.probe_rate),
            kwargs={"ready": ready, "stop": stop, "results": results, "phase": phase},
        )
        process.start()
        if not ready.wait(120):
            raise SystemExit("the probe did not start")
        return stop, process

    def collect(stop, process) -> list[float]:
        stop.set()
        _phase, latencies = results.get(timeout=120)
        process.join(30)
        return latencies

    def run(make_job, label: str) -> tuple[int, list[float]]:
        stop, process = probing(label)
        job = make_job()
        log(f"{label}: job {job.pk}, {job.rows.count()} rows queued")
        deadline = time.monotonic() + args.timeout
        while True:
            job.refresh_from_db()
            if job.status in Job.FINISHED or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        latencies = collect(stop, process)
        applied = JobRow.objects.filter(job=job, state=JobRow.APPLIED).count()
        if job.status != Job.STATUS_SUCCEEDED:
            log(f"{label}: job {job.pk} ended {job.status} with {applied} rows applied")
        ended = job.finished_at or timezone.now()  # a job still running: its rate so far
        seconds = (ended - job.created_at).total_seconds()
        print(
            f"{label}: {applied:,} rows applied in {seconds:.1f} s -> "
            f"{applied / seconds:,.0f} rows/s ({job.status})",
            flush=True,
        )
        events = AuditEvent.objects.filter(
            caused_by=job.created_event_id, action=f"account.{job.action}ed"
        )
        print(
            f"  {events.count():,} account.{job.action}ed events for "
            f"{events.values('subject_uid').distinct().count():,} accounts",
            flush=True,
        )
        print(f"  GET account by UID during the job: {summary(latencies)}", flush=True)
        return job.pk, latencies

    actor = Actor.system("benchmark")
    try:
        stop, process = probing("idle")
        time.sleep(args.idle_seconds)
        idle = collect(stop, process)
        print(f"GET account by UID, no job running: {summary(idle)}", flush=True)
        block_id, during_block = run(
            lambda: job_create(
                JobCreate(
                    action="block",
                    uids=tuple(uids),
                    expected_count=len(uids),
                    reason="benchmark",
                ),
                tenant=tenant,
                actor=actor,
            ),
            "block",
        )
        _revert_id, during_revert = run(
            lambda: job_revert(
                JobRevert(job_id=block_id, reason="benchmark"), tenant=tenant, actor=actor
            ),
            "revert",
        )
        idle_p95 = percentile(idle, 0.95)
        for label, latencies in (("block", during_block), ("revert", during_revert)):
            if latencies:
                ratio = percentile(latencies, 0.95) / idle_p95
                print(f"p95 during {label} / idle p95: {ratio:.2f}x", flush=True)
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, 15)
        for worker in workers:
            worker.wait(30)


if __name__ == "__main__":
    main()

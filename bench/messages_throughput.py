"""Email delivery throughput and API-call-to-receipt latency through one Celery worker.

Needs PostgreSQL and Redis (the worker runs as a separate process):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench REDIS_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python bench/messages_throughput.py --count 300 --paced 200

Phase 1 (throughput): `--count` forgot-password calls with sendemail=true queue a backlog,
then one worker starts; messages/second = receipts at the loopback SMTP server / time from
the first receipt to the last. Phase 2 (paced): `--paced` calls at `--load` (default 70%)
of the measured throughput; latency = API call start -> SMTP server has the message.
The database must be migrated (the script runs `migrate`); its Redis database is flushed.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.database import migrate

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


class Receiver:
    def __init__(self):
        self.received: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        now = time.perf_counter()
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.setdefault(rcpt, now)
        return "250 OK"


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--paced", type=int, default=200)
    parser.add_argument("--load", type=float, default=0.7)
    parser.add_argument("--pool", default="solo", help="worker pool (solo: one process)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        sys.exit("set DATABASE_URL (PostgreSQL) and REDIS_URL")

    migrate()

    import django

    django.setup()
    import redis
    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.test import Client

    from tests.factories import AccountFactory, ApiCredentialFactory, TenantFactory

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    receiver = Receiver()
    from tests.messages.conftest import free_port

    port = free_port()
    controller = Controller(receiver, hostname="127.0.0.1", port=port)
    controller.start()

    stamp = int(time.time())
    tenant = TenantFactory(
        slug=f"bench-{stamp}",
        name=f"Bench {stamp}",
        settings={"send_cooldown_seconds": 0, "daily_email_cap": 10_000_000},
    )
    credential = ApiCredentialFactory(tenant=tenant)
    total = args.count + args.paced
    emails = [f"bench{stamp}-{i}@example.com" for i in range(total)]
    for email in emails:
        AccountFactory(tenant=tenant, email=email)

    env = {
        **os.environ,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        "LOG_LEVEL": "WARNING",
        "ALLOW_UNDELIVERED_MESSAGES": "1",  # SMS go to files; mail to the loopback server
    }

    def start_worker():
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                f"--pool={args.pool}",
                "--concurrency=1",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                "portal",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    client = Client()
    path = f"/identity/v2/manage/account/forgot/token?apikey={tenant.api_key}&sendemail=true"
    headers = {"HTTP_X_LOGINRADIUS_APISECRET": credential.raw}
    sent_at: dict[str, float] = {}

    def call(email):
        sent_at[email] = time.perf_counter()
        response = client.post(path, {"email": email}, content_type="application/json", **headers)
        assert response.status_code == 200, response.content

    def wait_for(batch, timeout=600):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and not all(e in receiver.received for e in batch):
            time.sleep(0.02)

    worker = None
    try:
        # Phase 1: a backlog queued through the API while no worker runs, then drained by one.
        batch = emails[: args.count]
        start = time.perf_counter()
        for email in batch:
            call(email)
        api_done = time.perf_counter()
        print(
            f"API: {len(batch)} calls in {api_done - start:.2f}s ({len(batch) / (api_done - start):.0f} calls/s, one client thread)"
        )
        worker = start_worker()
        wait_for(batch)
        got = sorted(receiver.received[e] for e in batch if e in receiver.received)
        elapsed = got[-1] - got[0]
        rate = (len(got) - 1) / elapsed
        print(
            f"worker drain: {len(got)}/{len(batch)} messages, first to last receipt {elapsed:.2f}s -> {rate:.1f} messages/s"
        )

        paced = emails[args.count :]
        if paced:
            interval = 1.0 / (rate * args.load)
            next_at = paced_start = time.perf_counter()
            for email in paced:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                call(email)
                next_at += interval
            achieved = len(paced) / (time.perf_counter() - paced_start)
            wait_for(paced)
            latencies = [
                (receiver.received[e] - sent_at[e]) * 1000 for e in paced if e in receiver.received
            ]
            print(
                f"paced at {rate * args.load:.1f} calls/s ({args.load:.0%} of throughput; achieved {achieved:.1f}/s), "
                f"{len(latencies)}/{len(paced)} received: "
                f"latency p50 {percentile(latencies, 0.5):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
                f"mean {statistics.mean(latencies):.0f} ms"
            )
    finally:
        if worker is not None:
            os.killpg(worker.pid, 15)
            worker.wait(20)
        controller.stop()


if __name__ == "__main__":
    main()

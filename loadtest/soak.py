"""Bounded soak: mixed API traffic through wrk against the app under gunicorn.

    .venv/bin/python loadtest/soak.py [--duration 600] [--connections 32] [--threads 4]

Uses the same environment as the app (DATABASE_URL, REDIS_URL, ...): migrates, creates a
soak tenant with accounts and sessions through the API, serves the app with gunicorn on a
free loopback port (or uses --url), runs wrk with loadtest/soak.lua for --duration
seconds, and half-way through fires 50 parallel requests at a second tenant whose
credential limit is 20 per window. Prints the status counts, latency percentiles (p95)
and the limit figure; exits non-zero on any 5xx, socket error, or a limit off by more
than one.
"""

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 20
PARALLEL = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def django_setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


def make_tenants(suffix: str):
    from portal import services
    from portal.audit import Actor
    from portal.tenant_commands import TenantCreate

    actor = Actor.system("soak")
    unlimited = {
        "rate_limit_per_tenant": 0,
        "rate_limit_per_credential": 0,
        "rate_limit_per_ip": 0,
        "send_cooldown_seconds": 0,
    }
    main, main_cred = services.tenant_create(
        TenantCreate(name=f"Soak {suffix}", settings=unlimited), actor=actor
    )
    limited_settings = {"rate_limit_per_credential": LIMIT, "rate_limit_window_seconds": 3600}
    limited, limited_cred = services.tenant_create(
        TenantCreate(name=f"Soak limited {suffix}", settings=limited_settings), actor=actor
    )
    return (main.api_key, main_cred.raw_secret), (limited.api_key, limited_cred.raw_secret)


def wait_up(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not come up")


def seed(base: str, key: str, secret: str, n: int = 20):
    headers = {"X-LoginRadius-ApiSecret": secret}
    q = urlencode({"apikey": key})
    people = []
    for i in range(n):
        email = f"soak{i}-{random.randrange(10**9)}@example.com"
        body = {
            "Email": [{"Type": "Primary", "Value": email}],
            "Password": f"Soak-passw0rd-{i}!",
            "FirstName": "Soak",
        }
        r = requests.post(
            f"{base}/identity/v2/manage/account?{q}", json=body, headers=headers, timeout=30
        )
        r.raise_for_status()
        uid = r.json()["Uid"]
        t = requests.get(
            f"{base}/identity/v2/manage/account/access_token?{q}&uid={uid}",
            headers=headers,
            timeout=30,
        )
        t.raise_for_status()
        people.append((uid, email, t.json()["access_token"]))
    return people


def request_lines(key: str, people) -> list[str]:
    q = "apikey=" + key
    lines = []
    for uid, email, token in people:
        lines += [f"GET\t/identity/v2/manage/account/{uid}?{q}\t"] * 6
        lines += [f"GET\t/identity/v2/auth/access_token/validate?{q}&access_token={token}\t"] * 4
        lines += [f"GET\t/identity/v2/manage/account/{uid}/role?{q}\t"] * 2
        lines += [
            f"PUT\t/identity/v2/manage/account/{uid}?{q}\t"
            + json.dumps({"FirstName": "Soak", "LastName": str(random.randrange(1000))})
        ] * 2
        lines += [f"GET\t/identity/v2/manage/account?{q}&{urlencode({'email': email})}\t"]
        lines += [f"GET\t/api/v1/accounts?{q}&{urlencode({'email': email})}\t"]
    lines += [f"GET\t/api/v1/tenant?{q}\t"] * 10
    lines += [f"GET\t/identity/v2/manage/account/{'0' * 32}?{q}\t"] * 3  # unknown account: 4xx
    lines += [
        f"GET\t/identity/v2/auth/access_token/validate?{q}&access_token=00000000-0000-4000-8000-000000000000\t"
    ] * 3
    return lines


def limit_probe(base: str, key: str, secret: str, result: dict) -> None:
    url = f"{base}/api/v1/tenant?apikey={key}"
    barrier = threading.Barrier(PARALLEL)
    statuses = []
    lock = threading.Lock()

    def call():
        session = requests.Session()
        barrier.wait(timeout=30)
        status = session.get(
            url, headers={"X-LoginRadius-ApiSecret": secret}, timeout=60
        ).status_code
        with lock:
            statuses.append(status)

    workers = [threading.Thread(target=call) for _ in range(PARALLEL)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    result["statuses"] = statuses


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=int(os.environ.get("SOAK_DURATION", "600")))
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--url", default="", help="an already running server (same database)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")

    python = sys.executable
    # The soak delivers no mail or SMS; migrate's system checks would refuse that.
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "ALLOW_UNDELIVERED_MESSAGES": "1"},
    )
    django_setup()
    suffix = time.strftime("%Y%m%d%H%M%S")
    (key, secret), (limited_key, limited_secret) = make_tenants(suffix)

    server = None
    base = args.url.rstrip("/")
    if not base:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = str(Path(python).with_name("gunicorn"))
        server = subprocess.Popen(
            [
                gunicorn,
                "portal.wsgi",
                "-w",
                str(args.workers),
                "-k",
                "gthread",
                "--threads",
                "4",
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "DEBUG": "0",
                "LOG_LEVEL": os.environ.get("SOAK_SERVER_LOG_LEVEL", "ERROR"),
                "ALLOW_UNDELIVERED_MESSAGES": "1",  # the soak delivers nothing on purpose
            },
        )
    try:
        wait_up(base)
        people = seed(base, key, secret)
        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
            handle.write("\n".join(request_lines(key, people)) + "\n")
            requests_file = handle.name
        env = {**os.environ, "SOAK_REQUESTS_FILE": requests_file, "SOAK_SECRET": secret}
        wrk = subprocess.Popen(
            [
                "wrk",
                "-t",
                str(args.threads),
                "-c",
                str(args.connections),
                "-d",
                f"{args.duration}s",
                "--timeout",
                "30s",
                "-s",
                str(Path(__file__).with_name("soak.lua")),
                base,
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(args.duration / 2)
        probe: dict = {}
        limit_probe(base, limited_key, limited_secret, probe)
        out, _ = wrk.communicate(timeout=args.duration + 120)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    print(out)
    statuses = {}
    socket_errors = 0
    for line in out.splitlines():
        if line.startswith("SOAK-STATUS"):
            statuses = {int(k): int(v) for k, v in (p.split("=") for p in line.split()[1:])}
        if line.startswith("SOAK-TOTAL"):
            socket_errors = int(line.rsplit("socket_errors=", 1)[1])
    server_errors = sum(n for s, n in statuses.items() if s >= 500)
    allowed = probe.get("statuses", []).count(200)
    print(
        f"SOAK-LIMIT limit={LIMIT} parallel={PARALLEL} allowed={allowed} "
        f"refused_429={probe.get('statuses', []).count(429)} other={[s for s in probe.get('statuses', []) if s not in (200, 429)]}"
    )
    failed = server_errors > 0 or socket_errors > 0 or abs(allowed - LIMIT) > 1 or not statuses
    print(
        f"SOAK-RESULT {'FAIL' if failed else 'PASS'} 5xx={server_errors} socket_errors={socket_errors}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

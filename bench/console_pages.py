"""p95 of the console's two busiest pages, the account search and the account page, with
8 agents signed in at once (each its own console session), over the seeded benchmark tenant.

    SECRET_KEY=... DATABASE_URL=postgres://... REDIS_URL=redis://... \\
        python -m bench.console_pages [--accounts 1000000] [--duration 30] [--output FILE]

1. Seeds the tenant up to --accounts (bench.seed; skipped rows that exist) and signs in
   --agents staff sessions (password + TOTP state, as bench.seed's console session).
2. Serves the project with gunicorn (DEBUG off, PostgreSQL + Redis) on loopback.
3. For each page, --agents threads, each a keep-alive connection with its own session,
   request pages back to back for --duration seconds (after a short warm-up). A page view
   is timed from its request to the last byte of the page, following the redirects the
   console answers with (so a search posted or linked by text counts its redirect too).
4. Prints a markdown table (and writes it to --output): views, errors, p50/p95/p99/max, and
   the CPU time per view of the server's processes (gunicorn's workers) and of PostgreSQL's
   (every `postgres` process this machine shows), read from /proc before and after each
   page's run: with the load generator on the same cores, p95 follows them.

The target (docs: BENCHMARKS.md) is p95 <= 150 ms for both pages at 1,000,000 accounts.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from bench.database import migrate
from bench.run import ROOT, WORK, Server, free_port, machine

TARGET_P95_MS = 150.0
MAX_REDIRECTS = 3


def log(msg: str) -> None:
    print(f"[console-pages] {msg}", file=sys.stderr, flush=True)


@dataclass
class Page:
    name: str
    paths: list[str]
    # Text every answer of this page contains, one of them (a sign-in page is an error).
    markers: tuple[str, ...]
    times_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    # CPU seconds used during the recorded run, by whom ("gunicorn", "PostgreSQL").
    cpu_seconds: dict[str, float] = field(default_factory=dict)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` (0 when it is gone or /proc is absent)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process /proc shows."""
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except (OSError, ValueError):
            continue
        found.append((int(entry.name), int(tail.split()[1]), head.partition("(")[2]))
    return found


def cpu_snapshot(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server (its master and workers) and of PostgreSQL."""
    processes = _processes()
    server = [pid for pid, parent, _ in processes if pid == server_pid or parent == server_pid]
    postgres = [pid for pid, _, name in processes if name == "postgres"]
    return {
        "gunicorn": sum(_cpu_seconds(pid) for pid in server),
        "PostgreSQL": sum(_cpu_seconds(pid) for pid in postgres),
    }


def agent_sessions(tenant_slug: str, agents: int) -> list[str]:
    """`agents` signed-in console sessions of the tenant's bench agent (Cookie values)."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, os, sys, django; django.setup();"
            "from bench.seed import console_session; from portal.models import Tenant;"
            f"t = Tenant.objects.get(slug={tenant_slug!r});"
            f"print(json.dumps([console_session(t) for _ in range({agents})]))",
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def pages(state: dict, slug: str, size: int = 2000) -> list[Page]:
    """The search page (name fragments and partial emails, as agents type them) and the
    account page of accounts spread over the whole table."""
    from bench import seed as s

    rng = random.Random(42)
    n = state["accounts"]
    idx = [rng.randrange(n) for _ in range(size)]
    queries = [
        s.names_of(i)[1].lower()[1:7] if k % 2 else s.email_of(i)[:10] for k, i in enumerate(idx)
    ]
    return [
        Page(
            "Console search page",
            [f"/console/accounts/?q={quote(q)}" for q in queries],
            # A search with one match opens the account, as it does for the agent.
            markers=('id="results"', 'id="account-uid"'),
        ),
        Page(
            "Console account page",
            [f"/console/accounts/{slug}/{s.uid_of(i)}/" for i in idx],
            markers=('id="account-uid"',),
        ),
    ]


def view(conn: http.client.HTTPConnection, path: str, cookie: str) -> tuple[int, bytes]:
    """GET `path` and the redirects it answers with; the last status and body."""
    for _ in range(MAX_REDIRECTS + 1):
        conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html"})
        response = conn.getresponse()
        body = response.read()
        location = response.getheader("Location")
        if response.status in (301, 302, 303, 307) and location:
            path = urlsplit(location)._replace(scheme="", netloc="").geturl()
            continue
        return response.status, body
    return 0, b"too many redirects"


def drive(url: str, page: Page, cookies: list[str], seconds: float, *, record: bool) -> None:
    parts = urlsplit(url)
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()

    def agent(number: int, cookie: str) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        position = number * 7919 % len(page.paths)
        while time.monotonic() < stop_at:
            path = page.paths[position]
            position = (position + 1) % len(page.paths)
            t0 = time.perf_counter()
            try:
                status, body = view(conn, path, cookie)
            except (OSError, http.client.HTTPException) as error:
                status, body = 0, type(error).__name__.encode()
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            elapsed = (time.perf_counter() - t0) * 1000
            if not record:
                continue
            with lock:
                if status == 200 and any(m.encode() in body for m in page.markers):
                    page.times_ms.append(elapsed)
                else:
                    key = str(status) if status != 200 else "200 without the page"
                    page.errors[key] = page.errors.get(key, 0) + 1
        conn.close()

    threads = [
        threading.Thread(target=agent, args=(i, cookie), daemon=True)
        for i, cookie in enumerate(cookies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def percentile(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    return sorted_ms[min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms)) - 1))]


def table(results: list[Page], *, accounts: int, agents: int, duration: int, workers: int) -> str:
    lines = [
        f"Console pages at {accounts:,} accounts: {agents} agents signed in at once, each "
        f"requesting pages back to back for {duration} s per page; gunicorn with {workers} "
        "sync workers on loopback.",
        "",
        f"Machine: {machine()}",
        "",
        "| Page | Views | Errors | Views/s | p50 ms | p95 ms | p99 ms | max ms | p95 target "
        "| CPU per view: gunicorn + PostgreSQL |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for page in results:
        ms = sorted(page.times_ms)
        errors = sum(page.errors.values())
        p95 = percentile(ms, 95)
        verdict = "met" if ms and p95 <= TARGET_P95_MS and not errors else "NOT met"
        cpu = (
            " + ".join(
                f"{1000 * page.cpu_seconds.get(who, 0.0) / len(ms):.1f}"
                for who in ("gunicorn", "PostgreSQL")
            )
            + " ms"
            if ms and page.cpu_seconds
            else "n/a"
        )
        lines.append(
            f"| {page.name} | {len(ms)} | {errors} | {len(ms) / duration:.1f} | "
            f"{statistics.median(ms) if ms else float('nan'):.1f} | {p95:.1f} | "
            f"{percentile(ms, 99):.1f} | {ms[-1] if ms else float('nan'):.1f} | "
            f"<= {TARGET_P95_MS:.0f} ms: {verdict} | {cpu} |"
        )
    for page in results:
        if page.errors:
            lines.append("")
            lines.append(f"{page.name} errors: {json.dumps(page.errors)}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=30, help="seconds per page")
    parser.add_argument("--agents", type=int, default=8, help="concurrent signed-in agents")
    parser.add_argument("--workers", type=int, default=8, help="gunicorn workers")
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--warmup", type=int, default=3, help="seconds per page, not counted")
    parser.add_argument("--output", type=Path, help="also write the markdown table here")
    parser.add_argument(
        "--no-seed", action="store_true", help="use the tenant as seeded (var/bench/<tenant>.json)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    migrate(settings_module="bench.settings")
    state_file = WORK / f"{args.tenant}.json"
    if not args.no_seed:
        log(f"seeding {args.tenant} up to {args.accounts:,} accounts")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.seed",
                "--accounts",
                str(args.accounts),
                "--tenant",
                args.tenant,
                "--sessions",
                "100",
            ],
            check=True,
            cwd=ROOT,
        )
    state = json.loads(state_file.read_text())
    cookies = agent_sessions(args.tenant, args.agents)
    server = Server(args.workers, free_port())
    try:
        results = pages(state, args.tenant)
        for page in results:
            log(f"{page.name}: warm-up {args.warmup} s, then {args.duration} s")
            drive(server.url, page, cookies, args.warmup, record=False)
            before = cpu_snapshot(server.proc.pid)
            drive(server.url, page, cookies, args.duration, record=True)
            after = cpu_snapshot(server.proc.pid)
            page.cpu_seconds = {who: after[who] - before[who] for who in after}
    finally:
        server.stop()
    report = table(
        results,
        accounts=state["accounts"],
        agents=args.agents,
        duration=args.duration,
        workers=args.workers,
    )
    print(report)
    if args.output:
        args.output.write_text(report)
        log(f"wrote {args.output}")
    return report


if __name__ == "__main__":
    main()

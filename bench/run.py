"""The benchmark: seed, serve with gunicorn, drive with wrk, compare with the floor.

    SECRET_KEY=... DATABASE_URL=postgres://... REDIS_URL=redis://... \\
        python -m bench.run [--accounts N] [--baseline 10000] [--duration 10] [--workers 4]

1. Seeds the benchmark tenant (bench.seed) — first to --baseline accounts to measure GET
   by UID on a small table, then to --accounts.
2. Starts gunicorn (DEBUG off, the given SECRET_KEY, PostgreSQL + Redis) on loopback with
   bench.settings: the project's URLs plus the floor views.
3. For every operation runs wrk (time-bounded, bench/wrk/requests.lua) against the project
   endpoint and against its floor, one after the other in the same run.
4. Prints the table and writes BENCHMARKS.md (machine, exact command, figures).
"""

import argparse
import json
import os
import platform
import random
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "wrk" / "requests.lua"
WORK = ROOT / "var" / "bench"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def seed(accounts: int, sessions: int, tenant: str) -> dict:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.seed",
            "--accounts",
            str(accounts),
            "--sessions",
            str(sessions),
            "--tenant",
            tenant,
        ],
        check=True,
        cwd=ROOT,
    )
    return json.loads((WORK / f"{tenant}.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workers: int, port: int):
        self.port = port
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        }
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.cmd = [
            gunicorn,
            "portal.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
        ]
        self.proc = subprocess.Popen(self.cmd, env=env, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def write_lines(name: str, lines: list[str], headers: dict[str, str]) -> Path:
    path = WORK / f"{name}.txt"
    path.write_text(
        "".join(f"#H {k}: {v}\n" for k, v in headers.items()) + "".join(x + "\n" for x in lines)
    )
    return path


def operations(state: dict, sample: dict) -> list[dict]:
    """Each operation: its project request file, its floor request file, and wrk options."""
    key, secret, t = state["api_key"], state["api_secret"], state["tenant_id"]
    auth = {"X-LoginRadius-ApiSecret": secret}
    q = f"apikey={key}"
    uids, emails, phones = sample["uids"], sample["emails"], sample["phones"]
    names, prefixes, records = sample["names"], sample["prefixes"], sample["records"]
    A = "/identity/v2/manage/account"
    ops = [
        (
            "GET account by UID",
            [f"{A}/{u}?{q}" for u in uids],
            [f"/bench/floor/account/{u}?t={t}" for u in uids],
        ),
        (
            "GET account by email",
            [f"{A}?{q}&email={quote(e)}" for e in emails],
            [f"/bench/floor/account-by-email?t={t}&email={quote(e)}" for e in emails],
        ),
        (
            "Access-token validation",
            [
                f"/identity/v2/auth/access_token/validate?{q}\tAuthorization: Bearer {tok}"
                for tok in state["access_tokens"]
            ],
            [f"/bench/floor/token?token={tok}" for tok in state["access_tokens"]],
        ),
        (
            "Effective permissions",
            [f"/api/v1/accounts/{u}/permissions?{q}&context=Home" for u in uids],
            [f"/bench/floor/permissions/{u}?t={t}" for u in uids],
        ),
        (
            "Custom-object get",
            [f"{A}/{u}/customobject/{r}?{q}&objectname=orders" for u, r in records],
            [f"/bench/floor/customobject/{u}/{r}?t={t}&objectname=orders" for u, r in records],
        ),
        (
            "Search: exact email",
            [f"/api/v1/accounts?{q}&email={quote(e)}" for e in emails],
            [f"/bench/floor/search?t={t}&kind=email&q={quote(e)}" for e in emails],
        ),
        (
            "Search: email prefix",
            [f"/api/v1/accounts?{q}&email_prefix={quote(p)}" for p in prefixes],
            [f"/bench/floor/search?t={t}&kind=email_prefix&q={quote(p)}" for p in prefixes],
        ),
        (
            "Search: phone",
            [f"/api/v1/accounts?{q}&phone={quote(p)}" for p in phones],
            [f"/bench/floor/search?t={t}&kind=phone&q={quote(p)}" for p in phones],
        ),
        (
            "Search: UID",
            [f"/api/v1/accounts?{q}&uid={u}" for u in uids],
            [f"/bench/floor/search?t={t}&kind=uid&q={u}" for u in uids],
        ),
        (
            "Search: name substring",
            [f"/api/v1/accounts?{q}&search={quote(n)}" for n in names],
            [f"/bench/floor/search?t={t}&kind=search&q={quote(n)}" for n in names],
        ),
        (
            "Console search page",
            [f"/console/accounts/?q={quote(n)}" for n in names],
            [f"/bench/floor/search?t={t}&kind=search&q={quote(n)}" for n in names],
        ),
    ]
    out = []
    for name, project, floor in ops:
        slug = name.lower().replace(" ", "_").replace(":", "").replace("-", "_")
        headers = {"Cookie": state["console_cookie"]} if name.startswith("Console") else dict(auth)
        out.append(
            {
                "name": name,
                "project": write_lines(f"{slug}.project", project, headers),
                "floor": write_lines(f"{slug}.floor", floor, {}),
            }
        )
    return out


def sample_of(state: dict, size: int = 2000) -> dict:
    """Identifiers of seeded accounts, spread over the whole table."""
    from bench import seed as s

    rng = random.Random(42)
    n = state["accounts"]
    idx = [rng.randrange(n) for _ in range(size)]
    rec_idx = [i - i % 5 for i in idx]
    return {
        "uids": [s.uid_of(i) for i in idx],
        "emails": [s.email_of(i) for i in idx],
        "phones": [s.phone_of(i) for i in idx],
        "prefixes": [s.email_of(i)[:10] for i in idx],  # "user000123": at most 10 accounts
        # A substring inside a last name ("owalsk"): each matches about 1 account in 200.
        "names": [s.names_of(i)[1].lower()[1:7] for i in idx],
        "records": [(s.uid_of(i), s.record_id_of(i)) for i in rec_idx],
    }


def wrk(
    url: str, path: Path, *, duration: int, connections: int, threads: int, chain_prefix: str = ""
) -> dict:
    args = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        str(path),
    ]
    if chain_prefix:
        args += ["chain", chain_prefix]
    env = {**os.environ, "WRK_THREADS": str(threads)}
    out = subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = (
        result["status"] + result["connect"] + result["read"] + result["write"] + result["timeout"]
    )
    return result


def check(url: str, path: Path) -> None:
    """One request of the file, so a broken setup fails loudly instead of measuring errors."""
    import urllib.request

    lines = path.read_text().splitlines()
    headers = dict(x[3:].split(": ", 1) for x in lines if x.startswith("#H "))
    first = next(x for x in lines if not x.startswith("#H "))
    target, _, extra = first.partition("\t")
    if extra:
        k, v = extra.split(": ", 1)
        headers[k] = v
    req = urllib.request.Request(url + target, headers=headers)  # noqa: S310 (loopback)
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (loopback)
        if resp.status != 200:
            raise RuntimeError(f"{target}: HTTP {resp.status}")


def median_round(rounds: list[tuple[dict, dict]]) -> dict:
    """Each figure's median over the rounds (a stall in one round moves none of them), the
    median of the rounds' project/floor ratios and their range."""

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    def combined(runs: list[dict]) -> dict:
        return {
            **{k: median([r[k] for r in runs]) for k in ("rps", "p50", "p95", "p99")},
            "errors": sum(r["errors"] for r in runs),
        }

    ratios = sorted(p["rps"] / f["rps"] for p, f in rounds)
    return {
        "project": combined([p for p, _ in rounds]),
        "floor": combined([f for _, f in rounds]),
        "ratio": median(ratios),
        "ratio_min": ratios[0],
        "ratio_max": ratios[-1],
    }


def fmt_ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    pg = (
        subprocess.run(
            ["psql", os.environ.get("DATABASE_URL", ""), "-Atc", "show server_version"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if shutil.which("psql")
        else "?"
    )
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), {mem}; "
        f"Python {platform.python_version()}; PostgreSQL {pg or '?'}; {wrk_v.strip()}"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--accounts",
        type=int,
        default=None,
        help="default: 1,000,000 on PostgreSQL, 20,000 on SQLite",
    )
    parser.add_argument(
        "--baseline",
        type=int,
        default=10_000,
        help="size for the small-table GET-by-UID run (0: skip)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--sessions", type=int, default=4000, help="live sessions issued for the token operations"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating project/floor runs per operation"
    )
    parser.add_argument(
        "--only", default="", help="comma-separated substrings of operation names to run"
    )
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    if not os.environ.get("SECRET_KEY"):
        sys.exit("set SECRET_KEY (and DATABASE_URL, REDIS_URL) for a production-like run")
    postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    accounts = args.accounts or (1_000_000 if postgres else 20_000)
    command = "python -m bench.run " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        check=True,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"},
    )
    results: list[dict] = []
    wrk_opts = {"duration": args.duration, "connections": args.connections, "threads": args.threads}

    def measure(name, state, ops_filter=None):
        server = Server(args.workers, free_port())
        url = f"http://127.0.0.1:{server.port}"
        try:
            ops = operations(state, sample_of(state))
            tokens = state["refresh_tokens"]
            # Each round presents refresh tokens no earlier round has rotated.
            per_round = max(len(tokens) // args.rounds, 1)
            refresh = [
                write_lines(
                    f"refresh.project.{r}",
                    tokens[r * per_round : (r + 1) * per_round],
                    {"X-LoginRadius-ApiSecret": state["api_secret"]},
                )
                for r in range(args.rounds)
            ]
            floor_rot = write_lines(
                "refresh.floor",
                [f"/bench/floor/rotate?h={h}" for h in state["floor_refresh_hashes"]],
                {},
            )
            chain_prefix = f"/identity/v2/manage/account/access_token/refresh?apikey={state['api_key']}&refresh_token="
            ops.insert(
                3,
                {
                    "name": "Refresh-token rotation",
                    "project": refresh,
                    "floor": floor_rot,
                    "chain": chain_prefix,
                },
            )
            for op in ops:
                if ops_filter and not any(f.lower() in op["name"].lower() for f in ops_filter):
                    continue
                project_files = (
                    op["project"]
                    if isinstance(op["project"], list)
                    else [op["project"]] * args.rounds
                )
                if "chain" not in op:
                    check(url, project_files[0])
                check(url, op["floor"])
                log(f"{name}: {op['name']}")
                # Warm-up (connections, caches, plans), then the measured runs: project and
                # floor alternate, so a change in machine speed falls on both.
                warm = dict(wrk_opts, duration=2)
                if "chain" not in op:
                    wrk(url, project_files[0], **warm)
                wrk(url, op["floor"], **warm)
                rounds = []
                for r in range(args.rounds):
                    project = wrk(
                        url, project_files[r], chain_prefix=op.get("chain", ""), **wrk_opts
                    )
                    floor = wrk(url, op["floor"], **wrk_opts)
                    rounds.append((project, floor))
                    log(
                        f"  round {r + 1}: project {project['rps']:.0f} req/s p95 {fmt_ms(project['p95'])} ms "
                        f"errors {project['errors']}; floor {floor['rps']:.0f} req/s p95 {fmt_ms(floor['p95'])} ms"
                    )
                results.append(
                    {"size": state["accounts"], "op": op["name"], **median_round(rounds)}
                )
        finally:
            server.stop()

    t0 = time.monotonic()
    only = [x for x in args.only.split(",") if x]
    if (
        args.baseline
        and args.baseline < accounts
        and (not only or any("uid" in x.lower() for x in only))
    ):
        state = seed(args.baseline, 200, "bench-small")
        measure(f"{args.baseline:,}", state, ["GET account by UID"])
    state = seed(accounts, args.sessions, "bench")
    seeded = time.monotonic() - t0
    measure(f"{accounts:,}", state, only)
    report = render(results, command=command, machine=machine(), args=args, seeded=seeded)
    print(report)
    write_report(Path(args.output), report)
    (WORK / "results.json").write_text(json.dumps(results, indent=1))


def render(results, *, command, machine, args, seeded) -> str:
    rows = [
        "| Operation | Accounts | Project req/s | p50 ms | p95 ms | p99 ms | errors | Floor req/s | Floor p50 | Floor p95 | Floor p99 | Project / floor | Ratio range |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        p, f = r["project"], r["floor"]
        rows.append(
            f"| {r['op']} | {r['size']:,} | {p['rps']:.0f} | {fmt_ms(p['p50'])} | {fmt_ms(p['p95'])} | {fmt_ms(p['p99'])} "
            f"| {p['errors']} | {f['rps']:.0f} | {fmt_ms(f['p50'])} | {fmt_ms(f['p95'])} | {fmt_ms(f['p99'])} "
            f"| {r['ratio']:.2f} | {r['ratio_min']:.2f}-{r['ratio_max']:.2f} |"
        )
    return "\n".join(
        [
            f"Machine: {machine}",
            "",
            f"Command: `{command}` (environment: `DATABASE_URL`, `REDIS_URL`, `SECRET_KEY` set; DEBUG off)",
            "",
            f"Server: gunicorn, {args.workers} sync workers, bench.settings (the project + floor views), loopback. "
            f"Load: wrk, {args.threads} threads, {args.connections} connections, {args.duration} s per run after a 2 s "
            f"warm-up; the project and its floor alternate {args.rounds} times in the same server process. Each "
            "figure is the median over the rounds, the ratio the median of the rounds' ratios (errors: all rounds).",
            f"Seeding and session pools took {seeded:.0f} s.",
            "",
            *rows,
            "",
            "Floor: a bare Django view on the same server doing the least database work of the operation "
            "(one indexed read for a GET; lock + update + insert for a rotation; count + first page for a search).",
        ]
    )


BEGIN, END = "<!-- bench.run: begin -->", "<!-- bench.run: end -->"


def write_report(path: Path, report: str) -> None:
    """Replace the generated part of `path` (between the markers), keeping the rest."""
    block = f"{BEGIN}\n{report}\n{END}"
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = f"# Benchmarks\n\n{block}\n"
    path.write_text(text)


if __name__ == "__main__":
    main()

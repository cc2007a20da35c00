"""The benchmark: seed, serve with gunicorn, drive with wrk, compare with the floors.

    SECRET_KEY=... DATABASE_URL=postgres://... REDIS_URL=redis://... \\
        python -m bench.run [--accounts N] [--baseline 10000] [--duration 10] [--workers 4]

1. Seeds the benchmark tenant (bench.seed) — first to --baseline accounts to measure GET
   by UID on a small table, then to --accounts.
2. Starts two gunicorns (DEBUG off, the given SECRET_KEY, PostgreSQL + Redis) on loopback,
   with the same worker count: the project with bench.settings (the project's URLs plus
   the old floor views, bench.floor, which run inside the project's settings and so walk
   all its middleware), and the bare floor (bench.bare: no middleware, raw SQL).
3. For every operation runs wrk (time-bounded, bench/wrk/requests.lua) against the project
   endpoint, the bare floor and the old floor, one after the other in each round.
4. Measures sign-ins per second (POST /identity/v2/auth/login, production hasher).
5. Prints the tables and writes BENCHMARKS.md (machine, exact command, figures).
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
from urllib.parse import quote, urlencode

from bench.database import migrate

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
    def __init__(
        self, workers: int, port: int, *, settings: str = "bench.settings", app: str = "portal.wsgi"
    ):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings,
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            # The benchmark sends no messages worth delivering.
            "ALLOW_UNDELIVERED_MESSAGES": "1",
        }
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.cmd = [
            gunicorn,
            app,
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
            [f"/floor/account/{u}?t={t}" for u in uids],
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
            [f"/floor/token?h={h}" for h in state["floor_access_hashes"]],
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
            # The box's text is posted and the results page opens it from its sealed token.
            [
                f"/console/accounts/?{urlencode({'s': sealed})}"
                for sealed in state["console_searches"]
            ],
            [f"/bench/floor/search?t={t}&kind=search&q={quote(n)}" for n in names],
        ),
    ]
    out = []
    for name, project, floor, *bare in ops:
        slug = name.lower().replace(" ", "_").replace(":", "").replace("-", "_")
        headers = {"Cookie": state["console_cookie"]} if name.startswith("Console") else dict(auth)
        floors = {"settings": write_lines(f"{slug}.floor", floor, {})}
        if bare:
            floors["bare"] = write_lines(f"{slug}.bare", bare[0], {})
        out.append(
            {
                "name": name,
                "project": write_lines(f"{slug}.project", project, headers),
                "floors": floors,
            }
        )
    return out


def rotation(state: dict, rounds: int) -> dict:
    """Refresh-token rotation: the project is presented live refresh tokens, each once (a
    chain per connection, disjoint per round); the floors rotate seeded ones again and again."""
    tokens = state["refresh_tokens"]
    per_round = max(len(tokens) // rounds, 1)
    seeded = list(zip(state["floor_refresh_hashes"], state["floor_refresh_subjects"], strict=True))
    return {
        "name": "Refresh-token rotation",
        "project": [
            write_lines(
                f"refresh.project.{r}",
                tokens[r * per_round : (r + 1) * per_round],
                {"X-LoginRadius-ApiSecret": state["api_secret"]},
            )
            for r in range(rounds)
        ],
        "floors": {
            "bare": write_lines(
                "refresh.bare", [f"/floor/rotate?h={h}&uid={u}" for h, u in seeded], {}
            ),
            "settings": write_lines(
                "refresh.floor", [f"/bench/floor/rotate?h={h}" for h, _ in seeded], {}
            ),
        },
        "chain": "/identity/v2/manage/account/access_token/refresh?"
        f"apikey={state['api_key']}&refresh_token=",
    }


SIGNIN = "Sign-in (password)"


def signin(state: dict) -> dict:
    """Password sign-ins by email over the pool bench.seed gave a production-hashed password."""
    path = f"/identity/v2/auth/login?apikey={state['api_key']}"
    lines = [
        f"{path}\t{json.dumps({'email': e, 'password': state['signin_password']})}"
        for e in state["signin_emails"]
    ]
    return {
        "name": SIGNIN,
        "project": write_lines("signin.project", lines, {"Content-Type": "application/json"}),
        "mode": "post",
    }


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
    url: str,
    path: Path,
    *,
    duration: int,
    connections: int,
    threads: int,
    chain_prefix: str = "",
    mode: str = "",
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
    elif mode:
        args += [mode]
    env = {**os.environ, "WRK_THREADS": str(threads)}
    out = subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    # wrk's own status errors are the 4xx and 5xx; a redirect (3xx) counts as one too.
    status_errors = max(result["status"], result.get("not_2xx", 0))
    result["errors"] = (
        status_errors + result["connect"] + result["read"] + result["write"] + result["timeout"]
    )
    return result


def fetch(url: str, path: Path, *, mode: str = "") -> bytes:
    """The answer to the file's first request; anything but a 200 raises, so a broken setup
    fails loudly instead of measuring errors."""
    import urllib.request

    lines = path.read_text().splitlines()
    headers = dict(x[3:].split(": ", 1) for x in lines if x.startswith("#H "))
    first = next(x for x in lines if not x.startswith("#H "))
    target, _, extra = first.partition("\t")
    body = None
    if mode == "post":
        body = extra.encode()
    elif extra:
        k, v = extra.split(": ", 1)
        headers[k] = v
    req = urllib.request.Request(url + target, data=body, headers=headers)  # noqa: S310 (loopback)
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (loopback)
        if resp.status != 200:
            raise RuntimeError(f"{target}: HTTP {resp.status}")
        return resp.read()


def check(url: str, path: Path, *, mode: str = "") -> None:
    fetch(url, path, mode=mode)


def profile_sizes(project_url: str, project_file: Path, bare_url: str, bare_file: Path) -> dict:
    """The first account's profile JSON from the project and from the bare floor: key counts
    and bytes, so the run shows that both answers weigh the same."""
    sizes = {}
    for name, url, path in (("project", project_url, project_file), ("bare", bare_url, bare_file)):
        body = fetch(url, path)
        sizes[name] = {"keys": len(json.loads(body)), "bytes": len(body)}
    return sizes


def vcpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def hasher_cost(samples: int = 5) -> dict:
    """The production hasher's parameters and the CPU time of one password check in this
    process: the ceiling of sign-ins per second per vCPU is about 1000 / that."""
    from django.contrib.auth.hashers import get_hasher, make_password

    hasher = get_hasher()
    encoded = make_password("bench-cost")
    hasher.verify("bench-cost", encoded)
    t0 = time.process_time()
    for _ in range(samples):
        hasher.verify("bench-cost", encoded)
    per_check = (time.process_time() - t0) / samples * 1000
    summary = "$".join(encoded.split("$")[:4])
    return {"hasher": type(hasher).__name__, "params": summary, "ms": per_check}


def median_round(rounds: list[tuple[dict, dict]]) -> dict:
    """Each figure's median over the rounds (a stall in one round moves none of them), the
    median of the rounds' project/floor ratios and their range."""
    ratios = sorted(p["rps"] / f["rps"] for p, f in rounds)
    return {
        "project": combined([p for p, _ in rounds]),
        "floor": combined([f for _, f in rounds]),
        "ratio": ratios[len(ratios) // 2],
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
    wrk_v = (
        subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
        if shutil.which("wrk")
        else "wrk not installed"
    )
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), {mem}; "
        f"Python {platform.python_version()}; PostgreSQL {pg or '?'}; {wrk_v.strip()}"
    )


FLOORS = {
    "bare": "bare floor (bench.bare: no middleware, raw SQL)",
    "settings": "old floor (bench.floor: inside the project's settings, all its middleware)",
}


def combined(runs: list[dict]) -> dict:
    """Each figure's median over the rounds; errors of all rounds."""

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    return {
        **{k: median([r[k] for r in runs]) for k in ("rps", "p50", "p95", "p99")},
        "errors": sum(r["errors"] for r in runs),
    }


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
    parser.add_argument(
        "--workers", type=int, default=4, help="gunicorn workers (the project's and each floor's)"
    )
    parser.add_argument(
        "--sessions", type=int, default=4000, help="live sessions issued for the token operations"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating project/floor runs per operation"
    )
    parser.add_argument(
        "--only", default="", help="comma-separated substrings of operation names to run"
    )
    parser.add_argument(
        "--floors",
        default="bare,settings",
        help="floors to measure next to the project: bare, settings (the old floor) or both",
    )
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    floor_kinds = [f for f in args.floors.split(",") if f]
    if not floor_kinds or any(f not in FLOORS for f in floor_kinds):
        sys.exit(f"--floors: a comma-separated list of {', '.join(FLOORS)}")
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
    migrate(settings_module="bench.settings")
    results: list[dict] = []
    signins: list[dict] = []
    notes: dict = {}
    wrk_opts = {"duration": args.duration, "connections": args.connections, "threads": args.threads}
    only = [x for x in args.only.split(",") if x]

    def wanted(name: str, names: list[str]) -> bool:
        return not names or any(f.lower() in name.lower() for f in names)

    def measure(name, state, ops_filter=None):
        project_server = Server(args.workers, free_port())
        bare_server = Server(
            args.workers, free_port(), settings="bench.bare_settings", app="bench.bare_wsgi"
        )
        urls = {"settings": project_server.url, "bare": bare_server.url}
        url = project_server.url
        try:
            ops = operations(state, sample_of(state))
            ops.insert(3, rotation(state, args.rounds))
            by_uid = ops[0]
            if "bare" in floor_kinds and wanted(by_uid["name"], ops_filter or []):
                sizes = profile_sizes(
                    url, by_uid["project"], urls["bare"], by_uid["floors"]["bare"]
                )
                notes.setdefault("profile", sizes)
                log(
                    f"{name}: profile JSON: project {sizes['project']['keys']} keys, "
                    f"{sizes['project']['bytes']:,} bytes; bare floor {sizes['bare']['keys']} keys, "
                    f"{sizes['bare']['bytes']:,} bytes"
                )
            for op in ops:
                if not wanted(op["name"], ops_filter or []):
                    continue
                project_files = (
                    op["project"]
                    if isinstance(op["project"], list)
                    else [op["project"]] * args.rounds
                )
                floors = {k: op["floors"][k] for k in floor_kinds if k in op["floors"]}
                if "chain" not in op:
                    check(url, project_files[0])
                for kind, path in floors.items():
                    check(urls[kind], path)
                log(f"{name}: {op['name']}")
                # Warm-up (connections, caches, plans), then the measured runs: the project
                # and its floors alternate, so a change in machine speed falls on all.
                warm = dict(wrk_opts, duration=2)
                if "chain" not in op:
                    wrk(url, project_files[0], **warm)
                for kind, path in floors.items():
                    wrk(urls[kind], path, **warm)
                rounds = []
                for r in range(args.rounds):
                    project = wrk(
                        url, project_files[r], chain_prefix=op.get("chain", ""), **wrk_opts
                    )
                    measured = {
                        kind: wrk(urls[kind], path, **wrk_opts) for kind, path in floors.items()
                    }
                    rounds.append((project, measured))
                    log(
                        f"  round {r + 1}: project {project['rps']:.0f} req/s p95 {fmt_ms(project['p95'])} ms "
                        f"errors {project['errors']}; "
                        + "; ".join(
                            f"{kind} floor {f['rps']:.0f} req/s p95 {fmt_ms(f['p95'])} ms"
                            for kind, f in measured.items()
                        )
                    )
                results.append(
                    {
                        "size": state["accounts"],
                        "op": op["name"],
                        "project": combined([p for p, _ in rounds]),
                        "floors": {
                            kind: median_round([(p, f[kind]) for p, f in rounds]) for kind in floors
                        },
                    }
                )
            if wanted(SIGNIN, ops_filter or []):
                op = signin(state)
                check(url, op["project"], mode="post")
                log(f"{name}: {op['name']}")
                wrk(url, op["project"], mode="post", **dict(wrk_opts, duration=2))
                runs = []
                for r in range(args.rounds):
                    runs.append(wrk(url, op["project"], mode="post", **wrk_opts))
                    log(
                        f"  round {r + 1}: {runs[-1]['rps']:.1f} sign-ins/s "
                        f"p95 {fmt_ms(runs[-1]['p95'])} ms errors {runs[-1]['errors']}"
                    )
                signins.append({"size": state["accounts"], "op": op["name"], **combined(runs)})
        finally:
            project_server.stop()
            bare_server.stop()

    t0 = time.monotonic()
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
    if signins:
        notes["hasher"] = hasher_cost()
    report = render(
        results,
        signins,
        notes,
        command=command,
        machine=machine(),
        args=args,
        seeded=seeded,
        floor_kinds=floor_kinds,
    )
    print(report)
    write_report(Path(args.output), report)
    (WORK / "results.json").write_text(
        json.dumps({"operations": results, "signin": signins, "notes": notes}, indent=1)
    )


def render(
    results, signins, notes, *, command, machine, args, seeded, floor_kinds=("bare", "settings")
) -> str:
    short = {"bare": "Bare floor", "settings": "Old floor"}
    head = "| Operation | Accounts | Project req/s | p50 ms | p95 ms | p99 ms | errors |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    for kind in floor_kinds:
        head += (
            f" {short[kind]} req/s | {short[kind]} p95 | Project / {short[kind].lower()} | Range |"
        )
        rule += "---:|---:|---:|---:|"
    rows = [head, rule]
    for r in results:
        p = r["project"]
        row = (
            f"| {r['op']} | {r['size']:,} | {p['rps']:.0f} | {fmt_ms(p['p50'])} | {fmt_ms(p['p95'])} "
            f"| {fmt_ms(p['p99'])} | {p['errors']} |"
        )
        for kind in floor_kinds:
            f = r["floors"].get(kind)
            if f is None:
                row += " — | — | — | — |"
            else:
                row += (
                    f" {f['floor']['rps']:.0f} | {fmt_ms(f['floor']['p95'])} | **{f['ratio']:.2f}** "
                    f"| {f['ratio_min']:.2f}-{f['ratio_max']:.2f} |"
                )
        rows.append(row)
    lines = [
        f"Machine: {machine}",
        "",
        f"Command: `{command}` (environment: `DATABASE_URL`, `REDIS_URL`, `SECRET_KEY` set; DEBUG off)",
        "",
        f"Servers: two gunicorns with {args.workers} sync workers each on loopback, the same "
        "PostgreSQL: the project (bench.settings: the project's settings and URLs plus the old "
        "floor views) and the bare floor (bench.bare_settings). "
        f"Load: wrk, {args.threads} threads, {args.connections} connections, {args.duration} s per run "
        f"after a 2 s warm-up; the project and its floors alternate {args.rounds} times. Each figure "
        "is the median over the rounds, each ratio the median of the rounds' ratios (errors: all rounds).",
        f"Seeding and session pools took {seeded:.0f} s.",
        "",
        *rows,
        "",
        "Bare floor (bench.bare): Django with no installed apps and no middleware, raw SQL through "
        "Django's connection: GET by UID reads the account row by (tenant, UID) and answers a "
        "profile JSON with the project's keys built from the row; access-token validation reads the "
        "token row by its hash; rotation locks the old refresh token (SELECT ... FOR UPDATE), marks "
        "it rotated, inserts the successor and one event row in one transaction. "
        "Old floor (bench.floor): views inside the project's settings (all its middleware), ORM "
        "queries doing the least database work of the operation.",
    ]
    sizes = notes.get("profile")
    if sizes:
        lines += [
            "",
            f"Profile JSON (first sampled UID): project {sizes['project']['keys']} keys, "
            f"{sizes['project']['bytes']:,} bytes; bare floor {sizes['bare']['keys']} keys, "
            f"{sizes['bare']['bytes']:,} bytes.",
        ]
    if signins:
        n = vcpus()
        hasher = notes.get("hasher", {})
        lines += [
            "",
            f"| Sign-in | Accounts | Sign-ins/s | Per vCPU ({n} vCPUs) | p50 ms | p95 ms | p99 ms | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {r['op']} | {r['size']:,} | {r['rps']:.1f} | **{r['rps'] / n:.1f}** | {fmt_ms(r['p50'])} "
                f"| {fmt_ms(r['p95'])} | {fmt_ms(r['p99'])} | {r['errors']} |"
                for r in signins
            ),
            "",
            "Sign-in: `POST /identity/v2/auth/login` with email and password over "
            f"{args.connections} connections, each a new session (tokens, events) for one of a pool of "
            "accounts spread over the table; the production hasher "
            f"{hasher.get('hasher', '?')} (`{hasher.get('params', '?')}`), one password check "
            f"{hasher.get('ms', 0):.1f} ms of CPU in the benchmark's process. Per vCPU: sign-ins/s "
            "divided by the machine's vCPUs, which also run PostgreSQL, Redis and wrk.",
        ]
    return "\n".join(lines)


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

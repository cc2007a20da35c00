"""CPU per request of one benchmark operation and its floor, in one process: the request
lines `make bench` wrote (var/bench/<operation>.project.txt / .floor.txt) are handed to
Django's WSGI handler directly, so the figures hold the project's own work (middleware,
authentication, queries, rendering) without gunicorn, wrk or the network's share.

    python -m bench.in_process \
        [--operation get_account_by_uid] [--n 3000] [--rounds 3] [--only project|floor|bare]

For counting instructions, which does not drift with the machine's speed, run one side
under callgrind twice, with `--n 500 --rounds 1` and with `--n 0`, and divide the
difference by 500: `valgrind --tool=callgrind python -m bench.in_process --only project ...`
"""

import argparse
import io
import os
import sys
import time

from bench.run import ROOT

REQUESTS = ROOT / "var" / "bench"


def _header(text: str) -> dict[str, str]:
    name, _, value = text.partition(":")
    return {"HTTP_" + name.strip().upper().replace("-", "_"): value.strip()}


def request_environs(path: str) -> list[dict]:
    """One WSGI environ per request line, as bench/wrk/requests.lua reads the file: '#H
    Name: value' lines go with every request, 'PATH<TAB>Name: value' with that one."""
    headers, lines = {}, []
    for line in (REQUESTS / path).read_text().splitlines():
        if line.startswith("#H "):
            headers.update(_header(line[3:]))
        elif line:
            lines.append(line)
    environs = []
    for line in lines:
        target, _, own_header = line.partition("\t")
        route, _, query = target.partition("?")
        environs.append(
            {
                "REQUEST_METHOD": "GET",
                "PATH_INFO": route,
                "QUERY_STRING": query,
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "8000",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": "127.0.0.1",
                "wsgi.url_scheme": "http",
                "wsgi.errors": sys.stderr,
                **headers,
                **(_header(own_header) if own_header else {}),
            }
        )
    return environs


def drive(app, environs: list[dict], n: int) -> tuple[float, str]:
    """CPU microseconds per request over `n` requests, and the last status."""
    status = ""

    def start_response(value, headers, exc_info=None):
        nonlocal status
        status = value

    started = time.process_time()
    for i in range(n):
        environ = dict(environs[i % len(environs)], **{"wsgi.input": io.BytesIO(b"")})
        b"".join(app(environ, start_response))
    return (time.process_time() - started) / max(n, 1) * 1e6, status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--operation", default="get_account_by_uid")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm-up", type=int, default=200)
    parser.add_argument("--only", choices=("project", "floor", "bare"))
    args = parser.parse_args()
    # The bare floor runs under its own settings (no apps, no middleware), alone.
    settings_module = "bench.bare_settings" if args.only == "bare" else "bench.settings"
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    sides = [args.only] if args.only else ["project", "floor"]
    environs = {side: request_environs(f"{args.operation}.{side}.txt") for side in sides}
    for side in sides:
        drive(app, environs[side], args.warm_up)
    if not args.n:
        return
    for round_number in range(1, args.rounds + 1):
        figures = []
        for side in sides:
            cpu, status = drive(app, environs[side], args.n)
            if not status.startswith("200"):
                sys.exit(f"{side}: {status}")
            figures.append(f"{side} {cpu:.0f} us")
        print(f"round {round_number}: " + ", ".join(figures) + " of CPU per request", flush=True)


if __name__ == "__main__":
    main()

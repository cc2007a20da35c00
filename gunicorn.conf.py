"""gunicorn's settings file, read from the working directory (`gunicorn portal.wsgi ...`, or
explicitly `-c gunicorn.conf.py`). Command-line options (bind, workers) still apply.

Metrics (portal/metrics.py): with METRICS_PORT set, the workers record into
prometheus-client's multiprocess files and this master process serves the sum of all of
them on METRICS_BIND_ADDRESS:METRICS_PORT, a port the load balancer does not route. The
master handles no requests, so a scrape is answered while every worker is busy, and it
never imports Django: code reloads (HUP) still load the application afresh in new workers.
"""

import os
import tempfile

METRICS_PORT = int(os.environ.get("METRICS_PORT") or 0)
METRICS_BIND_ADDRESS = os.environ.get("METRICS_BIND_ADDRESS") or "127.0.0.1"

if METRICS_PORT and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Set before any worker imports prometheus-client (they inherit the environment), which
    # reads it once at import. A directory of this master's own when none was given.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="portal-metrics-")


def on_starting(server):
    if not METRICS_PORT:
        return
    # Figures of an earlier run would be summed into this run's.
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.unlink(os.path.join(directory, name))


def when_ready(server):
    if not METRICS_PORT:
        return
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    try:
        start_http_server(METRICS_PORT, addr=METRICS_BIND_ADDRESS, registry=registry)
    except OSError as exc:  # serving requests matters more than serving figures
        server.log.error("metrics not served on %s:%s: %s", METRICS_BIND_ADDRESS, METRICS_PORT, exc)
    else:
        server.log.info("metrics served on %s:%s", METRICS_BIND_ADDRESS, METRICS_PORT)


def child_exit(server, worker):
    # A worker ended (restart, crash, scale-down): its live gauges stop counting; its counters
    # and histograms keep their totals.
    if METRICS_PORT:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

"""What reached the Redis server while an action ran, seen on the wire with MONITOR.

MONITOR sees every database of the server, so parallel test processes (each on its own
database, tests/parallel.py) do not disturb a count that keeps to this process's database;
INFO's command statistics, server-wide, would count their commands too."""

import threading

import redis
from django.conf import settings

STOP = "redis-monitor-stop"


def monitored(action) -> list[dict]:
    """The MONITOR entries of the commands sent to this test's Redis database while
    `action` ran: each with `command` and `client_type` ("lua" for those a script ran)."""
    assert settings.REDIS_URL, "this test needs REDIS_URL (the services pass sets it)"
    # Two clients: MONITOR takes a connection of its own, and the markers' connection
    # selects its database now, before anything is watched.
    watching = redis.Redis.from_url(settings.REDIS_URL)
    server = redis.Redis.from_url(settings.REDIS_URL)
    server.ping()
    database = server.connection_pool.connection_kwargs.get("db", 0)
    seen: list[dict] = []
    ready = threading.Event()

    def watch() -> None:
        with watching.monitor() as monitor:
            ready.set()
            for entry in monitor.listen():
                if STOP in entry["command"]:
                    return
                if entry.get("db") == database:
                    seen.append(entry)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert ready.wait(5)
    server.ping()  # MONITOR is in place once a later command reaches the server
    action()
    server.echo(STOP)
    watcher.join(10)
    assert not watcher.is_alive()
    return [entry for entry in seen if entry["command"].split()[0].lower() != "ping"]

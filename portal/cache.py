"""The Redis cache backend: Django's, plus one redis-py client of the same server that runs
the script every API request runs (authentication and rate limits, `portal.ratelimit`).

Django's cache client builds a `redis.Redis` for every operation and checks a connection
out of its pool for every command. The runner is built once per process and server, from
the cache's LOCATION and OPTIONS; each thread runs its scripts through a client of its own
that keeps one connection (redis-py's `single_connection_client`), which halves the cost of
the call. Scripts go through redis-py's `register_script`: EVALSHA, loading the script when
the server lacks it.
"""

import os
import threading

import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisSerializer

from portal import metrics

# Cache OPTIONS that configure Django's client, not a redis-py connection.
_DJANGO_ONLY_OPTIONS = frozenset({"pool_class", "parser_class", "serializer"})

_clients: dict[tuple, "ScriptRunner"] = {}
_clients_lock = threading.Lock()


class ScriptRunner:
    """Lua scripts run on one Redis server, each registered once; values the Django cache
    stored are read back with its serializer (`loads`). `client` is the pooled client of
    the server, for anything but the per-request script."""

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self.client = redis.Redis(connection_pool=pool)
        self.serializer = RedisSerializer()
        self.scripts: dict[str, redis.commands.core.Script] = {}
        self.forget_thread_clients()

    def forget_thread_clients(self) -> None:
        # A forked child must not share its parent's connections.
        self.thread_clients = threading.local()

    def thread_client(self) -> redis.Redis:
        """This thread's client: one connection of the pool, kept (returned to the pool
        when the thread, and so the client, is gone)."""
        client = getattr(self.thread_clients, "client", None)
        if client is None:
            client = self.thread_clients.client = redis.Redis(
                connection_pool=self.client.connection_pool, single_connection_client=True
            )
        return client

    def run(self, source: str, *, keys: list[str], args: list) -> object:
        script = self.scripts.get(source)
        if script is None:
            script = self.scripts.setdefault(source, self.client.register_script(source))
        with metrics.CacheCallTimer():  # the request's cache time, with metrics on
            return script(keys=keys, args=args, client=self.thread_client())

    def loads(self, value: bytes) -> object:
        return self.serializer.loads(value)


def script_runner(location: str, options: dict) -> ScriptRunner:
    """The process's runner for the Redis server at `location` (a redis:// URL)."""
    connection_options = {k: v for k, v in options.items() if k not in _DJANGO_ONLY_OPTIONS}
    key = (location, repr(sorted(connection_options.items())))
    runner = _clients.get(key)
    if runner is None:
        with _clients_lock:
            runner = _clients.get(key)
            if runner is None:
                pool = redis.ConnectionPool.from_url(location, **connection_options)
                runner = _clients[key] = ScriptRunner(pool)
    return runner


def _forget_thread_clients() -> None:
    for runner in list(_clients.values()):
        runner.forget_thread_clients()


os.register_at_fork(after_in_child=_forget_thread_clients)


class PortalRedisCache(metrics.CacheTimingMixin, RedisCache):
    """Django's Redis cache; `scripts` runs Lua scripts on its (first, write) server. With
    metrics on, each call's time counts as the request's cache time."""

    def __init__(self, server, params):
        super().__init__(server, params)
        servers = server.split(",") if isinstance(server, str) else list(server)
        self.scripts = script_runner(servers[0].strip(), dict(params.get("OPTIONS") or {}))


class PortalLocMemCache(metrics.CacheTimingMixin, LocMemCache):
    """The embedded default's in-process cache, its calls timed like the Redis cache's."""

"""The Redis cache backend, with one Redis client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every operation, and each
construction copies the client's response-callback table: on a request that makes two or
three cache calls that is a measurable share of the request. A `redis.Redis` holds no
connection of its own (it checks one out of its pool per command), so one per pool can
serve every call.

`run_script` is for the one script every API request runs (`portal.ratelimit`): it keeps
a connection of its own per thread instead of taking one from the pool per call, which
costs the pool's lock, bookkeeping and a poll of the socket each time. The connection is
outside the pool, so it closes when its thread ends.
"""

import os
import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import NoScriptError

_pinned = threading.local()


def _forget_pinned() -> None:
    # A forked child must not share the parent's socket.
    _pinned.__dict__.clear()


os.register_at_fork(after_in_child=_forget_pinned)


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Pools live as long as this object, so their ids stay unique.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def run_script(self, script, *, keys: list[str], args: list) -> object:
        """EVALSHA of `script` (a redis-py Script of this cache's client) on this thread's
        connection to the write server, loading the script if the server lacks it. Any
        failure drops the connection (a reply may be left unread) and is raised."""
        pool = self._get_connection_pool(True)
        pinned = getattr(_pinned, "connection", None)
        if pinned is None or pinned[0] is not pool:
            # Made as the pool makes its own (it connects on first use), but not tracked
            # by the pool, which would hold it after its thread is gone.
            pinned = _pinned.connection = (pool, pool.connection_class(**pool.connection_kwargs))
        connection = pinned[1]
        try:
            try:
                connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
                return connection.read_response()
            except NoScriptError:  # a restarted or flushed server: the reply was read
                connection.send_command("SCRIPT", "LOAD", script.script)
                connection.read_response()
                connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
                return connection.read_response()
        except BaseException:
            _pinned.__dict__.pop("connection", None)
            connection.disconnect()
            raise


class PortalRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

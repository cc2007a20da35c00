"""The Redis cache backend reuses one client per connection pool and behaves as Django's."""

import pytest
import redis
from django.conf import settings
from django.core.cache import caches


@pytest.mark.postgres
def test_one_client_serves_every_call_and_the_cache_works():
    assert settings.CACHES["default"]["BACKEND"] == "portal.cache.PortalRedisCache", (
        "the services pass needs Redis"
    )
    cache = caches["default"]
    backend = cache._cache
    assert backend.get_client("a", write=True) is backend.get_client("b", write=True)
    cache.set("cache-backend-test", {"n": 1}, 30)
    assert cache.get_many(["cache-backend-test", "missing"]) == {"cache-backend-test": {"n": 1}}
    cache.delete("cache-backend-counter")
    assert cache.add("cache-backend-counter", 0, 30)
    assert cache.incr("cache-backend-counter") == 1
    cache.delete_many(["cache-backend-test", "cache-backend-counter"])
    assert cache.get("cache-backend-test") is None


def _script(source: str):
    backend = caches["default"]._cache
    return backend, backend.get_client(write=True).register_script(source)


@pytest.mark.postgres
def test_scripts_run_on_a_pinned_connection_that_survives_a_flush_and_a_kill():
    backend, script = _script("return {KEYS[1], ARGV[1]}")
    assert backend.run_script(script, keys=["k"], args=["v"]) == [b"k", b"v"]
    client = backend.get_client(write=True)
    before = {c["id"] for c in client.client_list()}
    assert backend.run_script(script, keys=["k2"], args=[2]) == [b"k2", b"2"]
    assert {c["id"] for c in client.client_list()} == before  # the same connection again

    client.script_flush()  # as after a server restart: the script is loaded again
    assert backend.run_script(script, keys=["k3"], args=["x"]) == [b"k3", b"x"]

    from portal.cache import _pinned

    pinned = _pinned.connection[1]
    pinned.send_command("CLIENT", "ID")
    client.client_kill_filter(_id=pinned.read_response())
    with pytest.raises(redis.exceptions.ConnectionError):
        backend.run_script(script, keys=["k4"], args=["y"])
    assert backend.run_script(script, keys=["k5"], args=["z"]) == [b"k5", b"z"]  # a new connection


@pytest.mark.postgres
def test_a_failed_script_leaves_no_reply_behind_for_the_next_call():
    backend, script = _script("return redis.call('GET', KEYS[1])")
    failing = (
        caches["default"]
        ._cache.get_client(write=True)
        .register_script("return redis.error_reply('boom')")
    )
    with pytest.raises(redis.exceptions.ResponseError, match="boom"):
        backend.run_script(failing, keys=["a"], args=[])
    caches["default"].set("pinned-after-error", 1, 30)
    assert (
        backend.run_script(script, keys=[caches["default"].make_key("pinned-after-error")], args=[])
        is not None
    )


@pytest.mark.postgres
def test_a_threads_script_connection_closes_with_the_thread():
    import gc
    import threading

    backend, script = _script("return 1")
    client = backend.get_client(write=True)
    name = "script-thread-probe"

    def work():
        assert backend.run_script(script, keys=[], args=[]) == 1
        from portal.cache import _pinned

        connection = _pinned.connection[1]
        connection.send_command("CLIENT", "SETNAME", name)
        connection.read_response()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    gc.collect()
    assert name not in {c.get("name") for c in client.client_list()}

"""The Redis cache backend behaves as Django's, and its script runner (one redis-py client
per process and server) runs scripts through redis-py's registered scripts."""

import threading

import pytest
import redis
from django.conf import settings
from django.core.cache import caches

from portal.cache import script_runner


def _redis_cache():
    assert settings.CACHES["default"]["BACKEND"] == "portal.cache.PortalRedisCache", (
        "the services pass needs Redis"
    )
    return caches["default"]


@pytest.mark.postgres
def test_the_cache_works_as_djangos():
    cache = _redis_cache()
    cache.set("cache-backend-test", {"n": 1}, 30)
    assert cache.get_many(["cache-backend-test", "missing"]) == {"cache-backend-test": {"n": 1}}
    cache.delete("cache-backend-counter")
    assert cache.add("cache-backend-counter", 0, 30)
    assert cache.incr("cache-backend-counter") == 1
    cache.delete_many(["cache-backend-test", "cache-backend-counter"])
    assert cache.get("cache-backend-test") is None


@pytest.mark.postgres
def test_every_thread_shares_the_processs_script_runner():
    cache = _redis_cache()
    seen = []
    thread = threading.Thread(target=lambda: seen.append(caches["default"].scripts))
    thread.start()
    thread.join()
    assert seen == [cache.scripts]
    location = settings.CACHES["default"]["LOCATION"]
    assert script_runner(location, {}) is cache.scripts


@pytest.mark.postgres
def test_a_script_runs_again_after_the_server_forgot_it():
    scripts = _redis_cache().scripts
    source = "return {KEYS[1], ARGV[1]}"
    assert scripts.run(source, keys=["k"], args=["v"]) == [b"k", b"v"]
    scripts.client.script_flush()  # as after a server restart: the script is loaded again
    assert scripts.run(source, keys=["k2"], args=[2]) == [b"k2", b"2"]


@pytest.mark.postgres
def test_a_failed_script_leaves_the_client_usable():
    cache = _redis_cache()
    scripts = cache.scripts
    with pytest.raises(redis.exceptions.ResponseError, match="boom"):
        scripts.run("return redis.error_reply('boom')", keys=[], args=[])
    cache.set("after-error", {"kept": True}, 30)
    value = scripts.run(
        "return redis.call('GET', KEYS[1])", keys=[cache.make_key("after-error")], args=[]
    )
    assert scripts.loads(value) == {"kept": True}  # what the cache stored, read back


@pytest.mark.postgres
def test_a_thread_keeps_its_connection_and_gets_a_new_one_when_it_is_killed():
    scripts = _redis_cache().scripts
    assert scripts.run("return 1", keys=[], args=[]) == 1
    own = scripts.thread_client().client_id()
    assert scripts.run("return 1", keys=[], args=[]) == 1
    assert scripts.thread_client().client_id() == own  # the same connection again
    scripts.client.client_kill_filter(_id=own)
    with pytest.raises(redis.exceptions.ConnectionError):  # the callers fall back
        scripts.run("return 2", keys=[], args=[])
    assert scripts.run("return 2", keys=[], args=[]) == 2
    assert scripts.thread_client().client_id() != own

"""The Redis cache backend reuses one client per connection pool and behaves as Django's."""

import pytest
from django.conf import settings
from django.core.cache import caches


@pytest.mark.postgres
def test_one_client_serves_every_call_and_the_cache_works():
    assert settings.CACHES["default"]["BACKEND"] == "portal.cache.PortalRedisCache", "the services pass needs Redis"
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

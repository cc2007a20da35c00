"""Where console sessions are kept: read from Redis when it is the cache, written through
to the database; the database alone when the cache is each process's own (the services
pass checks the stores themselves: tests/console/test_signin_session_store.py)."""

CACHED_DB = "django.contrib.sessions.backends.cached_db"
DB = "django.contrib.sessions.backends.db"


def test_the_embedded_default_keeps_sessions_in_the_database_alone(load_settings):
    # An in-process cache is one per worker: a sign-out in one would not reach the others.
    embedded = load_settings(DEBUG="1")
    assert embedded.CACHES["default"]["BACKEND"] == "portal.cache.PortalLocMemCache"
    assert embedded.SESSION_ENGINE == DB


def test_with_redis_sessions_are_read_from_it_and_written_through(load_settings):
    served = load_settings(DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/0")
    assert served.SESSION_ENGINE == CACHED_DB

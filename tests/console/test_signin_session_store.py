"""A console session with Redis as the cache: read from Redis, written through to the
database, and ended in both at sign-out."""

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import reverse

CACHED_DB = "django.contrib.sessions.backends.cached_db"


@pytest.mark.celery_worker  # runs where REDIS_URL is set
@pytest.mark.django_db
def test_a_console_session_is_in_both_stores_and_sign_out_ends_it_in_both(
    make_staff, console_client, tenant
):
    assert settings.SESSION_ENGINE == CACHED_DB
    client = console_client(make_staff("Agent", tenant))
    assert client.get(reverse("console:dashboard")).status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    cached = import_module(settings.SESSION_ENGINE).SessionStore(key).cache_key
    assert cache.get(cached)
    assert Session.objects.filter(session_key=key).exists()

    client.post(reverse("console:logout"))
    assert cache.get(cached) is None
    assert not Session.objects.filter(session_key=key).exists()
    # The old cookie signs nobody in, whichever store is asked.
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    assert client.get(reverse("console:dashboard")).status_code == 302

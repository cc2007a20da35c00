"""Access-token validation reads the tenant, counts the key-only rate limits and reads the
token's cache entry in one Redis round trip (a Lua script), seen on the wire with MONITOR."""

from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from portal.audit import Actor
from portal.models import Tenant
from tests.redis_monitor import monitored
from tokens.commands import SessionIssue
from tokens.selectors import access_token_cache_entry
from tokens.services import sessions

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def commands_during(action) -> list[list[str]]:
    """The commands clients sent to the cache's Redis database while `action` ran (not the
    ones a Lua script ran on the server)."""
    return [e["command"].split() for e in monitored(action) if e.get("client_type") != "lua"]


def test_validation_makes_one_cache_round_trip(tenant, account):
    issued = sessions.session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
    )
    client = APIClient()
    url = f"/identity/v2/auth/access_token/validate?{urlencode({'apikey': tenant.api_key})}"

    def validate():
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {issued.access_token}")
        assert response.status_code == 200, response.content
        assert response.json()["access_token"] == issued.access_token

    validate()  # the tenant, its rate-limit window and the token are cached now
    commands = commands_during(validate)
    token_entry = cache.make_key(access_token_cache_entry(token=issued.access_token))
    tenant_entry = cache.make_key(Tenant.cache_key_for(tenant.api_key))
    touching = [c for c in commands if any(token_entry in part for part in c)]
    assert len(touching) == 1, commands
    assert any(tenant_entry in part for part in touching[0])
    assert touching[0][0].strip('"').upper() in ("EVALSHA", "EVAL")

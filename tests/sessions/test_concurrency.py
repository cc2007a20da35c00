"""Races that only a real database and a shared cache can show (services pass)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from portal.audit import Actor
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory
from tokens.commands import AccessTokenInvalidate, AccountSessionsRevoke
from tokens.errors import AccessTokenInvalid, RefreshTokenInvalid
from tokens.models import RefreshToken, TokenFamily
from tokens.services import sessions

SYSTEM = Actor.system("test")
THREADS = 6


def refresh_concurrently(tenant, token: str) -> list:
    return run_concurrently(
        lambda: sessions.session_refresh(tenant=tenant, refresh_token=token, actor=SYSTEM), THREADS
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_within_grace_all_get_the_same_single_child(tenant, issue):
    tenant.settings = {"refresh_reuse_grace_seconds": 60}
    tenant.save()
    account = AccountFactory(tenant=tenant)
    issued = issue(account)

    results = refresh_concurrently(tenant, issued.refresh_token)

    assert len(results) == THREADS
    assert all(isinstance(r, sessions.IssuedSession) for r in results), results
    assert len({r.refresh_token for r in results}) == 1
    live = RefreshToken.objects.filter(
        account=account, rotated_at__isnull=True, revoked_at__isnull=True
    )
    assert live.count() == 1
    assert RefreshToken.objects.filter(account=account).count() == 2
    assert TokenFamily.objects.get(account=account).revoked_at is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_without_grace_never_leave_two_live_branches(tenant, issue):
    tenant.settings = {"refresh_reuse_grace_seconds": 0}
    tenant.save()
    account = AccountFactory(tenant=tenant)
    issued = issue(account)

    results = refresh_concurrently(tenant, issued.refresh_token)

    winners = [r for r in results if isinstance(r, sessions.IssuedSession)]
    assert len(results) == THREADS and len(winners) == 1
    assert sorted(set(results) - set(winners)) == [RefreshTokenInvalid.code]
    # The losers were reuse: the family died, so not even the winner's branch lives.
    assert not RefreshToken.objects.filter(
        account=account, rotated_at__isnull=True, revoked_at__isnull=True
    ).exists()
    assert TokenFamily.objects.get(account=account).revoked_reason == "reuse"


CHECKER = """
import os, sys, django
django.setup()
from portal.errors import DomainError
from portal.models import Tenant
from tokens.selectors import access_token_resolve
tenant = Tenant(pk=int(sys.argv[1]))
for line in sys.stdin:
    try:
        access_token_resolve(tenant=tenant, token=line.strip())
        print("valid", flush=True)
    except DomainError as exc:
        print(exc.code, flush=True)
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_revocation_is_seen_at_once_by_another_process_through_redis(tenant, issue):
    backend = settings.CACHES["default"]["BACKEND"]
    if backend != "portal.cache.PortalRedisCache":
        pytest.fail(f"the services pass must run with REDIS_URL set (cache backend is {backend})")
    account = AccountFactory(tenant=tenant)
    issued = issue(account)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        # No database at all: a valid answer can only come from the shared cache.
        "DATABASE_URL": "sqlite://:memory:",
    }
    root = Path(settings.BASE_DIR)
    checker = subprocess.Popen(
        [sys.executable, "-c", CHECKER, str(tenant.pk)],
        cwd=root,
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:

        def ask(token: str) -> str:
            checker.stdin.write(token + "\n")
            checker.stdin.flush()
            return checker.stdout.readline().strip()

        # The other process answers from Redis: it has no database.
        assert ask(issued.access_token) == "valid"
        sessions.access_token_invalidate(
            AccessTokenInvalidate(access_token=issued.access_token), tenant=tenant, actor=SYSTEM
        )
        assert ask(issued.access_token) == AccessTokenInvalid.code
        other = issue(account)
        assert ask(other.access_token) == "valid"
        sessions.account_sessions_revoke(
            AccountSessionsRevoke(), tenant=tenant, account=account, actor=SYSTEM
        )
        assert ask(other.access_token) == AccessTokenInvalid.code
    finally:
        checker.stdin.close()
        checker.wait(timeout=30)
    assert checker.returncode == 0

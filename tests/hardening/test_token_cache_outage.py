"""Access tokens while the cache is unreachable: the database answers, revocations commit,
and a cached entry that missed its revocation's tombstone lives at most
ACCESS_TOKEN_CACHE_SECONDS."""

import pytest
from django.core.cache import cache
from freezegun import freeze_time

from portal.audit import Actor
from portal.crypto import token_hash
from portal.errors import DomainError
from tests.factories import AccountFactory
from tokens import selectors
from tokens.commands import AccessTokenInvalidate, SessionIssue
from tokens.models import AccessToken
from tokens.services import sessions

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


class UnreachableCache:
    """Every call fails the way a stopped Redis does."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache unreachable")

        return fail


def resolve_code(tenant, token) -> str | None:
    """The code of the domain error resolving `token` raises; None when it resolves."""
    try:
        selectors.access_token_resolve(tenant=tenant, token=token)
    except DomainError as exc:
        return exc.code
    return None


def test_without_the_cache_tokens_are_issued_resolved_and_revoked_from_the_database(
    tenant, monkeypatch, django_assert_num_queries
):
    account = AccountFactory(tenant=tenant)
    monkeypatch.setattr(selectors, "cache", UnreachableCache())
    issued = sessions.session_issue(SessionIssue(), tenant=tenant, account=account, actor=SYSTEM)
    with django_assert_num_queries(1):
        resolved = selectors.access_token_resolve(tenant=tenant, token=issued.access_token)
    assert resolved.uid == account.uid
    sessions.access_token_invalidate(
        AccessTokenInvalidate(access_token=issued.access_token), tenant=tenant, actor=SYSTEM
    )
    assert (
        AccessToken.objects.get(token_hash=token_hash(issued.access_token)).revoked_at is not None
    )
    assert resolve_code(tenant, issued.access_token) == "access_token.invalid"


def test_a_revocation_whose_tombstone_was_lost_takes_effect_within_the_bound(
    tenant, settings, monkeypatch, in_process_cache
):
    settings.ACCESS_TOKEN_CACHE_SECONDS = 1
    account = AccountFactory(tenant=tenant)
    with freeze_time() as clock:
        issued = sessions.session_issue(
            SessionIssue(), tenant=tenant, account=account, actor=SYSTEM
        )
        kept = sessions.session_issue(SessionIssue(), tenant=tenant, account=account, actor=SYSTEM)
        assert cache.get(selectors.access_cache_key(token_hash(issued.access_token))) is not None

        # The tombstone cannot be written (outage at revocation time); the revocation commits.
        def unreachable(*args, **kwargs):
            raise ConnectionError("cache unreachable")

        monkeypatch.setattr(selectors.cache, "set_many", unreachable)
        sessions.access_token_invalidate(
            AccessTokenInvalidate(access_token=issued.access_token), tenant=tenant, actor=SYSTEM
        )
        monkeypatch.undo()
        assert (
            AccessToken.objects.get(token_hash=token_hash(issued.access_token)).revoked_at
            is not None
        )
        # Until the entry reaches its bound the cache still answers for it...
        assert resolve_code(tenant, issued.access_token) is None

        # ...and after it the database is read again.
        clock.tick(1.2)
        assert resolve_code(tenant, issued.access_token) == "access_token.invalid"
        assert resolve_code(tenant, kept.access_token) is None


def test_cache_entries_are_bounded_by_the_recheck_interval(tenant, settings, in_process_cache):
    settings.ACCESS_TOKEN_CACHE_SECONDS = 1
    account = AccountFactory(tenant=tenant)
    with freeze_time() as clock:
        issued = sessions.session_issue(
            SessionIssue(), tenant=tenant, account=account, actor=SYSTEM
        )
        key = selectors.access_cache_key(token_hash(issued.access_token))
        assert cache.get(key) is not None
        clock.tick(1.2)
        assert cache.get(key) is None
        assert resolve_code(tenant, issued.access_token) is None
        assert cache.get(key) is not None  # refilled from the database

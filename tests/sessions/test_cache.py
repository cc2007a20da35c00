"""The validation hot path: answered from the cache, and revocation effective at once."""

from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from portal.audit import Actor
from portal.crypto import token_hash
from tokens import selectors
from tokens.commands import AccessTokenInvalidate, AccountSessionsRevoke, RefreshTokenRevoke
from tokens.errors import AccessTokenInvalid, AccessTokenMissing, RefreshTokenInvalid
from tokens.models import AccessToken
from tokens.services import sessions

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def key_of(token: str) -> str:
    return selectors.access_cache_key(token_hash(token))


def test_issue_caches_the_access_token_and_resolve_needs_no_query(
    account, issue, django_assert_num_queries
):
    issued = issue(account)
    assert cache.get(key_of(issued.access_token))[:3] == (
        account.tenant_id,
        account.pk,
        account.uid,
    )
    with django_assert_num_queries(0):
        resolved = selectors.access_token_resolve(tenant=account.tenant, token=issued.access_token)
        assert resolved.uid == account.uid and resolved.expires_at == issued.access_expires_at
    # The account itself is loaded only when asked for.
    with django_assert_num_queries(1):
        assert resolved.account.pk == account.pk


def test_a_cache_miss_reads_once_and_refills(account, issue, django_assert_num_queries):
    issued = issue(account)
    cache.clear()
    with django_assert_num_queries(1):
        selectors.access_token_resolve(tenant=account.tenant, token=issued.access_token)
    with django_assert_num_queries(0):
        selectors.access_token_resolve(tenant=account.tenant, token=issued.access_token)


def test_malformed_and_missing_tokens_never_reach_the_database(tenant, django_assert_num_queries):
    with django_assert_num_queries(0):
        for token, error in (
            (None, AccessTokenMissing),
            ("", AccessTokenMissing),
            ("not-a-guid", AccessTokenInvalid),
            ("x" * 5000, AccessTokenInvalid),
        ):
            with pytest.raises(error):
                selectors.access_token_resolve(tenant=tenant, token=token)


def test_revocation_tombstones_the_cache_entry(account, issue, django_assert_num_queries):
    issued = issue(account)
    sessions.session_revoke(
        RefreshTokenRevoke(refresh_token=issued.refresh_token), tenant=account.tenant, actor=SYSTEM
    )
    assert cache.get(key_of(issued.access_token)) == selectors.REVOKED
    with django_assert_num_queries(0), pytest.raises(AccessTokenInvalid):
        selectors.access_token_resolve(tenant=account.tenant, token=issued.access_token)


@pytest.mark.parametrize("how", ["invalidate", "revoke_all", "reuse"])
def test_every_revocation_path_tombstones(account, issue, how):
    issued = issue(account)
    if how == "invalidate":
        sessions.access_token_invalidate(
            AccessTokenInvalidate(access_token=issued.access_token),
            tenant=account.tenant,
            actor=SYSTEM,
        )
    elif how == "revoke_all":
        sessions.account_sessions_revoke(
            AccountSessionsRevoke(), tenant=account.tenant, account=account, actor=SYSTEM
        )
    else:
        account.tenant.settings = {"refresh_reuse_grace_seconds": 0}
        account.tenant.save()
        sessions.session_refresh(
            tenant=account.tenant, refresh_token=issued.refresh_token, actor=SYSTEM
        )
        with pytest.raises(RefreshTokenInvalid):
            sessions.session_refresh(
                tenant=account.tenant, refresh_token=issued.refresh_token, actor=SYSTEM
            )
    assert cache.get(key_of(issued.access_token)) == selectors.REVOKED


def test_a_reader_racing_a_revocation_cannot_resurrect_the_token(account, issue):
    issued = issue(account)
    cache.clear()
    # A reader loaded the row before the revocation committed...
    row = AccessToken.objects.get(token_hash=token_hash(issued.access_token))
    sessions.access_token_invalidate(
        AccessTokenInvalidate(access_token=issued.access_token), tenant=account.tenant, actor=SYSTEM
    )
    # ...and fills the cache afterwards: the tombstone wins.
    selectors.access_token_cache(
        token_hash_value=row.token_hash,
        tenant_id=row.tenant_id,
        account_id=row.account_id,
        uid=account.uid,
        expires_at=row.expires_at,
        add_only=True,
    )
    with pytest.raises(AccessTokenInvalid):
        selectors.access_token_resolve(tenant=account.tenant, token=issued.access_token)


def test_token_side_validate_answers_from_the_cache_without_the_database(
    tenant, account, issue, django_assert_num_queries
):
    issued = issue(account)
    client = APIClient()
    url = f"/identity/v2/auth/access_token/validate?{urlencode({'apikey': tenant.api_key})}"
    client.get(url, HTTP_AUTHORIZATION=f"Bearer {issued.access_token}")  # warm-up
    with django_assert_num_queries(0):
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {issued.access_token}")
    assert response.status_code == 200


def test_legacy_validate_costs_only_the_credential_lookup(
    credential, account, issue, django_assert_max_num_queries
):
    issued = issue(account)
    client = APIClient()
    url = "/api/v2/access_token/validate?" + urlencode(
        {
            "key": credential.tenant.api_key,
            "secret": credential.raw,
            "access_token": issued.access_token,
        }
    )
    client.get(url)  # warm-up (last_used_at)
    with django_assert_max_num_queries(2):
        response = client.get(url)
    assert response.status_code == 200


def test_refresh_query_count_is_pinned(lr, account, issue, django_assert_max_num_queries):
    issued = issue(account)
    with django_assert_max_num_queries(12):
        response = lr.get(
            "/identity/v2/manage/account/access_token/refresh",
            {"refresh_token": issued.refresh_token},
        )
    assert response.status_code == 200

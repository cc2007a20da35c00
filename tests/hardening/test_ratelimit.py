"""API rate limits: per tenant, per credential, per client IP, per account for sensitive
operations; 429 with Retry-After and a LoginRadius body; atomic under concurrency; fail open."""

from collections import Counter

import pytest
import requests
from django.core.cache import cache
from freezegun import freeze_time
from rest_framework.test import APIClient

from portal import ratelimit
from portal.errors import RateLimited
from tests.concurrency import run_concurrently
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory, TenantFactory
from tests.hardening.conftest import set_tenant_settings
from tests.portal.conftest import LR_PING
from tests.redis_monitor import monitored
from tests.waiting import wait_until

TENANT_PATH = "/api/v1/tenant"


def assert_429(response):
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["ErrorCode"] == 429
    assert body["Message"] and body["Description"]
    assert body["IsProviderError"] is False
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    return retry_after


def test_credential_limit_answers_429_with_retry_after(tenant, credential, lr):
    set_tenant_settings(tenant, rate_limit_per_credential=3)
    statuses = [lr.get(LR_PING).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert_429(lr.get(LR_PING))
    # Another credential of the same tenant has its own allowance.
    second = LRClient(ApiCredentialFactory(tenant=tenant))
    assert second.get(LR_PING).status_code == 200


def test_tenant_limit_is_shared_by_its_credentials_and_not_by_other_tenants(tenant, lr, lr_other):
    set_tenant_settings(tenant, rate_limit_per_tenant=4)
    second = LRClient(ApiCredentialFactory(tenant=tenant))
    assert [lr.get(LR_PING).status_code for _ in range(2)] == [200, 200]
    assert [second.get(LR_PING).status_code for _ in range(2)] == [200, 200]
    assert_429(second.get(LR_PING))
    assert_429(lr.get(LR_PING))
    assert lr_other.get(LR_PING).status_code == 200


def test_legacy_path_429_uses_lower_camel_body(tenant, credential):
    set_tenant_settings(tenant, rate_limit_per_credential=1)
    client = LRClient(credential)
    client.get("/api/v2/access_token/validate", {"access_token": "x"})
    response = client.get("/api/v2/access_token/validate", {"access_token": "x"})
    assert response.status_code == 429
    assert response.json()["errorCode"] == 429
    assert int(response["Retry-After"]) >= 1


def test_ip_limit_ignores_forwarded_for_from_untrusted_peers(tenant, lr, settings):
    settings.TRUSTED_PROXIES = []
    set_tenant_settings(tenant, rate_limit_per_ip=2, rate_limit_per_credential=0)
    for n in range(2):
        assert lr.get(LR_PING, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code == 200
    # A spoofed X-Forwarded-For does not make a fresh client.
    assert_429(lr.get(LR_PING, HTTP_X_FORWARDED_FOR="198.51.100.77"))


def test_ip_limit_believes_forwarded_for_from_a_trusted_proxy(tenant, lr, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    set_tenant_settings(tenant, rate_limit_per_ip=2, rate_limit_per_credential=0)
    for _ in range(2):
        assert lr.get(LR_PING, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 200
    assert_429(lr.get(LR_PING, HTTP_X_FORWARDED_FOR="203.0.113.5"))
    assert lr.get(LR_PING, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200


def test_failed_authentication_is_limited_per_ip_across_tenants(
    tenant, credential, other_tenant, settings
):
    settings.RATE_LIMIT_AUTH_FAILURES_PER_IP = 3
    wrong = LRClient(credential)
    codes = []
    for key in (tenant.api_key, other_tenant.api_key, tenant.api_key):
        response = wrong.client.get(
            f"{LR_PING}?apikey={key}",
            HTTP_X_LOGINRADIUS_APISECRET="00000000-0000-0000-0000-000000000000",
        )
        codes.append(response.json()["ErrorCode"])
    assert codes == [902, 902, 902]
    response = wrong.client.get(
        f"{LR_PING}?apikey={tenant.api_key}",
        HTTP_X_LOGINRADIUS_APISECRET="00000000-0000-0000-0000-000000000000",
    )
    assert_429(response)


def test_zero_disables_a_limit(tenant, lr):
    set_tenant_settings(
        tenant, rate_limit_per_credential=0, rate_limit_per_tenant=0, rate_limit_per_ip=0
    )
    assert {lr.get(TENANT_PATH).status_code for _ in range(5)} == {200}


def test_rate_limit_hit_counts_per_key_and_reports_the_remaining_window(tenant):
    for _ in range(3):
        ratelimit.rate_limit_hit(
            tenant=tenant, scope="op:test", key="a", limit=3, window_seconds=120
        )
    with pytest.raises(RateLimited) as caught:
        ratelimit.rate_limit_hit(
            tenant=tenant, scope="op:test", key="a", limit=3, window_seconds=120
        )
    assert 1 <= caught.value.retry_after <= 120
    # Another key, scope or tenant is counted apart.
    ratelimit.rate_limit_hit(tenant=tenant, scope="op:test", key="b", limit=3, window_seconds=120)
    ratelimit.rate_limit_hit(tenant=tenant, scope="op:other", key="a", limit=3, window_seconds=120)
    ratelimit.rate_limit_hit(
        tenant=TenantFactory(), scope="op:test", key="a", limit=3, window_seconds=120
    )


def _admitted(tenant, key: str) -> bool:
    try:
        ratelimit.rate_limit_hit(
            tenant=tenant, scope="op:short", key=key, limit=1, window_seconds=1
        )
    except RateLimited:
        return False
    return True


def test_window_ends_and_the_count_starts_again(tenant, in_process_cache):
    with freeze_time() as clock:
        assert _admitted(tenant, "a")
        assert not _admitted(tenant, "a")
        clock.tick(0.5)
        assert not _admitted(tenant, "a")  # the window runs from the first hit, not the last
        clock.tick(0.6)
        assert _admitted(tenant, "a")


@pytest.mark.postgres
def test_redis_window_ends_and_the_count_starts_again(tenant):
    """In Redis a window is the counter key's expiry, kept on the server's clock."""
    assert getattr(cache, "scripts", None) is not None, "the services pass must use the Redis cache"
    assert _admitted(tenant, "b")
    assert not _admitted(tenant, "b")
    assert wait_until(lambda: _admitted(tenant, "b"), timeout=5)


def test_sensitive_operations_use_tenant_settings_per_account(tenant):
    set_tenant_settings(tenant, rate_limit_signin=2, rate_limit_otp_verify=1)
    ratelimit.sensitive_operation_hit(tenant=tenant, operation="signin", key="Ann@Example.com")
    ratelimit.sensitive_operation_hit(tenant=tenant, operation="signin", key="ann@example.com")
    with pytest.raises(RateLimited) as caught:
        ratelimit.sensitive_operation_hit(tenant=tenant, operation="signin", key=" ANN@example.com")
    assert caught.value.retry_after <= 300
    ratelimit.sensitive_operation_hit(tenant=tenant, operation="signin", key="bob@example.com")
    ratelimit.sensitive_operation_hit(tenant=tenant, operation="otp_verify", key="uid-1")
    with pytest.raises(RateLimited):
        ratelimit.sensitive_operation_hit(tenant=tenant, operation="otp_verify", key="uid-1")
    with pytest.raises(ValueError):
        ratelimit.sensitive_operation_hit(tenant=tenant, operation="nonsense", key="x")


def test_unreachable_cache_fails_open(tenant, lr, monkeypatch, caplog):
    set_tenant_settings(tenant, rate_limit_per_credential=1)

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(ratelimit, "_hit_cache", broken)
    monkeypatch.setattr(ratelimit, "_hit_redis", broken)
    assert [lr.get(TENANT_PATH).status_code for _ in range(3)] == [200, 200, 200]
    assert any("rate limits not enforced" in r.getMessage() for r in caplog.records)


def test_limits_can_be_switched_off(tenant, lr, settings):
    settings.RATE_LIMITS_ENABLED = False
    set_tenant_settings(tenant, rate_limit_per_credential=1)
    assert [lr.get(TENANT_PATH).status_code for _ in range(3)] == [200, 200, 200]


def test_every_limit_of_a_request_counts_it_once(tenant, lr):
    """Tenant, credential and IP windows each count the request once (per-key counts)."""
    set_tenant_settings(
        tenant, rate_limit_per_tenant=3, rate_limit_per_credential=3, rate_limit_per_ip=3
    )
    for expected in (1, 2):
        lr.get(TENANT_PATH)
        counters = ratelimit.request_counters(
            credential_key=lr.credential.secret_hash, ip="127.0.0.1"
        )
        hits = ratelimit.hit_many(tenant=tenant.api_key, counters=counters, window_seconds=60)
        assert [h.count for h in hits] == [expected * 2] * 3


def _redis_calls(action) -> dict[str, int]:
    """Commands run on this test's Redis database while `action` ran, by name, counting
    those a script runs."""
    return dict(Counter(e["command"].split()[0].strip('"').lower() for e in monitored(action)))


@pytest.mark.postgres
def test_a_cached_credential_and_the_three_request_limits_cost_one_redis_round_trip(tenant, lr):
    """With Redis, a request whose credential is cached is authenticated and counted
    against its tenant, credential and IP limits by one script call, and nothing else."""
    scripts = getattr(cache, "scripts", None)
    assert scripts is not None, "the services pass must use the Redis cache"
    set_tenant_settings(
        tenant, rate_limit_per_tenant=100, rate_limit_per_credential=100, rate_limit_per_ip=100
    )
    for _ in range(
        2
    ):  # loads the scripts; the first call stamps last use, which drops the cached copy
        assert lr.get(TENANT_PATH).status_code == 200

    def call() -> None:
        assert lr.get(TENANT_PATH).status_code == 200

    made = _redis_calls(call)
    # Commands a script runs are counted too: one call, inside it one read and three counts.
    assert made == {"evalsha": 1, "mget": 1, "incr": 3, "pttl": 3}
    counters = ratelimit.request_counters(credential_key=lr.credential.secret_hash, ip="127.0.0.1")
    assert [
        h.count
        for h in ratelimit.hit_many(tenant=tenant.api_key, counters=counters, window_seconds=60)
    ] == [4] * 3


@pytest.mark.postgres
def test_a_key_with_a_wrong_secret_spends_none_of_the_tenants_allowance(tenant, lr, client):
    """Counting in the authentication round trip happens only for a cached key + secret
    pair: requests with the public API key and a guessed secret leave the counters alone."""
    set_tenant_settings(tenant, rate_limit_per_tenant=100)
    for _ in range(2):
        assert lr.get(TENANT_PATH).status_code == 200
    wrong = "00000000-0000-4000-8000-000000000000"
    for _ in range(3):
        assert (
            client.get(f"{TENANT_PATH}?apikey={tenant.api_key}&apisecret={wrong}").status_code
            == 401
        )
    counters = ratelimit.request_counters(credential_key=None, ip=None)
    assert [
        h.count
        for h in ratelimit.hit_many(tenant=tenant.api_key, counters=counters, window_seconds=60)
    ] == [3]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_limit_holds_under_50_parallel_requests(live_server, tenant, credential):
    """50 threads at once against the threaded live server: exactly `limit` pass (±1)."""
    limit = 20
    set_tenant_settings(tenant, rate_limit_per_credential=limit)
    cache.clear()
    url = f"{live_server.url}{TENANT_PATH}?apikey={tenant.api_key}"

    def call() -> int:
        return requests.get(
            url, headers={"X-LoginRadius-ApiSecret": credential.raw}, timeout=60
        ).status_code

    statuses = run_concurrently(call, 50, timeout=90)
    assert len(statuses) == 50
    assert set(statuses) <= {200, 429}, statuses
    assert abs(statuses.count(200) - limit) <= 1, statuses


def test_failed_m2m_client_authentication_is_limited_per_ip(tenant, credential, settings):
    from urllib.parse import urlencode

    from rest_framework.test import APIClient

    from portal.lrapi import m2m

    settings.RATE_LIMIT_AUTH_FAILURES_PER_IP = 2
    client = APIClient()
    wrong = {
        "grant_type": "client_credentials",
        "client_id": tenant.api_key,
        "client_secret": "00000000-0000-0000-0000-000000000000",
    }
    for _ in range(2):
        response = client.post("/service/oauth/token", wrong, format="json")
        assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    response = client.post(  # form-encoded: the same counter
        "/service/oauth/token", urlencode(wrong), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 429, response.content
    assert set(response.json()) == {"error", "error_description"}
    assert response.json()["error"] == "slow_down"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Cache-Control"] == "no-store"
    # The right secret is not counted and still gets its token.
    right = {**wrong, "client_secret": credential.raw}
    response = client.post("/service/oauth/token", right, format="json")
    assert response.status_code == 200, response.content
    assert m2m.credential_for_token(response.json()["access_token"]) == credential


@pytest.mark.postgres
def test_a_key_only_call_with_its_tenant_cached_costs_one_redis_round_trip(tenant):
    """The tenant of a call that carries only the public API key is read, and the call
    counted against its key-only limits, by one script call."""
    path = f"/identity/v2/auth/access_token/validate?apikey={tenant.api_key}&access_token=x"
    public = APIClient()
    for _ in range(2):  # caches the tenant and its window; loads the script
        assert public.get(path).status_code == 403

    def call() -> None:
        assert public.get(path).status_code == 403  # a malformed token: no token read

    made = _redis_calls(call)
    assert made == {"evalsha": 1, "mget": 1, "incr": 2, "pttl": 2}
    counters = ratelimit.key_only_counters(ip="127.0.0.1")
    assert [
        h.count
        for h in ratelimit.hit_many(tenant=tenant.api_key, counters=counters, window_seconds=60)
    ] == [4] * 2

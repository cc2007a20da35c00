"""Effective permissions: the selector, the native endpoint, its cache and invalidation,
context expiry at the boundary, query-count pins."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from accounts.models import Account
from portal.errors import AccountNotFound
from roles import permission_cache, services
from roles.commands import AccountRolesAssign
from roles.selectors import account_permissions
from tests.factories import AccountFactory
from tests.roles.conftest import SYSTEM, assign, make_role, permissions_of, upsert_context

ROLE = "/identity/v2/manage/role"


def url(uid):
    return f"/api/v1/accounts/{uid}/permissions"


@pytest.mark.django_db
class TestAnswer:
    def test_roles_outside_any_context(self, lr, tenant, account, editor, viewer):
        assign(tenant, account, "viewer")
        upsert_context(tenant, account, "Home", roles=["editor"], additional=["x"])
        assert permissions_of(lr, account.uid) == {
            "uid": account.uid,
            "context": None,
            "context_found": False,
            "context_active": False,
            "context_expiration": None,
            "roles": ["viewer"],
            "permissions": ["article.read"],
            "valid_until": None,
        }

    def test_within_a_context_adds_its_roles_and_additional_permissions(
        self, lr, tenant, account, editor, viewer
    ):
        assign(tenant, account, "viewer")
        upsert_context(
            tenant,
            account,
            "Home",
            roles=["editor"],
            additional=["x"],
            expiration=datetime(2099, 1, 1, tzinfo=UTC),
        )
        answer = permissions_of(lr, account.uid, context="Home")
        assert answer["roles"] == ["editor", "viewer"]
        assert answer["permissions"] == ["article.edit", "article.read", "x"]
        assert answer["context_found"] and answer["context_active"]
        assert answer["valid_until"] == answer["context_expiration"] == "2099-01-01T00:00:00.000Z"

    def test_unknown_context_grants_only_the_accounts_roles(self, lr, tenant, account, viewer):
        assign(tenant, account, "viewer")
        answer = permissions_of(lr, account.uid, context="Nowhere")
        assert (answer["context_found"], answer["permissions"]) == (False, ["article.read"])

    def test_permission_question(self, lr, tenant, account, editor):
        assign(tenant, account, "editor")
        assert permissions_of(lr, account.uid, permission="article.edit")["allowed"] is True
        assert permissions_of(lr, account.uid, permission="article.delete")["allowed"] is False

    def test_unknown_account_is_404(self, lr):
        assert lr.get(url("e" * 32)).json()["code"] == "account.not_found"

    def test_another_tenants_account_is_404(self, lr_other, tenant, account, editor):
        assign(tenant, account, "editor")
        response = lr_other.get(url(account.uid))
        assert (response.status_code, response.json()["code"]) == (404, "account.not_found")

    def test_selector_refuses_an_account_of_another_tenant(self, tenant, other_tenant):
        foreign = AccountFactory(tenant=other_tenant)
        with pytest.raises(AccountNotFound):
            account_permissions(tenant=tenant, account=foreign)

    def test_credential_without_roles_scope_is_refused(self, lr, credential, account):
        credential.scopes = ["accounts"]
        credential.save()
        response = lr.get(url(account.uid))
        assert (response.status_code, response.json()["code"]) == (403, "credential.scope_refused")


@pytest.mark.django_db
class TestExpiryBoundary:
    """A context grants until its expiration, not from it on; nothing cleans it up."""

    def test_a_second_before_and_after(self, lr, tenant, account, editor):
        expires = datetime(2030, 7, 15, 8, 30, 8, tzinfo=UTC)
        upsert_context(
            tenant, account, "Home", roles=["editor"], additional=["x"], expiration=expires
        )
        with freeze_time(expires - timedelta(seconds=1)) as frozen:
            before = permissions_of(lr, account.uid, context="Home")
            assert before["context_active"] is True
            assert before["permissions"] == ["article.edit", "article.read", "x"]
            assert before["valid_until"] == "2030-07-15T08:30:08.000Z"
            # Served from the cache a moment later: still granted.
            assert (
                permissions_of(lr, account.uid, context="Home")["permissions"]
                == before["permissions"]
            )
            frozen.move_to(expires)
            at = permissions_of(lr, account.uid, context="Home")
            assert (at["context_active"], at["permissions"], at["roles"]) == (False, [], [])
            frozen.move_to(expires + timedelta(seconds=1))
            after = permissions_of(lr, account.uid, context="Home")
            assert (after["context_found"], after["context_active"], after["permissions"]) == (
                True,
                False,
                [],
            )
        # The stored context is untouched: expiry needs no cleanup.
        assert lr.get(f"/identity/v2/manage/account/{account.uid}/rolecontext").json()["Data"][0][
            "Expiration"
        ] == ("2030-07-15T08:30:08Z")

    def test_cached_answer_is_not_kept_past_the_expiration(self, tenant, account, editor):
        expires = datetime(2030, 1, 1, tzinfo=UTC)
        upsert_context(tenant, account, "Home", roles=["editor"], expiration=expires)
        now = expires - timedelta(seconds=30)
        assert account_permissions(
            tenant=tenant, account=account, context="Home", now=now
        ).permissions
        key = permission_cache.answer_key(
            tenant_id=tenant.pk, account_id=account.pk, context="Home"
        )
        cached = permission_cache.get(key)
        assert cached is not None and cached["valid_until"] == expires
        assert (
            account_permissions(
                tenant=tenant, account=account, context="Home", now=expires
            ).permissions
            == ()
        )

    def test_cache_timeout_is_capped_by_the_expiration(self, tenant, account, editor, monkeypatch):
        timeouts = []
        monkeypatch.setattr(
            permission_cache, "put", lambda key, value, timeout: timeouts.append(timeout)
        )
        expires = datetime(2030, 1, 1, tzinfo=UTC)
        upsert_context(tenant, account, "Home", roles=["editor"], expiration=expires)
        account_permissions(
            tenant=tenant, account=account, context="Home", now=expires - timedelta(seconds=7)
        )
        account_permissions(tenant=tenant, account=account, now=expires - timedelta(seconds=7))
        assert timeouts == [7.0, float(permission_cache.ttl_seconds())]


@pytest.mark.django_db(transaction=True)
class TestInvalidation:
    """Every change that affects an answer is seen by the very next request."""

    def warm(self, lr, uid, **params):
        first = permissions_of(lr, uid, **params)
        assert permissions_of(lr, uid, **params) == first  # now cached
        return first

    def test_unassigning_a_role(self, lr, tenant, account, editor):
        assign(tenant, account, "editor")
        assert self.warm(lr, account.uid)["roles"] == ["editor"]
        lr.delete(f"/identity/v2/manage/account/{account.uid}/role", {"roles": ["editor"]})
        assert permissions_of(lr, account.uid)["permissions"] == []

    def test_assigning_a_role(self, lr, tenant, account, editor):
        assert self.warm(lr, account.uid)["permissions"] == []
        lr.put(f"/identity/v2/manage/account/{account.uid}/role", {"roles": ["editor"]})
        assert permissions_of(lr, account.uid)["permissions"] == ["article.edit", "article.read"]

    def test_removing_a_permission_from_a_role_affects_every_holder(
        self, lr, tenant, account, editor
    ):
        other = AccountFactory(tenant=tenant)
        assign(tenant, account, "editor")
        upsert_context(tenant, other, "Home", roles=["editor"])
        self.warm(lr, account.uid)
        self.warm(lr, other.uid, context="Home")
        lr.delete(f"{ROLE}/editor/permission", {"permissions": ["article.edit"]})
        assert permissions_of(lr, account.uid)["permissions"] == ["article.read"]
        assert permissions_of(lr, other.uid, context="Home")["permissions"] == ["article.read"]

    def test_adding_a_permission_to_a_role(self, lr, tenant, account, editor):
        assign(tenant, account, "editor")
        self.warm(lr, account.uid)
        lr.put(f"{ROLE}/editor/permission", {"permissions": ["article.delete"]})
        assert "article.delete" in permissions_of(lr, account.uid)["permissions"]

    def test_deleting_a_role(self, lr, tenant, account, editor, viewer):
        assign(tenant, account, "editor", "viewer")
        upsert_context(tenant, account, "Home", roles=["editor"])
        self.warm(lr, account.uid)
        self.warm(lr, account.uid, context="Home")
        lr.delete(f"{ROLE}/editor")
        assert permissions_of(lr, account.uid)["roles"] == ["viewer"]
        assert permissions_of(lr, account.uid, context="Home")["roles"] == ["viewer"]

    def test_context_changes(self, lr, tenant, account, editor, viewer):
        base = f"/identity/v2/manage/account/{account.uid}/rolecontext"
        upsert_context(tenant, account, "Home", roles=["editor", "viewer"], additional=["x", "y"])
        self.warm(lr, account.uid, context="Home")
        lr.delete(f"{base}/Home/role", {"roles": ["editor"]})
        assert permissions_of(lr, account.uid, context="Home")["permissions"] == [
            "article.read",
            "x",
            "y",
        ]
        lr.delete(f"{base}/Home/additionalpermission", {"additionalpermissions": ["x"]})
        assert permissions_of(lr, account.uid, context="Home")["permissions"] == [
            "article.read",
            "y",
        ]
        lr.put(base, {"rolecontext": [{"context": "Home", "expiration": "01/01/2001 12:00:00 AM"}]})
        assert permissions_of(lr, account.uid, context="Home")["permissions"] == []
        lr.put(base, {"rolecontext": [{"context": "Home", "expiration": None}]})
        assert permissions_of(lr, account.uid, context="Home")["permissions"] == [
            "article.read",
            "y",
        ]
        lr.delete(f"{base}/Home")
        assert permissions_of(lr, account.uid, context="Home")["context_found"] is False

    def test_a_failed_change_keeps_the_cached_answer_valid(self, lr, tenant, account, editor):
        assign(tenant, account, "editor")
        key = permission_cache.answer_key(tenant_id=tenant.pk, account_id=account.pk, context=None)
        self.warm(lr, account.uid)
        assert (
            lr.put(f"/identity/v2/manage/account/{account.uid}/role", {"roles": ["ghost"]}).json()[
                "ErrorCode"
            ]
            == 1047
        )
        assert (
            permission_cache.answer_key(tenant_id=tenant.pk, account_id=account.pk, context=None)
            == key
        )

    def test_changes_to_one_account_keep_others_cached(self, lr, tenant, account, editor):
        other = AccountFactory(tenant=tenant)
        other_key = permission_cache.answer_key(
            tenant_id=tenant.pk, account_id=other.pk, context=None
        )
        assign(tenant, account, "editor")
        assert (
            permission_cache.answer_key(tenant_id=tenant.pk, account_id=other.pk, context=None)
            == other_key
        )

    def test_versions_move_only_after_commit(self, tenant, account, editor):
        """A reader that computed from the rows before the commit (another process) can only
        have stored its answer under the old key, which nobody reads after the commit."""
        before = permission_cache.answer_key(
            tenant_id=tenant.pk, account_id=account.pk, context=None
        )
        with transaction.atomic():
            services.account_roles_assign(
                AccountRolesAssign(roles=("editor",)), tenant=tenant, actor=SYSTEM, account=account
            )
            during = permission_cache.answer_key(
                tenant_id=tenant.pk, account_id=account.pk, context=None
            )
            assert during == before
            # What a concurrent reader would cache from the not yet committed state:
            permission_cache.put(during, {"stale": True}, 60)
        after = permission_cache.answer_key(
            tenant_id=tenant.pk, account_id=account.pk, context=None
        )
        assert after != before
        assert account_permissions(tenant=tenant, account=account).permissions == (
            "article.edit",
            "article.read",
        )

    def test_a_rolled_back_change_does_not_invalidate(self, tenant, account, editor):
        before = permission_cache.answer_key(
            tenant_id=tenant.pk, account_id=account.pk, context=None
        )
        with pytest.raises(RuntimeError), transaction.atomic():
            services.account_roles_assign(
                AccountRolesAssign(roles=("editor",)), tenant=tenant, actor=SYSTEM, account=account
            )
            raise RuntimeError("rollback")
        assert (
            permission_cache.answer_key(tenant_id=tenant.pk, account_id=account.pk, context=None)
            == before
        )
        assert account_permissions(tenant=tenant, account=account).permissions == ()

    def test_a_deleted_account_is_not_found_even_when_cached(self, lr, tenant, account, editor):
        assign(tenant, account, "editor")
        self.warm(lr, account.uid)
        Account.objects.filter(pk=account.pk).delete()
        assert lr.get(url(account.uid)).json()["code"] == "account.not_found"

    def test_an_evicted_version_token_never_revives_an_old_answer(self, tenant, account, editor):
        from django.core.cache import cache

        assign(tenant, account, "editor")
        account_permissions(tenant=tenant, account=account)
        cache.delete(f"roles:v:a:{account.pk}")
        cache.delete(f"roles:v:t:{tenant.pk}")
        key = permission_cache.answer_key(tenant_id=tenant.pk, account_id=account.pk, context=None)
        assert permission_cache.get(key) is None


@pytest.mark.django_db
class TestQueryCounts:
    """Pins for the hot path: a cache hit reads no role table at all."""

    @staticmethod
    def role_queries(ctx):
        return [q["sql"] for q in ctx.captured_queries if '"roles_' in q["sql"]]

    def test_miss_then_hit(
        self, lr, tenant, account, editor, viewer, django_assert_max_num_queries
    ):
        assign(tenant, account, "editor")
        upsert_context(tenant, account, "Home", roles=["viewer"], additional=["x"])
        lr.get("/identity/v2/manage/role")  # credential bookkeeping out of the way
        with django_assert_max_num_queries(5), CaptureQueriesContext(connection) as miss:
            assert lr.get(url(account.uid), {"context": "Home"}).status_code == 200
        assert len(self.role_queries(miss)) == 3
        with django_assert_max_num_queries(2), CaptureQueriesContext(connection) as hit:
            assert lr.get(url(account.uid), {"context": "Home"}).status_code == 200
        assert self.role_queries(hit) == []

    def test_miss_without_context_reads_one_role_query(self, lr, tenant, account, editor):
        assign(tenant, account, "editor")
        lr.get("/identity/v2/manage/role")
        with CaptureQueriesContext(connection) as miss:
            lr.get(url(account.uid))
        assert len(self.role_queries(miss)) == 1

    def test_query_count_does_not_grow_with_roles(
        self, lr, tenant, account, django_assert_max_num_queries
    ):
        for i in range(20):
            make_role(tenant, f"r{i}", [f"p{i}", f"q{i}"])
        assign(tenant, account, *[f"r{i}" for i in range(10)])
        upsert_context(
            tenant, account, "Home", roles=[f"r{i}" for i in range(10, 20)], additional=["x"]
        )
        lr.get("/identity/v2/manage/role")
        with django_assert_max_num_queries(5):
            answer = lr.get(url(account.uid), {"context": "Home"}).json()
        assert len(answer["permissions"]) == 41


class BrokenCache:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache down")

        return fail


@pytest.mark.django_db(transaction=True)
class TestCacheOutage:
    def test_answers_from_the_database_when_the_cache_is_down(
        self, lr, tenant, account, editor, monkeypatch
    ):
        assign(tenant, account, "editor")
        monkeypatch.setattr(permission_cache, "cache", BrokenCache())
        assert permissions_of(lr, account.uid)["permissions"] == ["article.edit", "article.read"]

    def test_a_change_still_commits_when_the_cache_is_down(
        self, lr, tenant, account, editor, monkeypatch
    ):
        monkeypatch.setattr(permission_cache, "cache", BrokenCache())
        response = lr.put(f"/identity/v2/manage/account/{account.uid}/role", {"roles": ["editor"]})
        assert response.json() == {"Roles": ["editor"]}
        assert permissions_of(lr, account.uid)["roles"] == ["editor"]

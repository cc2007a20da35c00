"""A change made in one process is seen by the very next request in another process,
through the shared Redis cache (services pass: PostgreSQL + Redis)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection

from roles import permission_cache
from roles.commands import AccountRolesUnassign, RoleDelete, RolePermissionsRemove
from tests.roles.conftest import SYSTEM, assign, upsert_context

ROOT = Path(__file__).resolve().parents[2]


def require_redis_cache():
    backend = settings.CACHES["default"]["BACKEND"]
    if (
        backend != "portal.cache.PortalRedisCache"
        or type(caches["default"]).__name__ != "PortalRedisCache"
    ):
        pytest.fail(
            f"cross-process invalidation needs the Redis cache, but the cache backend is {backend}"
        )


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Reader:
    def __init__(self):
        env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.roles.permission_reader"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        hello = json.loads(self.proc.stdout.readline())
        assert hello == {"ready": True, "cache": "portal.cache.PortalRedisCache"}

    def ask(self, tenant, uid, context=None):
        self.proc.stdin.write(f"{tenant.pk} {uid} {context or ''}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the reader process died"
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def reader():
    require_redis_cache()
    proc = Reader()
    yield proc
    proc.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_removed_role_is_refused_by_another_process_on_its_next_request(
    reader, tenant, account, editor, viewer
):
    from roles import services

    assign(tenant, account, "editor", "viewer")
    first = reader.ask(tenant, account.uid)
    assert first["roles"] == ["editor", "viewer"] and first["role_queries"] == 1
    cached = reader.ask(tenant, account.uid)
    assert cached["role_queries"] == 0, "the other process should answer from the shared cache"

    services.account_roles_unassign(
        AccountRolesUnassign(roles=("editor",)), tenant=tenant, actor=SYSTEM, account=account
    )
    after = reader.ask(tenant, account.uid)
    assert after["roles"] == ["viewer"]
    assert after["permissions"] == ["article.read"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_role_deletion_and_permission_removal_reach_another_process(
    reader, tenant, account, editor
):
    from roles import services

    assign(tenant, account, "editor")
    upsert_context(tenant, account, "Home", roles=["editor"])
    assert reader.ask(tenant, account.uid, "Home")["permissions"] == [
        "article.edit",
        "article.read",
    ]
    assert reader.ask(tenant, account.uid, "Home")["role_queries"] == 0

    services.role_permissions_remove(
        RolePermissionsRemove(name="editor", permissions=("article.edit",)),
        tenant=tenant,
        actor=SYSTEM,
    )
    assert reader.ask(tenant, account.uid, "Home")["permissions"] == ["article.read"]

    services.role_delete(RoleDelete(name="editor"), tenant=tenant, actor=SYSTEM)
    answer = reader.ask(tenant, account.uid, "Home")
    assert (answer["roles"], answer["permissions"]) == ([], [])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_cache_client_sees_the_new_version(tenant, account, editor):
    require_redis_cache()
    second = caches.create_connection("default")
    assert second is not cache
    key_here = permission_cache.answer_key(tenant_id=tenant.pk, account_id=account.pk, context=None)
    version_key = f"roles:v:a:{account.pk}"
    before = second.get(version_key)
    assert before is not None
    assign(tenant, account, "editor")
    assert second.get(version_key) not in (None, before)
    assert (
        permission_cache.answer_key(tenant_id=tenant.pk, account_id=account.pk, context=None)
        != key_here
    )

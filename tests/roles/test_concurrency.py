"""Concurrent writers on PostgreSQL: no lost update, no duplicate, no 500."""

import pytest

from roles import services
from roles.commands import (
    ContextGrant,
    RoleContextGrant,
    RoleInput,
    RolePermissionsAdd,
    RolesCreate,
)
from roles.models import Role, RoleContext
from tests.concurrency import run_concurrently
from tests.roles.conftest import SYSTEM


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_role_name_created_concurrently_exists_once(tenant):
    results = run_concurrently(
        lambda: services.roles_create(
            RolesCreate(roles=(RoleInput(name="admin"),)), tenant=tenant, actor=SYSTEM
        ),
        4,
    )
    assert sorted(r if isinstance(r, str) else "ok" for r in results) == [
        "ok",
        *["role.name_taken"] * 3,
    ]
    assert Role.objects.filter(tenant=tenant, name="admin").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_permission_additions_are_all_kept(tenant, editor):
    run_concurrently(
        lambda i: services.role_permissions_add(
            RolePermissionsAdd(name="editor", permissions=(f"p{i}",)), tenant=tenant, actor=SYSTEM
        ),
        5,
        pass_index=True,
    )
    editor.refresh_from_db()
    assert editor.permissions == sorted(
        ["article.edit", "article.read", *[f"p{i}" for i in range(5)]]
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_upserts_of_one_context_merge(tenant, account, editor):
    run_concurrently(
        lambda i: services.role_contexts_upsert(
            RoleContextGrant(
                contexts=(
                    ContextGrant(
                        name="Home",
                        roles=("editor",),
                        additional_permissions=(f"x{i}",),
                        keep_expiration=True,
                    ),
                )
            ),
            tenant=tenant,
            actor=SYSTEM,
            account=account,
        ),
        4,
        pass_index=True,
    )
    context = RoleContext.objects.get(account=account, name="Home")
    assert context.additional_permissions == ["x0", "x1", "x2", "x3"]
    assert [r.name for r in context.roles.all()] == ["editor"]

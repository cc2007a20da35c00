import pytest

from portal.audit import Actor
from roles import services
from roles.commands import (
    AccountRolesAssign,
    ContextGrant,
    RoleContextGrant,
    RoleInput,
    RolesCreate,
)

SYSTEM = Actor.system("tests")
KEEP = "keep"  # an upsert that leaves the stored expiration as it is


def make_role(tenant, name, permissions=()):
    return services.roles_create(
        RolesCreate(roles=(RoleInput(name=name, permissions=tuple(permissions)),)),
        tenant=tenant,
        actor=SYSTEM,
    )[0]


def assign(tenant, account, *names):
    return services.account_roles_assign(
        AccountRolesAssign(roles=names), tenant=tenant, actor=SYSTEM, account=account
    )


def upsert_context(tenant, account, name, roles=(), additional=(), expiration=KEEP):
    grant = ContextGrant(
        name=name,
        roles=tuple(roles),
        additional_permissions=tuple(additional),
        expiration=None if expiration is KEEP else expiration,
        keep_expiration=expiration is KEEP,
    )
    return services.role_contexts_upsert(
        RoleContextGrant(contexts=(grant,)), tenant=tenant, actor=SYSTEM, account=account
    )


def permissions_of(lr, uid, **params):
    response = lr.get(f"/api/v1/accounts/{uid}/permissions", params)
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture
def editor(tenant):
    return make_role(tenant, "editor", ["article.edit", "article.read"])


@pytest.fixture
def viewer(tenant):
    return make_role(tenant, "viewer", ["article.read"])

import pytest

from portal.audit import Actor
from roles import services

SYSTEM = Actor.system("tests")


def make_role(tenant, name, permissions=()):
    return services.roles_create(
        tenant=tenant,
        actor=SYSTEM,
        roles=[services.RoleInput(name=name, permissions=tuple(permissions))],
    )[0]


def assign(tenant, account, *names):
    return services.account_roles_assign(
        tenant=tenant, actor=SYSTEM, account=account, role_names=list(names)
    )


def upsert_context(tenant, account, name, roles=(), additional=(), expiration=services.KEEP):
    return services.role_contexts_upsert(
        tenant=tenant,
        actor=SYSTEM,
        account=account,
        contexts=[
            services.RoleContextInput(
                name=name,
                roles=tuple(roles),
                additional_permissions=tuple(additional),
                expiration=expiration,
            )
        ],
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

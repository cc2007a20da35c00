"""`GET /api/v1/accounts/{uid}/permissions` on the native conventions: problem details, the
declared query parameters only, RFC 3339 times; and the one-service writes behind
`PUT /api/v1/accounts/{uid}/roles` and `PATCH /api/v1/roles/{name}`."""

from datetime import UTC, datetime

import pytest

from portal.audit import Actor
from portal.errors import RoleNotFound
from roles import services
from roles.commands import AccountRolesSet, RolePermissionsSet
from roles.models import AccountRole, Role
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory
from tests.roles.conftest import assign, make_role, upsert_context

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
SYSTEM = Actor.system("tests")


def url(uid: str) -> str:
    return f"/api/v1/accounts/{uid}/permissions"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    return response.json()


@pytest.fixture
def editor(tenant):
    return make_role(tenant, "editor", ["article.edit", "article.read"])


def test_the_answer_uses_rfc3339_times_and_answers_a_permission_question(
    lr, tenant, account, editor
):
    upsert_context(
        tenant, account, "Home", roles=["editor"], expiration=datetime(2099, 1, 1, tzinfo=UTC)
    )
    response = lr.get(url(account.uid), {"context": "Home", "permission": "article.edit"})
    assert response.status_code == 200
    body = response.json()
    assert body["valid_until"] == body["context_expiration"] == "2099-01-01T00:00:00.000Z"
    assert (body["permission"], body["allowed"]) == ("article.edit", True)


def test_an_unknown_query_parameter_is_400(lr, account):
    body = problem(lr.get(url(account.uid), {"contxt": "Home"}), 400, "input.invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("contxt", "unknown")]


def test_another_tenants_account_is_404(lr_other, tenant, account, editor):
    assign(tenant, account, "editor")
    problem(lr_other.get(url(account.uid)), 404, "account.not_found")


def test_a_credential_without_the_roles_scope_is_refused(tenant, account):
    caller = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts"]))
    problem(caller.get(url(account.uid)), 403, "credential.scope_refused")


# --- the services ---------------------------------------------------------------------------


def test_account_roles_set_with_an_unknown_role_changes_nothing(tenant, account, editor):
    assign(tenant, account, "editor")
    with pytest.raises(RoleNotFound):
        services.account_roles_set(
            AccountRolesSet(roles=("editor", "ghost")), tenant=tenant, actor=SYSTEM, account=account
        )
    assert list(AccountRole.objects.values_list("role__name", flat=True)) == ["editor"]


def test_role_permissions_set_refuses_another_tenants_role(tenant, other_tenant, editor):
    with pytest.raises(RoleNotFound):
        services.role_permissions_set(
            RolePermissionsSet(name="editor", permissions=("x",)),
            tenant=other_tenant,
            actor=SYSTEM,
        )
    assert Role.objects.get(tenant=tenant, name="editor").permissions == [
        "article.edit",
        "article.read",
    ]


def test_the_writes_refuse_unknown_query_parameters_and_change_nothing(lr, account, editor):
    before = (
        sorted(AccountRole.objects.values_list("account_id", "role__name")),
        Role.objects.get(name="editor").permissions,
    )
    response = lr.put(f"/api/v1/accounts/{account.uid}/roles", {"roles": ["editor"]}, {"x": 1})
    problem(response, 400, "input.invalid")
    response = lr.client.patch(
        f"/api/v1/roles/editor?apikey={lr.credential.tenant.api_key}&dry_run=1",
        '{"permissions": []}',
        content_type="application/merge-patch+json",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
    )
    problem(response, 400, "input.invalid")
    assert before == (
        sorted(AccountRole.objects.values_list("account_id", "role__name")),
        Role.objects.get(name="editor").permissions,
    )

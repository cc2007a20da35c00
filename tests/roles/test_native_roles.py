"""`/api/v1/roles`, `/api/v1/accounts/{uid}/roles` and `/api/v1/accounts/{uid}/role-contexts`:
roles, assignments and role contexts as native resources, through the same commands as
the LoginRadius role paths."""

import json

import pytest

from portal.models import AuditEvent
from roles.models import AccountRole, Role, RoleContext
from tests.conftest import LRClient
from tests.factories import AccountFactory, ApiCredentialFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    return response.json()


def patch(lr, path, body, **headers):
    return lr.client.patch(
        f"{path}?apikey={lr.credential.tenant.api_key}",
        json.dumps(body),
        content_type="application/merge-patch+json",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
        **headers,
    )


def state():
    return (
        sorted(Role.objects.values_list("tenant_id", "name", "permissions")),
        sorted(AccountRole.objects.values_list("account_id", "role__name")),
        sorted(RoleContext.objects.values_list("account_id", "name", "modified")),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def roles(tenant):
    return [
        Role.objects.create(tenant=tenant, name=name, permissions=perms)
        for name, perms in (("viewer", ["a.read"]), ("editor", ["a.read", "a.write"]), ("x", []))
    ]


# --- roles --------------------------------------------------------------------------------


def test_create_then_read_and_list(lr):
    response = lr.post(
        "/api/v1/roles",
        {"name": "support", "permissions": ["refund.issue", "account.read"]},
        HTTP_X_REASON="new team",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "support"
    assert body["permissions"] == ["account.read", "refund.issue"]
    assert body["created_at"].endswith("Z")
    assert AuditEvent.objects.get(action="role.created").reason == "new team"
    assert lr.get("/api/v1/roles/support").json() == body
    listed = lr.get("/api/v1/roles").json()
    assert listed["count"] == 1 and listed["results"] == [body] and listed["next"] is None


def test_list_pages_by_cursor(lr, roles):
    first = lr.get("/api/v1/roles", {"page_size": 2}).json()
    assert [r["name"] for r in first["results"]] == ["viewer", "editor"]
    assert first["count"] == 3 and f"after={roles[1].pk}" in first["next"]
    second = lr.get("/api/v1/roles", {"page_size": 2, "after": roles[1].pk}).json()
    assert [r["name"] for r in second["results"]] == ["x"] and second["next"] is None


def test_create_refuses_a_taken_name_bad_input_and_unknown_keys(lr, roles):
    before = state()
    problem(lr.post("/api/v1/roles", {"name": "viewer"}), 409, "role.name_taken")
    problem(lr.post("/api/v1/roles", {"name": "no spaces!"}), 400, "role.name_invalid")
    problem(lr.post("/api/v1/roles", {"permissions": ["a"]}), 400, "input.invalid")
    body = problem(lr.post("/api/v1/roles", {"name": "y", "colour": "red"}), 400, "input.invalid")
    assert body["errors"][0] == {
        "field": "colour",
        "message": "The resource has no such field.",
        "code": "unknown",
    }
    problem(lr.post("/api/v1/roles", {"name": "y", "permissions": "a"}), 400, "input.invalid")
    assert state() == before


def test_patch_replaces_permissions_adding_and_removing_as_one_event(lr, roles):
    before = Role.objects.get(name="editor").permissions
    response = patch(lr, "/api/v1/roles/editor", {"permissions": ["a.read", "a.admin"]})
    assert response.status_code == 200, response.content
    assert response.json()["permissions"] == ["a.admin", "a.read"]
    assert Role.objects.get(name="editor").permissions == ["a.admin", "a.read"]
    [event] = AuditEvent.objects.filter(action="role.permissions_changed")
    assert event.diff == {"name": "editor", "permissions": [before, ["a.admin", "a.read"]]}
    assert AuditEvent.objects.count() == 1
    cleared = patch(lr, "/api/v1/roles/editor", {"permissions": None})
    assert cleared.json()["permissions"] == []
    again = patch(lr, "/api/v1/roles/editor", {"permissions": []})
    assert again.status_code == 200
    assert AuditEvent.objects.filter(action="role.permissions_changed").count() == 2


def test_a_role_has_a_description_set_changed_and_cleared(lr, roles):
    created = lr.post(
        "/api/v1/roles", {"name": "support", "description": "  Front-line support.  "}
    )
    assert created.status_code == 201, created.content
    assert created.json()["description"] == "Front-line support."
    assert AuditEvent.objects.get(action="role.created").diff["description"] == [
        None,
        "Front-line support.",
    ]
    assert lr.get("/api/v1/roles/viewer").json()["description"] == ""
    changed = patch(lr, "/api/v1/roles/support", {"description": "Refunds too."})
    assert changed.json()["description"] == "Refunds too."
    [event] = AuditEvent.objects.filter(action="role.permissions_changed")
    assert event.diff == {"name": "support", "description": ["Front-line support.", "Refunds too."]}
    assert patch(lr, "/api/v1/roles/support", {"description": None}).json()["description"] == ""
    before = state(), Role.objects.get(name="support").description
    too_long = patch(lr, "/api/v1/roles/support", {"description": "x" * 501})
    assert problem(too_long, 400, "input.invalid")["errors"][0]["field"] == "description"
    assert (state(), Role.objects.get(name="support").description) == before


def test_patch_refuses_other_keys_and_changes_nothing(lr, roles):
    before = state()
    body = problem(
        patch(lr, "/api/v1/roles/editor", {"name": "boss", "permissions": []}),
        400,
        "input.invalid",
    )
    assert body["errors"][0]["code"] == "read_only"
    problem(patch(lr, "/api/v1/roles/nobody", {"permissions": ["a"]}), 404, "role.not_found")
    assert state() == before


def test_delete_takes_the_role_from_accounts(lr, roles, account):
    AccountRole.objects.create(tenant=account.tenant, account=account, role=roles[0])
    assert lr.delete("/api/v1/roles/viewer").status_code == 204
    assert not Role.objects.filter(name="viewer").exists()
    assert not AccountRole.objects.exists()
    problem(lr.delete("/api/v1/roles/viewer"), 404, "role.not_found")


# --- an account's roles -------------------------------------------------------------------


def test_put_sets_the_account_roles_as_one_event(lr, roles, account):
    AccountRole.objects.create(tenant=account.tenant, account=account, role=roles[0])
    path = f"/api/v1/accounts/{account.uid}/roles"
    assert lr.get(path).json() == {"roles": ["viewer"]}
    response = lr.put(path, {"roles": ["editor", "x"]}, HTTP_X_TICKET="T-1")
    assert response.status_code == 200 and response.json() == {"roles": ["editor", "x"]}
    [event] = AuditEvent.objects.all()
    assert (event.action, event.ticket, event.subject_uid) == (
        "account_roles.replaced",
        "T-1",
        account.uid,
    )
    assert event.diff == {"roles": [["viewer"], ["editor", "x"]]}
    assert lr.put(path, {"roles": []}).json() == {"roles": []}
    assert lr.put(path, {"roles": []}).status_code == 200  # unchanged: no second event
    assert AuditEvent.objects.filter(action="account_roles.replaced").count() == 2


def test_put_with_an_unknown_role_changes_nothing(lr, roles, account):
    AccountRole.objects.create(tenant=account.tenant, account=account, role=roles[0])
    path = f"/api/v1/accounts/{account.uid}/roles"
    before = state()
    problem(lr.put(path, {"roles": ["editor", "ghost"]}), 404, "role.not_found")
    problem(lr.put(path, {}), 400, "input.invalid")
    problem(lr.put(path, {"roles": "editor"}), 400, "input.invalid")
    assert state() == before


def test_existing_permissions_route_keeps_working(lr, roles, account):
    lr.put(f"/api/v1/accounts/{account.uid}/roles", {"roles": ["editor"]})
    answer = lr.get(f"/api/v1/accounts/{account.uid}/permissions").json()
    assert answer["roles"] == ["editor"] and answer["permissions"] == ["a.read", "a.write"]


# --- role contexts --------------------------------------------------------------------------


def test_put_creates_a_context_with_an_etag_then_adds_to_it(lr, roles, account):
    path = f"/api/v1/accounts/{account.uid}/role-contexts/store-7"
    created = lr.put(
        path,
        {
            "roles": ["viewer"],
            "additional_permissions": ["p.1"],
            "expiration": "2030-01-01T00:00:00Z",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["roles"] == ["viewer"] and body["additional_permissions"] == ["p.1"]
    assert body["expiration"] == "2030-01-01T00:00:00.000Z"
    assert created["ETag"] == f'"{body["version"]}"'
    updated = lr.put(path, {"roles": ["editor"]}, HTTP_IF_MATCH=created["ETag"])
    assert updated.status_code == 200
    assert updated.json()["roles"] == ["editor", "viewer"]
    assert updated.json()["expiration"] == "2030-01-01T00:00:00.000Z"  # kept when left out
    assert updated["ETag"] != created["ETag"]
    assert lr.get(path)["ETag"] == updated["ETag"]
    listed = lr.get(f"/api/v1/accounts/{account.uid}/role-contexts").json()
    assert listed["count"] == 1 and listed["results"][0]["name"] == "store-7"


def test_stale_if_match_is_412_and_changes_nothing(lr, roles, account):
    path = f"/api/v1/accounts/{account.uid}/role-contexts/store-7"
    stale = lr.put(path, {"roles": ["viewer"]})["ETag"]
    lr.put(path, {"roles": ["editor"]})
    before = state()
    problem(lr.put(path, {"roles": ["x"]}, HTTP_IF_MATCH=stale), 412, "role_context.version_stale")
    problem(lr.delete(path, HTTP_IF_MATCH=stale), 412, "role_context.version_stale")
    assert state() == before
    assert lr.delete(path, HTTP_IF_MATCH=lr.get(path)["ETag"]).status_code == 204
    assert not RoleContext.objects.exists()
    problem(lr.get(path), 404, "role_context.not_found")
    problem(lr.delete(path), 404, "role_context.not_found")


def test_context_input_is_checked(lr, roles, account):
    path = f"/api/v1/accounts/{account.uid}/role-contexts/store-7"
    before = state()
    problem(lr.put(path, {"expiration": "tomorrow"}), 400, "input.invalid")
    problem(lr.put(path, {"expiration": "2030-01-01T00:00:00"}), 400, "input.invalid")
    problem(lr.put(path, {"roles": ["ghost"]}), 404, "role.not_found")
    problem(lr.put(path, {"version": "1"}), 400, "input.invalid")
    assert state() == before


def test_another_tenants_objects_are_404(lr, lr_other, roles, account, other_tenant):
    stranger = AccountFactory(tenant=other_tenant)
    lr.put(f"/api/v1/accounts/{account.uid}/role-contexts/c", {"roles": ["viewer"]})
    before = state()
    problem(lr_other.get("/api/v1/roles/viewer"), 404, "role.not_found")
    problem(lr_other.delete("/api/v1/roles/viewer"), 404, "role.not_found")
    problem(patch(lr_other, "/api/v1/roles/viewer", {"permissions": []}), 404, "role.not_found")
    assert lr_other.get("/api/v1/roles").json()["count"] == 0
    problem(lr_other.get(f"/api/v1/accounts/{account.uid}/roles"), 404, "account.not_found")
    problem(
        lr_other.put(f"/api/v1/accounts/{account.uid}/roles", {"roles": []}),
        404,
        "account.not_found",
    )
    problem(
        lr.put(f"/api/v1/accounts/{stranger.uid}/roles", {"roles": ["viewer"]}),
        404,
        "account.not_found",
    )
    problem(
        lr_other.delete(f"/api/v1/accounts/{account.uid}/role-contexts/c"),
        404,
        "account.not_found",
    )
    assert state() == before


def test_a_credential_scoped_away_from_roles_is_refused(tenant, roles, account):
    scoped = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["accounts"]))
    before = state()
    problem(scoped.get("/api/v1/roles"), 403, "credential.scope_refused")
    problem(scoped.post("/api/v1/roles", {"name": "z"}), 403, "credential.scope_refused")
    problem(scoped.delete("/api/v1/roles/viewer"), 403, "credential.scope_refused")
    problem(
        scoped.put(f"/api/v1/accounts/{account.uid}/roles", {"roles": ["x"]}),
        403,
        "credential.scope_refused",
    )
    problem(
        scoped.put(f"/api/v1/accounts/{account.uid}/role-contexts/c", {}),
        403,
        "credential.scope_refused",
    )
    assert state() == before


def test_unknown_query_parameters_are_400(lr, roles, account):
    problem(lr.get("/api/v1/roles", {"name": "viewer"}), 400, "input.invalid")
    problem(lr.get("/api/v1/roles/viewer", {"fields": "name"}), 400, "input.invalid")
    problem(lr.get(f"/api/v1/accounts/{account.uid}/role-contexts", {"x": 1}), 400, "input.invalid")

"""`/api/v1/accounts` on the native conventions (docs/api.md): the search with declared
filters, cursor pages and exact counts; creating an account; blocking and unblocking."""

import json

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.api import profile_body
from accounts.commands import AccountBlock
from accounts.models import Account
from portal.models import AuditEvent
from roles import services as role_services
from roles.commands import AccountRolesAssign, RoleInput, RolesCreate
from security import services as security_services
from security.commands import AccountLock
from tests.accounts.conftest import GOOD_PASSWORD, state
from tests.conftest import LRClient
from tests.factories import ApiCredentialFactory

pytestmark = pytest.mark.django_db

S = "/api/v1/accounts"
PROBLEM = "application/problem+json"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert (body["status"], body["code"]) == (status, code), body
    return body


def field_codes(body: dict) -> dict[str, str]:
    return {item["field"]: item["code"] for item in body.get("errors", [])}


@pytest.fixture
def population(tenant, actor, other_tenant):
    def make(email, **extra):
        data = {"Email": [{"Type": "Primary", "Value": email}], "Password": GOOD_PASSWORD, **extra}
        return services.account_create(
            profile_body.account_create_read(data), tenant=tenant, actor=actor
        )

    ann = make(
        "ann.lee@example.com",
        FirstName="Ann",
        LastName="Lee",
        UserName="annl",
        PhoneId="+14155552671",
        EmailVerified=True,
    )
    bob = make("bob@corp.io", FirstName="Bob", LastName="Stone")
    cat = make("cat@corp.io", FirstName="Cat", LastName="Leeds", UserName="Kitty")
    services.account_block(AccountBlock(), tenant=tenant, actor=actor, account=bob)
    security_services.account_lock(
        AccountLock(locked_type="LoginAttempts"), tenant=tenant, actor=actor, account=cat
    )
    services.account_create(
        profile_body.account_create_read(
            {"Email": [{"Type": "Primary", "Value": "ann.lee@other.io"}], "FirstName": "Ann"}
        ),
        tenant=other_tenant,
        actor=actor,
    )
    return {"ann": ann, "bob": bob, "cat": cat}


def uids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["uid"] for r in response.json()["results"]]


# ---------------------------------------------------------------- search


def test_every_filter_of_the_search_is_kept(lr, population):
    ann, bob, cat = population["ann"], population["bob"], population["cat"]
    assert uids(lr.get(S)) == [cat.uid, bob.uid, ann.uid]
    assert uids(lr.get(S, {"search": "LEE"})) == [cat.uid, ann.uid]
    assert uids(lr.get(S, {"search": "corp.io"})) == [cat.uid, bob.uid]
    assert uids(lr.get(S, {"email": "BOB@corp.io"})) == [bob.uid]
    assert uids(lr.get(S, {"Email": "bob@corp.io"})) == [bob.uid]
    assert uids(lr.get(S, {"email_prefix": "ann."})) == [ann.uid]
    assert uids(lr.get(S, {"phone": "+14155552671"})) == [ann.uid]
    assert uids(lr.get(S, {"username": "KITTY"})) == [cat.uid]
    assert uids(lr.get(S, {"uid": ann.uid})) == [ann.uid]
    assert uids(lr.get(S, {"blocked": "true"})) == [bob.uid]
    assert uids(lr.get(S, {"locked": "true"})) == [cat.uid]
    assert uids(lr.get(S, {"verified": "true"})) == [ann.uid]
    assert uids(lr.get(S, {"has_mfa": "true"})) == []
    assert uids(lr.get(S, {"role": "nobody-has-it"})) == []
    assert uids(lr.get(S, {"created_after": "2000-01-01T00:00:00Z"})) == [cat.uid, bob.uid, ann.uid]
    assert uids(lr.get(S, {"created_before": "2000-01-01T00:00:00Z"})) == []


def test_results_are_the_account_resource(lr, population):
    ann = population["ann"]
    [listed] = lr.get(S, {"uid": ann.uid}).json()["results"]
    assert listed == lr.get(f"{S}/{ann.uid}").json()
    assert listed["email"] == [{"type": "Primary", "value": "ann.lee@example.com"}]
    assert "password" not in listed
    locked = lr.get(S, {"uid": population["cat"].uid}).json()["results"][0]
    assert locked["is_login_locked"] is True


def test_an_unknown_query_parameter_is_refused_not_ignored(lr, population):
    body = problem(lr.get(S, {"emial": "bob@corp.io"}), 400, "input.invalid")
    assert field_codes(body) == {"emial": "unknown"}
    # The old cursor parameter is gone too: it must not answer the first page.
    problem(lr.get(S, {"cursor": "abc"}), 400, "input.invalid")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"blocked": "maybe"}, "blocked"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"after": "x"}, "after"),
        ({"search": "x" * 201}, "search"),
    ],
)
def test_bad_filter_values_answer_400_naming_the_field(lr, population, params, field):
    body = problem(lr.get(S, params), 400, "input.invalid")
    assert field in field_codes(body)


def test_another_tenants_accounts_are_never_listed(lr_other, population):
    response = lr_other.get(S, {"uid": population["ann"].uid})
    assert uids(response) == [] and response.json()["count"] == 0
    assert lr_other.get(S).json()["count"] == 1


def test_cursor_pages_walk_every_account_once_with_an_exact_count(lr, tenant, actor):
    for i in range(7):
        services.account_create(
            profile_body.account_create_read({"UserName": f"user{i}"}), tenant=tenant, actor=actor
        )
    first = lr.get(S, {"page_size": 3, "search": "user"}).json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["previous"] is None
    assert "apisecret" not in first["next"] and "search=user" in first["next"]
    seen = [r["uid"] for r in first["results"]]
    next_url = first["next"]
    while next_url:
        page = lr.client.get(next_url, HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw).json()
        assert page["count"] == 7
        seen += [r["uid"] for r in page["results"]]
        next_url = page["next"]
    expected = list(
        Account.objects.filter(tenant=tenant).order_by("-id").values_list("uid", flat=True)
    )
    assert seen == expected


def _accounts_with_roles(tenant, actor, count: int, start: int) -> None:
    for i in range(start, start + count):
        account = services.account_create(
            profile_body.account_create_read(
                {"Email": [{"Type": "Primary", "Value": f"q{i}@example.com"}]}
            ),
            tenant=tenant,
            actor=actor,
        )
        role_services.account_roles_assign(
            AccountRolesAssign(roles=("support",)), tenant=tenant, actor=actor, account=account
        )


def _search_queries(lr) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = lr.get(S, {"search": "example"})
    assert response.status_code == 200
    return len(captured), response.json()


def test_a_page_costs_the_same_queries_whatever_its_length(lr, tenant, actor):
    role_services.roles_create(
        RolesCreate(roles=(RoleInput(name="support"),)), tenant=tenant, actor=actor
    )
    _accounts_with_roles(tenant, actor, 2, 0)
    for _ in range(2):  # the credential and tenant are cached from here on
        lr.get(S, {"search": "example"})
    few, body = _search_queries(lr)
    assert body["count"] == 2 and body["results"][0]["roles"] == ["support"]
    _accounts_with_roles(tenant, actor, 20, 2)
    many, body = _search_queries(lr)
    assert body["count"] == 22 and all(r["roles"] == ["support"] for r in body["results"])
    assert many == few
    # The page and the count; on PostgreSQL the substring is planned for its value (one
    # SET LOCAL); elsewhere one more each for the page's emails, identities and roles.
    assert many <= (3 if connection.vendor == "postgresql" else 5)


# ---------------------------------------------------------------- create

NEW = {
    "username": "dana",
    "first_name": "Dana",
    "last_name": "Scully",
    "emails": [{"value": "dana@example.com", "type": "Primary", "verified": True}],
    "phone": "+14155550123",
    "password": GOOD_PASSWORD,
    "custom_fields": {"plan": "gold"},
    "addresses": [{"type": "home", "city": "Oslo"}],
}


def test_create_answers_201_with_the_resource_location_and_etag(lr, tenant):
    response = lr.post(S, NEW, HTTP_X_REASON="migrated", HTTP_X_TICKET="MIG-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["user_name"], body["first_name"], body["phone_id"]) == (
        "dana",
        "Dana",
        "+14155550123",
    )
    assert body["email"] == [{"type": "Primary", "value": "dana@example.com"}]
    assert body["email_verified"] is True and body["custom_fields"] == {"plan": "gold"}
    assert body["addresses"] == [{"type": "home", "city": "Oslo"}]
    assert "password" not in body
    assert response["Location"].endswith(f"{S}/{body['uid']}")
    fetched = lr.get(f"{S}/{body['uid']}")
    assert fetched.json() == body and fetched["ETag"] == response["ETag"]
    account = Account.objects.get(tenant=tenant, uid=body["uid"])
    assert check_password(GOOD_PASSWORD, account.password)
    [event] = AuditEvent.objects.filter(subject_uid=body["uid"])
    assert (event.action, event.reason, event.ticket) == ("account.created", "migrated", "MIG-1")


def test_create_with_unverified_emails(lr):
    body = lr.post(S, {"emails": [{"value": "u@example.com", "type": "Primary"}]}).json()
    assert body["email_verified"] is False
    assert body["unverified_email"] == [{"type": "Primary", "value": "u@example.com"}]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"first_name": "No identifier"}, {"email": "required"}),
        ({"username": "x", "nickname": "y"}, {"nickname": "unknown"}),
        ({"username": "x", "created_date": "2020-01-01"}, {"created_date": "read_only"}),
        ({"username": "x", "is_login_locked": True}, {"is_login_locked": "read_only"}),
        ({"username": "x", "user_name": "y"}, {"user_name": "invalid"}),
        ({"phone": "not a phone"}, {"phone": "invalid"}),
        ({"emails": [{"value": "not-an-email", "type": "Primary"}]}, {"emails": "invalid"}),
        ({"emails": "a@example.com"}, {"emails": "invalid"}),
        (
            {
                "emails": [
                    {"value": "a@example.com", "type": "Primary", "verified": True},
                    {"value": "b@example.com", "type": "Secondary", "verified": False},
                ]
            },
            {"emails": "invalid"},
        ),
        (
            {"emails": [{"value": "a@example.com", "type": "Primary", "x": 1}]},
            {"emails[0].x": "unknown"},
        ),
        ({"username": "x", "password": "short"}, {"password": "min_length"}),
        ({"username": "x", "first_name": {"a": 1}}, {"first_name": "invalid"}),
    ],
)
def test_invalid_bodies_answer_400_per_field_and_create_nothing(lr, tenant, body, errors):
    before = state(tenant)
    response = lr.post(S, body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    found = field_codes(response.json())
    assert {name: found.get(name) for name in errors} == errors, response.json()
    assert state(tenant) == before


def test_a_body_that_is_not_an_object_answers_400(lr, tenant):
    before = state(tenant)
    problem(lr.post(S, ["username"]), 400, "input.invalid")
    assert state(tenant) == before


def test_a_duplicate_email_answers_409_and_creates_nothing(lr, tenant, population):
    before = state(tenant)
    body = problem(
        lr.post(S, {"emails": [{"value": "BOB@corp.io", "type": "Primary"}]}),
        409,
        "account.email_taken",
    )
    assert field_codes(body) == {"emails": "invalid"}
    problem(lr.post(S, {"username": "KITTY"}), 409, "account.username_taken")
    assert state(tenant) == before


def test_the_same_idempotency_key_replays_and_another_body_is_refused(lr, tenant):
    first = lr.post(S, NEW, HTTP_IDEMPOTENCY_KEY="create-dana")
    again = lr.post(S, NEW, HTTP_IDEMPOTENCY_KEY="create-dana")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert (again["Location"], again["ETag"]) == (first["Location"], first["ETag"])
    assert Account.objects.filter(tenant=tenant).count() == 1
    assert AuditEvent.objects.filter(action="account.created").count() == 1
    before = state(tenant)
    other = {**NEW, "first_name": "Other"}
    problem(lr.post(S, other, HTTP_IDEMPOTENCY_KEY="create-dana"), 422, "idempotency.key_reused")
    assert state(tenant) == before


# ---------------------------------------------------------------- block and unblock


def test_block_and_unblock_answer_the_account_and_record_why(lr, population):
    ann = population["ann"]
    response = lr.post(f"{S}/{ann.uid}/block", {"reason": "chargeback fraud", "ticket": "RISK-9"})
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False and response.json()["uid"] == ann.uid
    assert response["ETag"] == lr.get(f"{S}/{ann.uid}")["ETag"]
    assert Account.objects.get(pk=ann.pk).is_active is False
    event = AuditEvent.objects.get(subject_uid=ann.uid, action="account.blocked")
    assert (event.action, event.reason, event.ticket) == (
        "account.blocked",
        "chargeback fraud",
        "RISK-9",
    )
    response = lr.post(f"{S}/{ann.uid}/unblock", {"reason": "dispute settled"})
    assert response.status_code == 200 and response.json()["is_active"] is True
    event = AuditEvent.objects.get(subject_uid=ann.uid, action="account.unblocked")
    assert (event.action, event.reason, event.ticket) == (
        "account.unblocked",
        "dispute settled",
        "",
    )
    assert AuditEvent.objects.filter(subject_uid=ann.uid, action__contains="block").count() == 2


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "reason", "required"),
        ({"reason": "  "}, "reason", "invalid"),
        ({"reason": 5}, "reason", "invalid"),
        ({"reason": "ok", "ticket": 7}, "ticket", "invalid"),
        ({"reason": "ok", "why": "x"}, "why", "unknown"),
    ],
)
def test_block_needs_a_reason_and_changes_nothing_without_one(
    lr, tenant, population, body, field, code
):
    before = state(tenant)
    response = problem(lr.post(f"{S}/{population['ann'].uid}/block", body), 400, "input.invalid")
    assert field_codes(response) == {field: code}
    assert state(tenant) == before


def test_block_with_a_stale_if_match_answers_412(lr, tenant, population):
    ann = population["ann"]
    stale = lr.get(f"{S}/{ann.uid}")["ETag"]
    lr.post(f"{S}/{ann.uid}/block", {"reason": "first"})
    before = state(tenant)
    problem(
        lr.post(f"{S}/{ann.uid}/unblock", {"reason": "second"}, HTTP_IF_MATCH=stale),
        412,
        "account.version_stale",
    )
    assert state(tenant) == before


# ---------------------------------------------------------------- tenants and scopes


def test_another_tenants_account_is_404_and_untouched(lr_other, tenant, population):
    ann = population["ann"]
    before = state(tenant)
    for response in (
        lr_other.post(f"{S}/{ann.uid}/block", {"reason": "x"}),
        lr_other.post(f"{S}/{ann.uid}/unblock", {"reason": "x"}),
    ):
        problem(response, 404, "account.not_found")
    assert state(tenant) == before


def test_a_credential_without_the_accounts_section_is_refused(tenant, population):
    scoped = LRClient(ApiCredentialFactory(tenant=tenant, scopes=["roles"]))
    before = state(tenant)
    problem(scoped.get(S), 403, "credential.scope_refused")
    problem(scoped.post(S, NEW), 403, "credential.scope_refused")
    problem(
        scoped.post(f"{S}/{population['ann'].uid}/block", {"reason": "x"}),
        403,
        "credential.scope_refused",
    )
    assert state(tenant) == before


# ---------------------------------------------------------------- schema

OPERATIONS = [
    ("get", "/api/v1/accounts", "native_accounts_list"),
    ("post", "/api/v1/accounts", "native_accounts_create"),
    ("post", "/api/v1/accounts/{uid}/block", "native_account_block"),
    ("post", "/api/v1/accounts/{uid}/unblock", "native_account_unblock"),
    ("get", "/api/v1/accounts/{uid}/emails", "native_account_emails_list"),
    ("post", "/api/v1/accounts/{uid}/emails", "native_account_emails_create"),
    ("delete", "/api/v1/accounts/{uid}/emails/{email}", "native_account_email_destroy"),
    ("get", "/api/v1/accounts/{uid}/identities", "native_account_identities_list"),
    ("post", "/api/v1/accounts/{uid}/identities", "native_account_identities_create"),
    (
        "delete",
        "/api/v1/accounts/{uid}/identities/{provider}/{provider_id}",
        "native_account_identity_destroy",
    ),
]


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(("method", "path", "operation_id"), OPERATIONS)
def test_each_operation_is_named_tagged_and_shown_by_example(schema, method, path, operation_id):
    operation = schema["paths"][path][method]
    assert operation["operationId"] == operation_id and operation["tags"]
    success = next(code for code in operation["responses"] if code.startswith("2"))
    content = operation["responses"][success].get("content", {})
    if success != "204":
        assert any("examples" in media for media in content.values()), (method, path)
    if method == "post":
        request = operation["requestBody"]["content"]["application/json"]
        assert "examples" in request, (method, path)
    assert "application/problem+json" in json.dumps(operation["responses"].get("404", {}))

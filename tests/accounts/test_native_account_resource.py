"""`/api/v1/accounts/{uid}`: the account as a native resource (docs/api.md): snake_case
representation with an ETag, JSON merge patch with If-Match, delete, problem details."""

import json

import pytest

from accounts import services
from accounts.api import profile_body
from accounts.models import Account
from portal.models import AuditEvent
from tests.accounts.conftest import GOOD_PASSWORD, state

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def ann(tenant, actor):
    body = {
        "Email": [{"Type": "Primary", "Value": "ann@example.com"}],
        "Password": GOOD_PASSWORD,
        "FirstName": "Ann",
        "MiddleName": "Q",
        "LastName": "Lee",
        "CustomFields": {"plan": "gold", "seats": "4"},
        "Addresses": [{"Type": "home", "City": "Oslo", "PostalCode": "0150"}],
    }
    return services.account_create(
        profile_body.account_create_read(body), tenant=tenant, actor=actor
    )


def path(uid: str) -> str:
    return f"/api/v1/accounts/{uid}"


def patch(lr, uid, body, *, content_type="application/merge-patch+json", **headers):
    return lr.client.patch(
        f"{path(uid)}?apikey={lr.credential.tenant.api_key}",
        json.dumps(body),
        content_type=content_type,
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
        **headers,
    )


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert (body["status"], body["code"]) == (status, code)
    return body


def test_read_gives_snake_case_keys_custom_fields_as_named_and_an_etag(lr, ann):
    response = lr.get(path(ann.uid))
    assert response.status_code == 200
    body = response.json()
    assert body["uid"] == ann.uid
    assert (body["first_name"], body["last_name"]) == ("Ann", "Lee")
    assert body["email"] == [{"type": "Primary", "value": "ann@example.com"}]
    assert body["addresses"][0]["postal_code"] == "0150"
    assert body["custom_fields"] == {"plan": "gold", "seats": "4"}
    assert "password" not in body
    assert all(key == key.lower() for key in body)
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')


def test_merge_patch_sets_clears_and_removes_one_custom_field(lr, ann):
    etag = lr.get(path(ann.uid))["ETag"]
    response = patch(
        lr,
        ann.uid,
        {
            "first_name": "Anna",
            "middle_name": None,
            "custom_fields": {"seats": None, "tier": "2"},
            "addresses": [{"type": "work", "city": "Bergen"}],
        },
        HTTP_IF_MATCH=etag,
        HTTP_X_REASON="legal name change",
        HTTP_X_TICKET="SUP-9",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["first_name"] == "Anna"
    assert body["middle_name"] is None
    assert body["custom_fields"] == {"plan": "gold", "tier": "2"}
    assert body["addresses"] == [{"type": "work", "city": "Bergen"}]
    assert response["ETag"] != etag
    event = AuditEvent.objects.filter(subject_uid=ann.uid, action="account.updated").latest("id")
    assert (event.reason, event.ticket) == ("legal name change", "SUP-9")


def test_plain_json_is_accepted_as_a_merge_patch_too(lr, ann):
    response = patch(lr, ann.uid, {"last_name": "Berg"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["last_name"] == "Berg"


def test_a_stale_if_match_answers_412_and_changes_nothing(lr, ann, tenant):
    stale = lr.get(path(ann.uid))["ETag"]
    assert patch(lr, ann.uid, {"first_name": "First"}).status_code == 200
    before = state(tenant)
    problem(
        patch(lr, ann.uid, {"first_name": "Second"}, HTTP_IF_MATCH=stale),
        412,
        "account.version_stale",
    )
    assert state(tenant) == before
    response = lr.client.delete(
        f"{path(ann.uid)}?apikey={lr.credential.tenant.api_key}",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
        HTTP_IF_MATCH=stale,
    )
    problem(response, 412, "account.version_stale")
    assert Account.objects.filter(pk=ann.pk).exists()


def test_read_only_unknown_and_own_operation_fields_are_refused_with_field_errors(lr, ann, tenant):
    before = state(tenant)
    body = problem(
        patch(
            lr, ann.uid, {"uid": "x", "emial": "a@b.c", "password": "Secret-123", "first_name": "Z"}
        ),
        400,
        "input.invalid",
    )
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("uid", "read_only"),
        ("emial", "unknown"),
        ("password", "read_only"),
    }
    assert state(tenant) == before


def test_an_unknown_query_parameter_answers_400(lr, ann):
    body = problem(lr.get(path(ann.uid), {"emial": "x"}), 400, "input.invalid")
    assert body["errors"] == [
        {
            "field": "emial",
            "message": "This resource has no such query parameter.",
            "code": "unknown",
        }
    ]


def test_another_tenants_account_is_404_and_a_bad_secret_is_a_problem_too(lr_other, lr, ann):
    problem(lr_other.get(path(ann.uid)), 404, "account.not_found")
    response = lr.get(path(ann.uid), HTTP_X_LOGINRADIUS_APISECRET="not-a-guid")
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"].startswith("credential.")


def test_delete_with_the_current_etag_removes_the_account(lr, ann):
    etag = lr.get(path(ann.uid))["ETag"]
    response = lr.client.delete(
        f"{path(ann.uid)}?apikey={lr.credential.tenant.api_key}",
        HTTP_X_LOGINRADIUS_APISECRET=lr.credential.raw,
        HTTP_IF_MATCH=etag,
        HTTP_X_REASON="erasure request",
    )
    assert response.status_code == 204
    assert not Account.objects.filter(pk=ann.pk).exists()
    problem(lr.get(path(ann.uid)), 404, "account.not_found")


def test_a_patch_that_is_not_an_object_is_refused(lr, ann):
    problem(patch(lr, ann.uid, ["first_name"]), 400, "input.invalid")

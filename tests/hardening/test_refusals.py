"""Invalid input the review found accepted: boolean search filters and role permission flags."""

import pytest
from django.urls import reverse

from accounts.filters import AccountFilter
from accounts.models import Account
from portal.models import AuditEvent
from roles.models import Role
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
SEARCH = "/api/v1/accounts"


def assert_1134(response, field):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["ErrorCode"] == 1134
    assert [e["FieldName"] for e in body["Errors"]] == [field]


def assert_refused_naming(response, field):
    """The native search refuses it as a problem naming the field (docs/api.md)."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "input.invalid"
    assert [e["field"] for e in body["errors"]] == [field]


@pytest.mark.parametrize("field", ["verified", "has_mfa", "blocked", "locked"])
@pytest.mark.parametrize("value", ["431", "", "maybe", "truee"])
def test_search_refuses_an_invalid_boolean_filter_naming_it(lr, tenant, field, value):
    AccountFactory(tenant=tenant)
    assert_refused_naming(lr.get(SEARCH, {field: value}), field)


@pytest.mark.parametrize(
    "value,expected",
    [("true", 1), ("True", 1), ("1", 1), ("yes", 1), ("false", 1), ("0", 1), ("no", 1)],
)
def test_search_boolean_filters_accept_the_api_spellings(lr, tenant, value, expected):
    AccountFactory(tenant=tenant, email_verified=value.lower() in ("true", "1", "yes"))
    assert lr.get(SEARCH, {"verified": value}).json()["count"] == expected


def test_filterset_reports_the_field_and_absent_means_no_filter(tenant):
    AccountFactory(tenant=tenant)
    base = Account.objects.filter(tenant=tenant)
    filterset = AccountFilter({"has_mfa": "431"}, queryset=base, tenant=tenant)
    assert not filterset.is_valid() and set(filterset.errors) == {"has_mfa"}
    filterset = AccountFilter({}, queryset=base, tenant=tenant)
    assert filterset.is_valid() and filterset.qs.count() == 1


def test_console_search_shows_a_form_error_for_an_invalid_boolean(
    make_staff, console_client, tenant
):
    AccountFactory(tenant=tenant, first_name="Kim")
    agent = console_client(make_staff("Agent", tenant))
    url = reverse("console:account_search")
    response = agent.post(url, {"q": "Kim", "has_mfa": "431"}, follow=True)
    assert response.status_code == 200
    assert b"431" in response.content and b"accounts found" not in response.content
    # Any (empty) is the console's "no filter".
    response = agent.post(url, {"q": "Kim", "has_mfa": ""})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "permissions", [{"x": {}}, {"x": "true"}, {"x": 1}, {"a": True, "b": None}, {"x": []}]
)
def test_role_create_refuses_non_boolean_permission_values(lr, tenant, permissions):
    before = AuditEvent.objects.count()
    response = lr.post(
        "/identity/v2/manage/role", {"roles": [{"name": "r0", "permissions": permissions}]}
    )
    assert_1134(response, "Permissions")
    assert not Role.objects.filter(tenant=tenant).exists()
    assert AuditEvent.objects.count() == before


def test_role_create_keeps_true_and_drops_false_permissions(lr, tenant):
    response = lr.post(
        "/identity/v2/manage/role",
        {"roles": [{"name": "r0", "permissions": {"a": True, "b": False}}]},
    )
    assert response.status_code == 200, response.content
    assert list(Role.objects.get(tenant=tenant, name="r0").permissions) == ["a"]

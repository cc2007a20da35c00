"""The registries the sections fill (accounts.extensions): the profile's `Roles` and the
search's `has_mfa` and `role` come from the roles and security apps, and the base app
answers as LoginRadius does when a section gives nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import extensions, selectors
from accounts.models import Account
from roles import selectors as role_selectors
from roles import services as role_services
from roles.commands import AccountRolesAssign, RoleInput, RolesCreate
from security import selectors as security_selectors

pytestmark = pytest.mark.django_db

S = "/api/v1/accounts"


@pytest.fixture
def without(request):
    """Drop a registered entry for one test: ("profile", key) or ("filter", name)."""
    kind, name = request.param
    if kind == "profile":
        [field] = [f for f in extensions.profile_fields() if f.key == name]
        extensions.unregister_profile_field(name)
        yield
        extensions.register_profile_field(field)
    else:
        answer = extensions.search_filter(name)
        extensions.unregister_search_filter(name)
        yield
        extensions.register_search_filter(name, answer)


@pytest.fixture
def holder(tenant, actor, make_account):
    account = make_account("holder@example.com")
    role_services.roles_create(
        RolesCreate(roles=[RoleInput("vip", ())]), tenant=tenant, actor=actor
    )
    role_services.account_roles_assign(
        AccountRolesAssign(roles=["vip"]), tenant=tenant, actor=actor, account=account
    )
    return account


def _profile(tenant, account) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as ctx:
        profile = selectors.account_profile(
            account=selectors.account_get(tenant=tenant, uid=account.uid, for_profile=True)
        )
    return profile, len(ctx.captured_queries)


def test_the_sections_register_their_fields_and_filters():
    assert sorted((f.key, f.sql, f.load, f.show) for f in extensions.profile_fields()) == [
        (
            "IsLoginLocked",
            security_selectors.lockout_profile_sql,
            security_selectors.lockout_profile_load,
            security_selectors.lockout_profile_is_locked,
        ),
        (
            "LoginLockedType",
            security_selectors.lockout_profile_sql,
            security_selectors.lockout_profile_load,
            security_selectors.lockout_profile_type,
        ),
        ("Roles", role_selectors.account_role_names_sql, role_selectors.account_role_names, None),
    ]
    assert extensions.search_filter("role") is role_selectors.role_holder_ids
    assert extensions.search_filter("has_mfa") is security_selectors.account_ids_by_mfa
    assert extensions.search_filter("locked") is security_selectors.account_ids_locked


def test_roles_show_in_the_profile_at_their_place(tenant, holder):
    profile, _ = _profile(tenant, holder)
    keys = list(profile)
    assert profile["Roles"] == ["vip"]
    assert keys[keys.index("Roles") - 1 : keys.index("Roles") + 2] == [
        "CustomFields",
        "Roles",
        "PrivacyPolicy",
    ]


@pytest.mark.parametrize("without", [("profile", "Roles")], indirect=True)
def test_without_the_roles_field_the_profile_shows_null_roles_in_one_query_less(
    tenant, holder, without
):
    profile, queries = _profile(tenant, holder)
    assert profile["Roles"] is None
    assert queries == (1 if connection.vendor == "postgresql" else 3)
    assert role_selectors.account_role_names(account=holder) == ["vip"]


def test_a_profile_without_roles_has_the_same_keys_in_the_same_order(tenant, holder, make_account):
    plain = make_account("plain@example.com")
    with_roles, _ = _profile(tenant, holder)
    without_roles, _ = _profile(tenant, plain)
    assert list(with_roles) == list(without_roles) and without_roles["Roles"] is None


def test_a_registered_field_loads_with_the_account(tenant, holder):
    calls = []

    def load(*, account):
        calls.append(account.pk)
        return account.pk

    def sql(*, outer_account_id):
        return f"to_jsonb({outer_account_id})"

    field = extensions.ProfileField(key="Nickname", sql=sql, load=load)
    extensions.register_profile_field(field)
    try:
        extensions.register_profile_field(field)  # again: a no-op
        profile, queries = _profile(tenant, holder)
        plain = selectors.account_profile(account=Account.objects.get(pk=holder.pk))
    finally:
        extensions.unregister_profile_field("Nickname")
    assert list(profile)[-2:] == ["Identities", "Nickname"] and profile["Nickname"] == holder.pk
    assert profile == plain
    if connection.vendor == "postgresql":
        assert queries == 1 and calls == [holder.pk]  # only the row-by-row read asked
    else:
        assert queries == 4 and calls == [holder.pk, holder.pk]
    assert "Nickname" not in _profile(tenant, holder)[0]


def test_a_taken_name_or_a_bad_key_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        extensions.register_search_filter("role", security_selectors.account_ids_by_mfa)
    with pytest.raises(ValueError, match="already registered"):
        extensions.register_profile_field(
            extensions.ProfileField(
                key="Roles", sql=role_selectors.account_role_names_sql, load=len
            )
        )
    for key in ("emails", "identities", "Bad'Key", ""):
        with pytest.raises(ValueError, match="cannot be a profile key"):
            extensions.register_profile_field(extensions.ProfileField(key=key, sql=str, load=len))


def _found(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {r["uid"] for r in response.json()["results"]}


def test_the_registered_filters_answer_the_search(lr, holder, make_account):
    other = make_account("other@example.com")
    assert _found(lr.get(S, {"role": "vip"})) == {holder.uid}
    assert _found(lr.get(S, {"has_mfa": "false"})) == {holder.uid, other.uid}
    assert _found(lr.get(S, {"has_mfa": "true"})) == set()


@pytest.mark.parametrize("without", [("filter", "has_mfa"), ("filter", "role")], indirect=True)
def test_a_filter_no_section_answers_is_refused_not_ignored(lr, holder, without, request):
    name = request.node.callspec.params["without"][1]
    body = lr.get(S, {name: "true"}).json()
    assert body["code"] == "input.invalid"
    assert body["errors"] == [
        {"field": name, "message": "This filter is not available.", "code": "invalid"}
    ]
    # An empty value filters nothing, as with the section there.
    assert _found(lr.get(S, {name: " "} if name == "role" else {"blocked": "false"})) == {
        holder.uid
    }


def test_value_errors_name_their_filters_and_unknown_names_are_refused(lr, holder):
    body = lr.get(S, {"has_mfa": "x", "created_after": "bad", "role": "x" * 101}).json()
    assert [e["field"] for e in body["errors"]] == ["has_mfa", "role", "created_after"]
    body = lr.get(S, {"colour": "red"}).json()
    assert body["errors"] == [
        {
            "field": "colour",
            "message": "This resource has no such query parameter.",
            "code": "unknown",
        }
    ]

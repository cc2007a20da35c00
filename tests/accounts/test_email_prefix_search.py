"""`email_prefix` on the native search: accounts having an email that starts with the
value (any case), with the exact total, within the tenant."""

import pytest

from accounts.models import Account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

S = "/api/v1/accounts"


@pytest.fixture
def people(tenant, other_tenant):
    made = {
        "jane": AccountFactory(tenant=tenant, email="Jane.Doe@example.com"),
        "janet": AccountFactory(tenant=tenant, email="janet@example.org"),
        "under": AccountFactory(tenant=tenant, email="ja_x@example.com"),
        "mid": AccountFactory(tenant=tenant, email="xjane@example.com"),
    }
    AccountFactory(tenant=other_tenant, email="jane.other@example.com")
    return made


def _uids(response):
    assert response.status_code == 200, response.content
    return response.json()["count"], {r["uid"] for r in response.json()["results"]}


def test_prefix_matches_the_start_of_an_email_in_any_case(lr, people):
    count, uids = _uids(lr.get(S, {"email_prefix": "JANE"}))
    assert count == 2 and uids == {people["jane"].uid, people["janet"].uid}


def test_prefix_may_run_into_the_domain(lr, people):
    count, uids = _uids(lr.get(S, {"email_prefix": "jane.doe@exa"}))
    assert count == 1 and uids == {people["jane"].uid}


def test_like_wildcards_in_the_prefix_are_literal(lr, people):
    assert _uids(lr.get(S, {"email_prefix": "ja_"})) == (1, {people["under"].uid})
    assert _uids(lr.get(S, {"email_prefix": "%jane"})) == (0, set())


def test_another_tenants_emails_are_not_searched(lr, people):
    assert _uids(lr.get(S, {"email_prefix": "jane.o"})) == (0, set())


def test_prefix_combines_with_other_filters(lr, people):
    Account.objects.filter(pk=people["janet"].pk).update(is_active=False)
    assert _uids(lr.get(S, {"email_prefix": "jane", "blocked": "true"})) == (
        1,
        {people["janet"].uid},
    )


def test_a_blank_prefix_filters_nothing(lr, people):
    assert _uids(lr.get(S, {"email_prefix": "  "}))[0] == 4


def test_an_overlong_prefix_is_refused(lr, people):
    response = lr.get(S, {"email_prefix": "a" * 255})
    assert response.status_code == 400 and response.json()["code"] == "input.invalid"


@pytest.mark.parametrize(
    "id_list_max", [0, 1, 1000], ids=["subquery", "subquery-just-over", "id-list"]
)
def test_totals_agree_whether_matches_are_listed_first_or_left_to_a_subquery(
    lr, people, monkeypatch, id_list_max
):
    """Few matches are looked up first and listed by primary key, many by a subquery: the
    same accounts and total either way."""
    from accounts import filters

    monkeypatch.setattr(filters, "PREFIX_ID_LIST_MAX", id_list_max)
    count, uids = _uids(lr.get(S, {"email_prefix": "JANE"}))
    assert count == 2 and uids == {people["jane"].uid, people["janet"].uid}

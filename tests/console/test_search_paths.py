"""The console's one search box: an exact identifier opens its account even when other
accounts contain it as a fragment; anything else is matched word by word in the search
column, so every branch has an index."""

import pytest
from django.urls import reverse

from portal.console import selectors
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(make_staff, console_client, tenant):
    return console_client(make_staff("Agent", tenant))


def _uids(tenant, q):
    return set(selectors.account_search(tenant=tenant, query=q).values_list("uid", flat=True))


def test_an_exact_email_lists_only_its_account(tenant):
    ann = AccountFactory(tenant=tenant, email="ann@example.com")
    AccountFactory(tenant=tenant, email="joann@example.com")  # contains "ann@example.com"
    assert _uids(tenant, "ANN@example.com") == {ann.uid}


def test_an_exact_username_or_uid_lists_only_its_account(tenant):
    kim = AccountFactory(tenant=tenant, username="Kim", first_name="Kim")
    AccountFactory(tenant=tenant, first_name="Kimberly")
    assert _uids(tenant, "kim") == {kim.uid}
    assert _uids(tenant, kim.uid) == {kim.uid}


def test_a_phone_in_any_layout_finds_its_account(tenant):
    ann = AccountFactory(tenant=tenant, phone_id="+14155550100")
    assert _uids(tenant, "(415) 555-0100".replace("(", "+1 (")) == {ann.uid}
    assert _uids(tenant, "14155550100") == {ann.uid}


def test_words_match_names_in_any_order_and_as_fragments(tenant):
    ann = AccountFactory(tenant=tenant, first_name="Ann", middle_name="Q", last_name="Leeds")
    AccountFactory(tenant=tenant, first_name="Ann", last_name="Stone")
    assert _uids(tenant, "ann leeds") == {ann.uid}
    assert _uids(tenant, "Leeds Ann") == {ann.uid}
    # (A fragment with a letter beyond f: the other account's random hex UID cannot hold it.)
    assert _uids(tenant, "eeds") == {ann.uid}


def test_a_fragment_of_an_email_lists_every_holder(tenant):
    a = AccountFactory(tenant=tenant, email="sam@corp.io")
    b = AccountFactory(tenant=tenant, email="samantha@corp.io")
    assert _uids(tenant, "@corp.io") == {a.uid, b.uid}


def test_another_tenants_identifier_matches_nothing(tenant, other_tenant):
    theirs = AccountFactory(tenant=other_tenant, email="x@example.com", username="them")
    assert _uids(tenant, "x@example.com") == set()
    assert _uids(tenant, "them") == set()
    assert _uids(tenant, theirs.uid) == set()


def test_the_page_opens_an_exact_hit(agent_client, tenant):
    ann = AccountFactory(tenant=tenant, email="ann@example.com")
    AccountFactory(tenant=tenant, email="joann@example.com")
    posted = agent_client.post(reverse("console:account_search"), {"q": "ann@example.com"})
    assert posted.status_code == 302 and "ann" not in posted["Location"]
    response = agent_client.get(posted["Location"])
    assert response.status_code == 302
    assert response["Location"] == reverse("console:account_detail", args=[tenant.slug, ann.uid])

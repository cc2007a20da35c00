"""The email-prefix search asks PostgreSQL for a plan made for its value: a prepared
statement's generic plan of `LIKE $1` cannot use the prefix index."""

import pytest
from django.db import connection

from accounts import selectors

pytestmark = pytest.mark.django_db


def _plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_only_a_search_that_needs_it_forces_custom_plans():
    with selectors.custom_plans(needed=False):
        assert _plan_cache_mode() == "auto"
    with selectors.custom_plans(needed=True):
        assert _plan_cache_mode() == "force_custom_plan"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_setting_ends_with_the_searchs_own_transaction():
    with selectors.custom_plans():
        assert _plan_cache_mode() == "force_custom_plan"
    assert _plan_cache_mode() == "auto"

"""On PostgreSQL the hot unique-key statements are prepared once per connection (planning
the profile query cost more than running it), and nothing else is: a search's `LIKE`
under a prepared statement's generic plan walked the whole account table."""

import pytest
from django.db import connection

from portal.audit import Actor
from tests.factories import AccountFactory
from tokens.services import sessions

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

A = "/identity/v2/manage/account"


def _prepared() -> list[tuple[str, int]]:
    """(statement, executions planned generically or not) prepared on this connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return cursor.fetchall()


def test_profile_look_ups_and_rotation_are_prepared_and_searches_are_not(lr, tenant):
    assert connection.vendor == "postgresql", "the services pass must use PostgreSQL"
    account = AccountFactory(tenant=tenant, email="prepared@example.com")
    issued = sessions.session_issue(
        tenant=tenant, account=account, actor=Actor.account(account.uid)
    )
    refresh = issued.refresh_token
    for _ in range(3):
        assert lr.get(f"{A}/{account.uid}").status_code == 200
        assert lr.get(A, {"email": "prepared@example.com"}).status_code == 200
        assert lr.get("/api/v1/accounts", {"email_prefix": "prep"}).json()["count"] == 1
        response = lr.get(f"{A}/access_token/refresh", {"refresh_token": refresh})
        assert response.status_code == 200, response.content
        refresh = response.json()["refresh_token"]

    prepared = _prepared()
    by_uid = [n for sql, n in prepared if '"accounts_account"."uid" = $2' in sql]
    assert by_uid == [3]  # one statement, executed three times
    assert any(
        "LOWER(" in sql.upper() and "accounts_accountemail" in sql and n == 3 for sql, n in prepared
    )
    assert any(
        "FOR UPDATE" in sql and "tokens_refreshtoken" in sql and n == 3 for sql, n in prepared
    )
    assert not [sql for sql, _ in prepared if "LIKE" in sql.upper()]
    assert not [
        sql
        for sql, _ in prepared
        if not sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE"))
    ]

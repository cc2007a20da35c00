"""On PostgreSQL psycopg prepares a statement once it has run a few times on a connection
(DB_PREPARE_THRESHOLD), so the hot look-ups and the rotation are planned once (planning the
profile query cost more than running it); the email-prefix and substring searches are planned
for their values every time, since their `LIKE` under a generic plan walked the whole account
table (the primary key backwards, 1.4 s for a substring at 1,000,000 accounts)."""

import pytest
from django.db import connection

from portal.audit import Actor
from tests.factories import AccountFactory
from tokens.commands import SessionIssue
from tokens.services import sessions

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

A = "/identity/v2/manage/account"


def _prepared() -> list[tuple[str, int, int]]:
    """(statement, executions planned generically, executions planned for their values) of
    the statements prepared on this connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return cursor.fetchall()


def test_hot_statements_are_prepared_and_the_prefix_search_keeps_custom_plans(lr, tenant):
    assert connection.vendor == "postgresql", "the services pass must use PostgreSQL"
    account = AccountFactory(tenant=tenant, email="prepared@example.com")
    issued = sessions.session_issue(
        SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
    )
    refresh = issued.refresh_token
    # More runs than PostgreSQL's five custom plans before it weighs the generic one.
    for _ in range(8):
        assert lr.get(f"{A}/{account.uid}").status_code == 200
        assert lr.get(A, {"email": "prepared@example.com"}).status_code == 200
        assert lr.get("/api/v1/accounts", {"email_prefix": "prep"}).json()["count"] == 1
        assert lr.get("/api/v1/accounts", {"search": "repared@"}).json()["count"] == 1
        response = lr.get(f"{A}/access_token/refresh", {"refresh_token": refresh})
        assert response.status_code == 200, response.content
        refresh = response.json()["refresh_token"]

    prepared = _prepared()
    assert [sql for sql, *_ in prepared if '"accounts_account"."uid" = $2' in sql]
    assert any("LOWER(" in sql.upper() and "accounts_accountemail" in sql for sql, *_ in prepared)
    assert any("FOR UPDATE" in sql and "tokens_refreshtoken" in sql for sql, *_ in prepared)
    prefix = [(generic, custom) for sql, generic, custom in prepared if "LIKE" in sql.upper()]
    assert len(prefix) >= 2, "the prefix and substring searches run often enough to be prepared"
    assert all(generic == 0 and custom > 0 for generic, custom in prefix)

"""The header search's typeahead, the result rows that read as people, and the dashboard's
links into the search."""

import logging
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.console import selectors
from portal.console.search_selectors import TYPEAHEAD_LIMIT
from portal.console.tables import CappedCountPaginator
from security.models import OtpFactor, TotpFactor
from tests.factories import AccountFactory, AccountLockoutFactory

pytestmark = pytest.mark.django_db

TYPEAHEAD = reverse("console:account_typeahead")
SEARCH = reverse("console:account_search")


@pytest.fixture
def agent(make_staff, console_client, tenant):
    # These tests are about the search itself: the tenant shows Agents personal data in full
    # (tests/console/test_masking.py covers what masked readers get).
    tenant.settings = {**tenant.settings, "masked_roles": []}
    tenant.save(update_fields=["settings"])
    return console_client(make_staff("Agent", tenant))


def _typeahead(client, q, **extra):
    return client.post(TYPEAHEAD, {"q": q}, HTTP_HX_REQUEST="true", **extra)


def _results_url(client, q: str) -> str:
    """Where a posted search sends the browser: the results, the text kept by a key."""
    posted = client.post(SEARCH, {"q": q})
    assert posted.status_code == 302 and q not in posted["Location"]
    return posted["Location"]


def _results(client, q: str):
    return client.get(_results_url(client, q))


def _account_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if '"accounts_account"' in q["sql"].split(" FROM ", 1)[-1]]


def _row(body: str, marker: str) -> str:
    at = body.index(marker)
    return body[body.rindex("<tr", 0, at) : body.index("</tr>", at)]


def test_typeahead_shows_name_primary_email_statuses_and_last_sign_in(agent, tenant):
    maria = AccountFactory(
        tenant=tenant,
        first_name="Maria",
        last_name="Garcia",
        email="maria.garcia@example.com",
        email_verified=False,
        last_login_date=datetime(2026, 11, 30, 9, 15, tzinfo=UTC),
    )
    AccountLockoutFactory(account=maria)
    AccountFactory(tenant=tenant, first_name="Bob", last_name="Stone", email="bob@example.com")

    response = _typeahead(agent, "maria.gar")

    assert response.status_code == 200
    body = response.content.decode()
    detail = reverse("console:account_detail", args=[tenant.slug, maria.uid])
    assert body.count("data-account") == 1 and f'href="{detail}"' in body
    assert "Maria Garcia" in body and "maria.garcia@example.com" in body
    # Locked and unverified show together; neither hides the other.
    assert 'badge-locked">Locked<' in body and 'badge-unverified">Unverified<' in body
    assert "2026-11-30 09:15" in body
    assert "Bob Stone" not in body
    assert 'role="listbox"' in body and 'role="option"' in body
    assert "1 account matches." in body


def test_typeahead_lists_a_few_and_says_there_are_more(agent, tenant):
    for i in range(TYPEAHEAD_LIMIT + 3):
        AccountFactory(tenant=tenant, first_name="Quinn", last_name=f"Many{i:02d}")

    body = _typeahead(agent, "quinn").content.decode()

    assert body.count("data-account") == TYPEAHEAD_LIMIT
    assert f"More than {TYPEAHEAD_LIMIT} accounts match" in body
    # "All results" posts the box's text with the form: no URL carries it.
    assert f'href="{SEARCH}"' in body and "data-submit-search" in body
    assert "q=quinn" not in body


def test_typeahead_is_one_account_query_with_a_small_limit(agent, tenant):
    for i in range(12):
        account = AccountFactory(tenant=tenant, first_name="Rowan", last_name=f"Q{i}")
        AccountLockoutFactory(account=account)
    _typeahead(agent, "rowan")  # session and staff look-ups warmed up
    with CaptureQueriesContext(connection) as captured:
        response = _typeahead(agent, "rowan")
    assert response.status_code == 200
    # No count; the identifier look-up of the search box (unique indexes), then the list.
    queries = _account_queries(captured.captured_queries)
    assert 1 <= len(queries) <= 2, queries
    assert not any("COUNT(" in sql.upper() for sql in queries)
    assert queries[-1].endswith(f"LIMIT {TYPEAHEAD_LIMIT + 1}")
    assert all(" LIMIT " in sql for sql in queries)


def test_typeahead_never_shows_another_tenants_accounts(agent, tenant, other_tenant):
    AccountFactory(tenant=other_tenant, first_name="Sage", last_name="Elsewhere")
    body = _typeahead(agent, "sage").content.decode()
    assert "Elsewhere" not in body and "data-account" not in body
    assert "No account matches" in body


@pytest.mark.parametrize("q", ["", "a", " ", "x" * 5000, "%_\\'\"<script>", "\x00"])
def test_typeahead_takes_any_text_without_error(agent, tenant, q):
    AccountFactory(tenant=tenant, first_name="Ada", last_name="Lovelace")
    response = _typeahead(agent, q)
    assert response.status_code == 200
    assert "data-account" not in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_typeahead_needs_a_staff_sign_in(client, tenant):
    AccountFactory(tenant=tenant, first_name="Ada", last_name="Lovelace")
    response = client.post(TYPEAHEAD, {"q": "ada"})
    assert response.status_code == 302 and "Lovelace" not in response.content.decode()


def test_typeahead_refuses_staff_who_may_not_see_accounts(make_staff, console_client, tenant):
    AccountFactory(tenant=tenant, first_name="Ada", last_name="Lovelace")
    no_role = console_client(make_staff(None, tenant))
    response = _typeahead(no_role, "ada")
    assert response.status_code == 403 and "Lovelace" not in response.content.decode()
    assert 'id="header-q"' not in no_role.get(reverse("console:dashboard")).content.decode()


def test_header_search_is_on_every_console_page_with_its_shortcut(agent):
    for url in (reverse("console:dashboard"), SEARCH, reverse("console:audit_log")):
        body = agent.get(url).content.decode()
        assert 'id="header-q"' in body and 'aria-keyshortcuts="/"' in body, url
        assert f'hx-post="{TYPEAHEAD}"' in body, url
        assert f'<form method="post" action="{SEARCH}" data-header-search>' in body, url
        assert "console/search.js" in body, url


def test_result_rows_read_as_people(agent, tenant):
    ann = AccountFactory(
        tenant=tenant,
        first_name="Ann",
        last_name="Rowe",
        email="ann.rowe@example.com",
        is_active=False,
        email_verified=False,
        last_login_date=datetime(2026, 12, 1, 8, 5, tzinfo=UTC),
    )
    AccountLockoutFactory(account=ann)
    TotpFactor.objects.create(tenant=tenant, account=ann, secret_encrypted="x", confirmed=True)
    OtpFactor.objects.create(
        tenant=tenant, account=ann, channel="sms", destination="+15550000", confirmed=True
    )
    AccountFactory(tenant=tenant, first_name="Ann", last_name="Other", email_verified=True)

    body = _results(agent, "ann").content.decode()

    detail = reverse("console:account_detail", args=[tenant.slug, ann.uid])
    row = _row(body, f'href="{detail}"')
    # The name is the row's link and comes first.
    assert f'<a href="{detail}" class="row-link">Ann Rowe</a>' in row
    assert row.index("Ann Rowe") < row.index("ann.rowe@example.com")
    # Blocked, locked and unverified side by side.
    for badge in ("Blocked", "Locked", "Unverified"):
        assert f">{badge}</span>" in row, badge
    assert "App, SMS" in row
    assert "2026-12-01 08:05" in row
    # The UID shortened, the full value behind the copy button.
    assert f">{ann.uid[:8]}…</code>" in row
    assert f'data-copy="uid-{ann.pk}"' in row and f">{ann.uid}</span>" in row
    other_row = _row(body, "Ann Other")
    assert 'badge-ok">Active<' in other_row and ">none<" in other_row and ">never<" in other_row


def test_result_page_query_count_does_not_grow_with_rows(
    agent, tenant, django_assert_max_num_queries
):
    def make(n, start):
        for i in range(start, start + n):
            account = AccountFactory(tenant=tenant, first_name="Kai", last_name=f"Row{i}")
            AccountLockoutFactory(account=account)
            TotpFactor.objects.create(
                tenant=tenant, account=account, secret_encrypted="x", confirmed=True
            )

    make(3, 0)
    results = _results_url(agent, "kai")
    agent.get(results)
    with CaptureQueriesContext(connection) as few:
        assert b"<strong>3</strong> accounts found" in agent.get(results).content
    make(22, 3)
    with CaptureQueriesContext(connection) as many:
        assert b"<strong>25</strong> accounts found" in agent.get(results).content
    # A full first page adds the count; nothing grows with the rows.
    assert len(many.captured_queries) == len(few.captured_queries) + 1
    # The identifier look-up, the page and the count: emails, factors and lock come with it.
    assert len(_account_queries(many.captured_queries)) == 3
    assert len(_account_queries(few.captured_queries)) == 2


def _counts(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]


def test_a_first_page_with_room_left_is_its_own_count(agent, tenant):
    """Fewer matches than a page holds: the page's rows are the total, read without a
    second scan; a full first page, and any later page, still count."""
    for i in range(4):
        AccountFactory(tenant=tenant, first_name="Noa", last_name=f"Few{i}")
    results = _results_url(agent, "few")
    with CaptureQueriesContext(connection) as captured:
        body = agent.get(results).content.decode()
    assert "<strong>4</strong> accounts found" in body and body.count('class="row-link"') == 4
    assert _counts(captured) == []
    for i in range(4, 25):
        AccountFactory(tenant=tenant, first_name="Noa", last_name=f"Few{i}")
    with CaptureQueriesContext(connection) as captured:
        body = agent.get(results).content.decode()
    assert "<strong>25</strong> accounts found" in body and len(_counts(captured)) == 1
    AccountFactory(tenant=tenant, first_name="Noa", last_name="Few25")
    with CaptureQueriesContext(connection) as captured:
        body = agent.get(f"{results}&page=2").content.decode()
    assert "<strong>26</strong> accounts found" in body and body.count('class="row-link"') == 1
    assert len(_counts(captured)) == 1


def test_a_large_result_says_more_than_instead_of_counting_every_match(agent, tenant, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "count_cap", 6)
    for i in range(8):
        AccountFactory(tenant=tenant, first_name="Lee", last_name=f"Crowd{i}")
    results = _results_url(agent, "crowd")
    with CaptureQueriesContext(connection) as captured:
        body = agent.get(results).content.decode()
    assert "More than <strong>6</strong> accounts found" in body
    assert body.count('class="row-link"') == 6  # the first page of the capped total
    (counting,) = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert "LIMIT 7" in counting
    # Up to the cap, the exact total.
    monkeypatch.setattr(CappedCountPaginator, "count_cap", 8)
    body = agent.get(results).content.decode()
    assert "<strong>8</strong> accounts found" in body and "More than" not in body


def test_a_date_range_error_is_named_by_its_field(agent, tenant):
    body = agent.get(SEARCH, {"created_from": "2026-05-02", "created_to": "2026-05-01"}).content
    body = body.decode()
    assert 'aria-describedby="created-to-error"' in body and 'aria-invalid="true"' in body
    assert 'id="created-to-error"' in body and "before its start" in body


def test_dashboard_cards_open_the_search_they_count(agent, tenant):
    locked = [AccountLockoutFactory(account__tenant=tenant).account for _ in range(3)]
    AccountFactory(tenant=tenant, is_active=False, first_name="Blocked", last_name="One")
    AccountFactory(tenant=tenant)

    body = agent.get(reverse("console:dashboard")).content.decode()

    locked_link = f'href="{SEARCH}?locked=yes"'
    assert locked_link in body
    card = body[body.index(locked_link) :]
    assert '<p class="stat">3</p>' in card[: card.index("</a>")]
    assert f'href="{SEARCH}?blocked=yes"' in body
    listed = agent.get(SEARCH, {"locked": "yes"}).content.decode()
    assert "<strong>3</strong> accounts found" in listed
    for account in locked:
        assert reverse("console:account_detail", args=[tenant.slug, account.uid]) in listed


def test_a_chart_with_one_bar_keeps_a_bar_shape():
    chart = selectors.bar_chart("Deliveries", [("sent", 4)], width=400)
    (bar,) = chart.bars
    assert bar.width <= selectors.MAX_BAR_SLOT and bar.height > 0
    many = selectors.bar_chart("Days", [(str(i), i) for i in range(14)], width=640)
    assert many.bars[-1].x + many.bars[-1].width <= 640


def test_search_terms_reach_no_log_line(agent, tenant, caplog):
    AccountFactory(tenant=tenant, first_name="Imogen", last_name="Quartz")
    with caplog.at_level(logging.INFO):
        _typeahead(agent, "imogen.quartz")
        results = _results_url(agent, "imogen.quartz")
        agent.get(results)
    access_lines = [r.getMessage() for r in caplog.records if r.name == "portal.access"]
    assert len(access_lines) == 3
    assert not any("imogen" in r.getMessage().lower() for r in caplog.records)


def test_moving_the_text_out_of_the_url_loads_no_role_or_tenant(agent, client):
    """A posted search or an old `?q=` link only stores the text and redirects; the results
    page it lands on checks the role and tenant. Signed out, it is the sign-in page."""
    with CaptureQueriesContext(connection) as captured:
        moved = agent.get(SEARCH, {"q": "ann"})
    assert (
        moved.status_code == 302 and "?s=" in moved["Location"] and "ann" not in moved["Location"]
    )
    assert moved["Content-Security-Policy"]
    read = " ".join(q["sql"] for q in captured.captured_queries)
    assert "guardian_" not in read and "auth_group" not in read and "portal_tenant" not in read
    # Nor the user and their device: the session says it was signed in with both factors.
    assert "auth_user" not in read and "stafftotpdevice" not in read
    for response in (client.get(SEARCH, {"q": "ann"}), client.post(SEARCH, {"q": "ann"})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("console:login"))
    assert "_auth_user_id" not in client.session


def test_a_session_without_its_second_factor_keeps_no_search_text(make_staff, tenant, client):
    """Signed in with the password alone, a search is not stored: the console's own checks
    answer it, as any page (to the second factor's step)."""
    client.force_login(make_staff("Agent", tenant))
    response = client.get(SEARCH, {"q": "ann"})
    assert response.status_code == 302 and "?s=" not in response["Location"]

"""bench/console_profile.py: console views served in one process with a signed-in session,
redirects followed, timed, and one view's statements listed."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from bench import console_profile
from bench.seed import console_session
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection_kept():
    """The test's transaction survives the handler's requests, as Django's test client keeps
    it: a served request otherwise closes the connection at its start and end."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_profile_times_whole_views_and_lists_one_views_statements(tenant, connection_kept):
    accounts = AccountFactory.create_batch(3, tenant=tenant, last_name="Profiled")
    views = console_profile.ConsoleViews(console_session(tenant))
    paths = [f"/console/accounts/{tenant.slug}/{account.uid}/" for account in accounts]
    result = console_profile.profile(views, paths, 4)
    assert result.views == 4 and result.cpu_ms > 0 and result.wall_ms > 0
    assert result.queries == len(result.statements) >= 5
    assert any('"accounts_account"' in sql for _, sql in result.statements)
    # A search's text link goes through its redirect to the results page, as the bench's.
    body = views.view("/console/accounts/?q=profiled")
    assert b'id="results"' in body and b"<strong>3</strong> accounts found" in body
    with pytest.raises(RuntimeError, match="404"):
        views.view(f"/console/accounts/{tenant.slug}/no-such-uid/")


def test_the_search_paths_split_into_names_and_emails():
    state = {"accounts": 1000}
    names = console_profile.paths_of("names", state=state, slug="bench")
    emails = console_profile.paths_of("emails", state=state, slug="bench")
    every = console_profile.paths_of("search", state=state, slug="bench")
    assert len(names) + len(emails) == len(every)
    assert all("%40" not in path and "user" not in path for path in names)
    assert all("user" in path for path in emails)
    assert console_profile.paths_of("account", state=state, slug="bench")[0].startswith(
        "/console/accounts/bench/"
    )

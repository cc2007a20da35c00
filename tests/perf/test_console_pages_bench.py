"""bench/console_pages.py: its agents drive real console sessions against a live server and
time whole pages (redirects followed), and its table reports the percentiles and the target."""

import os
import subprocess
import sys

import pytest

from bench import console_pages
from bench.seed import console_session
from tests.factories import AccountFactory, TenantFactory


def test_percentiles_and_the_table_say_whether_the_target_is_met():
    fast = console_pages.Page("Fast page", [], markers=("x",))
    fast.times_ms = [float(ms) for ms in range(1, 101)]  # 1..100 ms
    slow = console_pages.Page("Slow page", [], markers=("x",))
    slow.times_ms = [200.0] * 20
    slow.errors = {"500": 1}
    assert console_pages.percentile(sorted(fast.times_ms), 95) == 95.0
    table = console_pages.table([fast, slow], accounts=1000, agents=8, duration=10, workers=4)
    assert (
        "| Fast page | 100 | 0 | 10.0 | 50.5 | 95.0 | 99.0 | 100.0 | <= 150 ms: met | n/a |"
        in table
    )
    assert "| Slow page | 20 | 1 |" in table and "NOT met" in table
    slow.cpu_seconds = {"gunicorn": 0.5, "PostgreSQL": 0.1}
    table = console_pages.table([slow], accounts=1000, agents=8, duration=10, workers=4)
    assert "<= 150 ms: NOT met | 25.0 + 5.0 ms |" in table
    assert 'Slow page errors: {"500": 1}' in table
    assert table.startswith("Console pages at 1,000 accounts: 8 agents")


@pytest.mark.django_db(transaction=True)
def test_agents_time_the_account_page_with_their_own_sessions(live_server, settings):
    settings.SESSION_COOKIE_SECURE = False
    tenant = TenantFactory(name="Bench", slug="bench-pages")
    accounts = [AccountFactory(tenant=tenant) for _ in range(3)]
    cookies = [console_session(tenant) for _ in range(2)]
    assert len(set(cookies)) == 2
    page = console_pages.Page(
        "Account page",
        [f"/console/accounts/{tenant.slug}/{a.uid}/" for a in accounts],
        markers=('id="account-uid"',),
    )
    console_pages.drive(live_server.url, page, cookies, 1.5, record=True)
    assert page.errors == {} and len(page.times_ms) >= 2
    # A session that is not signed in gets the sign-in page: counted as an error.
    signed_out = console_pages.Page("Signed out", page.paths, markers=('id="account-uid"',))
    console_pages.drive(live_server.url, signed_out, ["sessionid=nobody"], 0.5, record=True)
    assert signed_out.times_ms == [] and sum(signed_out.errors.values()) >= 1


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")
def test_the_cpu_snapshot_counts_the_server_and_its_workers():
    """A server's CPU is its own and its direct children's (gunicorn's master and workers)."""
    burn = (
        "import sys, time\n"
        "sys.stdin.readline()\n"
        "end = time.process_time() + 0.4\n"
        "while time.process_time() < end: pass\n"
        "print('burnt', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", burn], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        before = console_pages.cpu_snapshot(os.getpid())
        worker.stdin.write("go\n")
        worker.stdin.flush()
        assert worker.stdout.readline().strip() == "burnt"
        after = console_pages.cpu_snapshot(os.getpid())
    finally:
        worker.kill()
        worker.wait()
    assert after["gunicorn"] - before["gunicorn"] >= 0.35
    # Every postgres process's CPU, summed: a connection that closes between the two
    # readings (another test's, on a shared server) takes its share with it.
    assert after["PostgreSQL"] >= 0 and before["PostgreSQL"] >= 0

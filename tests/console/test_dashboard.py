import pytest
from django.urls import reverse

from portal.console import selectors
from portal.models import AuditEvent
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_dashboard_charts_count_this_tenant_only(make_staff, console_client, tenant, other_tenant):
    for _ in range(3):
        AccountFactory(tenant=tenant)
    AccountFactory(tenant=other_tenant)
    AuditEvent.objects.create(
        tenant=tenant, action="account.locked", actor_type="system", subject_uid="x"
    )
    AuditEvent.objects.create(
        tenant=tenant, action="account.unlocked", actor_type="system", subject_uid="x"
    )
    AuditEvent.objects.create(
        tenant=other_tenant, action="account.locked", actor_type="system", subject_uid="y"
    )
    signups = selectors.signups_per_day(tenant=tenant)
    assert len(signups) == 14 and signups[-1][1] == 3 and sum(v for _, v in signups) == 3
    assert sum(v for _, v in selectors.lockouts_per_day(tenant=tenant)) == 1
    response = make_and_get(make_staff, console_client, tenant)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sign-ups per day" in body and "<svg" in body and 'class="bar"' in body
    assert "Lockouts per day" in body


def make_and_get(make_staff, console_client, tenant):
    return console_client(make_staff("Viewer", tenant)).get(reverse("console:dashboard"))


def test_empty_dashboard_says_so(make_staff, console_client, tenant):
    body = make_and_get(make_staff, console_client, tenant).content.decode()
    assert "No sign-ups in the last 14 days." in body and "No lockouts in the last 14 days." in body


def test_bar_chart_geometry_scales_to_the_largest_value():
    chart = selectors.bar_chart("t", [("a", 0), ("b", 5), ("c", 10)], width=300, height=140)
    tallest = chart.bars[2]
    assert tallest.height == 100 and tallest.y == 16
    assert chart.bars[1].height == 50 and chart.bars[0].height == 0
    assert chart.total == 15 and not chart.is_empty


def test_deliveries_and_active_sessions_come_from_the_tokens_models(tenant, other_tenant):
    from datetime import timedelta

    from django.utils import timezone

    from tokens.models import OutboxMessage, TokenFamily

    for status in ("sent", "sent", "failed"):
        OutboxMessage.objects.create(
            tenant=tenant, channel="email", template="t", recipient="a@example.com", status=status
        )
    OutboxMessage.objects.create(
        tenant=other_tenant, channel="email", template="t", recipient="b@example.com", status="sent"
    )
    assert dict(selectors.deliveries_by_status(tenant=tenant)) == {"failed": 1, "sent": 2}
    account = AccountFactory(tenant=tenant)
    later = timezone.now() + timedelta(days=1)
    TokenFamily.objects.create(tenant=tenant, account=account, expires_at=later)
    TokenFamily.objects.create(
        tenant=tenant, account=account, expires_at=later, revoked_at=timezone.now()
    )
    TokenFamily.objects.create(
        tenant=tenant, account=account, expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert selectors.active_sessions_count(tenant=tenant) == 1


# --- the account figures: a kept aggregate shown "as of", refreshed in the background ------


def dashboard_body(client) -> str:
    response = client.get(reverse("console:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def accounts_card(body: str) -> str:
    start = body.index("<small>Accounts</small>")
    return body[start : body.index("</article>", start)]


def test_the_account_total_is_kept_and_labelled_with_its_time(
    make_staff, console_client, tenant, django_assert_max_num_queries
):
    from datetime import timedelta

    from celery import current_app
    from django.core.cache import cache
    from django.utils import timezone
    from freezegun import freeze_time

    from portal.console import dashboard_stats

    for _ in range(3):
        AccountFactory(tenant=tenant)
    client = console_client(make_staff("Viewer", tenant))
    start = timezone.now()
    with freeze_time(start):
        first = accounts_card(dashboard_body(client))
    assert '<p class="stat">3</p>' in first and "as of" in first
    assert f"{start:%H:%M} UTC" in first
    AccountFactory(tenant=tenant)
    # Still fresh: the kept figure, without counting the accounts again.
    with freeze_time(start + timedelta(seconds=dashboard_stats.STATS_FRESH_SECONDS - 5)):
        assert '<p class="stat">3</p>' in accounts_card(dashboard_body(client))
    # Stale: shown once more while the refresh runs (inline here, a worker in production).
    later = start + timedelta(seconds=dashboard_stats.STATS_FRESH_SECONDS + 5)
    with freeze_time(later):
        assert '<p class="stat">3</p>' in accounts_card(dashboard_body(client))
        if not current_app.conf.task_always_eager:
            # With a broker the queued refresh is a worker's: run it as the worker would.
            assert cache.get(dashboard_stats.refresh_lock_key(tenant.pk)) == 1
            dashboard_stats.console_account_stats_refresh_task(tenant.pk)
        refreshed = accounts_card(dashboard_body(client))
    assert '<p class="stat">4</p>' in refreshed and f"{later:%H:%M} UTC" in refreshed


def test_a_refresh_runs_once_while_one_is_under_way(tenant):
    from datetime import timedelta

    from django.core.cache import cache
    from django.utils import timezone
    from freezegun import freeze_time

    from portal.console import dashboard_stats

    AccountFactory(tenant=tenant)
    dashboard_stats.account_stats_compute(tenant=tenant)
    AccountFactory(tenant=tenant)
    cache.add(
        dashboard_stats.refresh_lock_key(tenant.pk), 1, 3600
    )  # another refresh holds the lock
    with freeze_time(timezone.now() + timedelta(seconds=dashboard_stats.STATS_FRESH_SECONDS + 1)):
        assert dashboard_stats.account_stats(tenant=tenant).total == 1
        assert dashboard_stats.account_stats(tenant=tenant).total == 1
    dashboard_stats.console_account_stats_refresh_task(tenant.pk)
    assert dashboard_stats.account_stats(tenant=tenant).total == 2
    assert cache.get(dashboard_stats.refresh_lock_key(tenant.pk)) is None


def test_sign_ups_per_day_count_the_window_of_this_tenant_only(tenant, other_tenant):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Account
    from portal.console import dashboard_stats

    now = timezone.now()
    for age in (0, 0, 3, 13, 14, 40):
        account = AccountFactory(tenant=tenant)
        Account.objects.filter(pk=account.pk).update(created=now - timedelta(days=age))
    AccountFactory(tenant=other_tenant)
    days = dashboard_stats.signups_by_day(tenant=tenant)
    assert len(days) == 14 and days[-1] == (now.date(), 2)
    assert dict(days)[(now - timedelta(days=3)).date()] == 1
    assert days[0] == ((now - timedelta(days=13)).date(), 1)
    assert sum(n for _, n in days) == 4
    stats = dashboard_stats.account_stats_compute(tenant=tenant)
    assert stats.total == 6 and stats.signups == days


def test_the_lockouts_card_opens_the_search_of_locked_accounts(make_staff, console_client, tenant):
    from portal.audit import Actor
    from security.commands import AccountLock
    from security.services import account_lock

    locked = AccountFactory(tenant=tenant, first_name="Lou", last_name="Locked")
    AccountFactory(tenant=tenant, first_name="Free", last_name="Person")
    account_lock(
        AccountLock(reason="Suspicious sign-ins"),
        tenant=tenant,
        actor=Actor.system("t"),
        account=locked,
    )
    client = console_client(make_staff("Agent", tenant))
    body = dashboard_body(client)
    start = body.index("<small>Lockouts now</small>")
    card = body[body.rindex("<a ", 0, start) : start]
    href = card.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "locked=yes" in href
    assert '<p class="stat">1</p>' in body[start : body.index("</a>", start)]
    results = client.get(href).content.decode()
    assert locked.uid in results and "1</strong> account found" in results


def test_a_chart_of_one_day_draws_one_narrow_bar():
    chart = selectors.bar_chart("t", [("07 Dec", 5)])
    [bar] = chart.bars
    assert bar.width <= selectors.MAX_BAR_SLOT and bar.height == 140 and chart.total == 5


def test_the_dashboard_links_to_time_boxed_access(tenant, make_staff, console_client):
    from django.urls import reverse

    page = console_client(make_staff("Agent", tenant)).get(reverse("console:dashboard"))
    assert f'href="{reverse("console:access_grants")}"'.encode() in page.content

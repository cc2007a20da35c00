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

"""The dashboard's account figures: the exact total and the sign-ups per day.

Both count every account of the tenant created in a window, which at a million accounts
costs most of a second per page load. They are kept as one cached aggregate, shown with its
"as of" time: fresh for STATS_FRESH_SECONDS, then served stale while a Celery task counts
again in the background (one refresh at a time per tenant). Only the first load of a tenant
with no aggregate at all counts inline.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from celery import shared_task
from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Account
from portal.models import Tenant

logger = logging.getLogger("portal.console")

STATS_FRESH_SECONDS = 300
# A stale aggregate is still shown (with its time) while a refresh runs.
STATS_KEEP_SECONDS = 24 * 3600
# How long one refresh may run before another may start.
REFRESH_LOCK_SECONDS = 120
SIGNUP_DAYS = 14


@dataclass(frozen=True)
class AccountStats:
    total: int
    # (day, sign-ups) for the SIGNUP_DAYS days up to `as_of`, oldest first.
    signups: list[tuple[date, int]]
    as_of: datetime

    @property
    def is_fresh(self) -> bool:
        return (timezone.now() - self.as_of).total_seconds() < STATS_FRESH_SECONDS


def _key(tenant_id: int) -> str:
    return f"console:account-stats:{tenant_id}"


def refresh_lock_key(tenant_id: int) -> str:
    return f"console:account-stats-refresh:{tenant_id}"


def signups_by_day(*, tenant: Tenant, days: int = SIGNUP_DAYS) -> list[tuple[date, int]]:
    """Accounts created per UTC day over the last `days` days. The window is a range on
    `created` (the (tenant, created) index walks it), not a date of each row."""
    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    since = datetime.combine(start, time.min, tzinfo=timezone.get_current_timezone())
    rows = (
        Account.objects.filter(tenant=tenant, created__gte=since)
        .annotate(day=TruncDate("created"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["day"]: row["n"] for row in rows}
    return [
        (start + timedelta(days=i), counts.get(start + timedelta(days=i), 0)) for i in range(days)
    ]


def account_stats_compute(*, tenant: Tenant) -> AccountStats:
    """Count now and keep the result for the dashboard."""
    as_of = timezone.now()
    stats = AccountStats(
        total=Account.objects.filter(tenant=tenant).count(),
        signups=signups_by_day(tenant=tenant),
        as_of=as_of,
    )
    try:
        cache.set(
            _key(tenant.pk),
            {"total": stats.total, "signups": stats.signups, "as_of": as_of},
            STATS_KEEP_SECONDS,
        )
    except Exception:  # a cache outage costs the next load a count, not this page
        logger.warning("dashboard figures could not be kept in the cache", exc_info=True)
    return stats


# Registered with the worker through portal.tasks, which re-exports it.
@shared_task(name="portal.console_account_stats_refresh", ignore_result=True)
def console_account_stats_refresh_task(tenant_id: int) -> None:
    """The background refresh: count one tenant's accounts again."""
    try:
        tenant = Tenant.objects.filter(pk=tenant_id).first()
        if tenant is not None:
            account_stats_compute(tenant=tenant)
    finally:
        cache.delete(refresh_lock_key(tenant_id))


def _cached(tenant_id: int) -> AccountStats | None:
    try:
        value = cache.get(_key(tenant_id))
    except Exception:  # a cache outage costs a count, not the page
        logger.warning("dashboard figures could not be read from the cache", exc_info=True)
        return None
    if not isinstance(value, dict):
        return None
    return AccountStats(
        total=value["total"], signups=[tuple(p) for p in value["signups"]], as_of=value["as_of"]
    )


def account_stats(*, tenant: Tenant) -> AccountStats:
    """The tenant's account figures: the kept aggregate (a refresh is queued once it is older
    than STATS_FRESH_SECONDS), or counted now when there is none."""
    stats = _cached(tenant.pk)
    if stats is None:
        return account_stats_compute(tenant=tenant)
    if not stats.is_fresh and cache.add(refresh_lock_key(tenant.pk), 1, REFRESH_LOCK_SECONDS):
        try:
            console_account_stats_refresh_task.delay(tenant.pk)
        except Exception:  # no broker: the stale figures stay, with their time
            cache.delete(refresh_lock_key(tenant.pk))
            logger.warning("dashboard figures refresh could not be queued", exc_info=True)
    return stats

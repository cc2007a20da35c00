"""Sending limits: a per-destination cooldown and per-tenant daily caps, both counted in
the database inside the caller's transaction, so a rolled-back request neither sends nor
counts. An exhausted limit raises SendCooldownActive / DailyCapReached (for SMS, their Sms
kinds) with `retry_after`."""

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from portal import events
from portal.models import Tenant
from tokens.errors import (
    DailyCapReached,
    SendCooldownActive,
    SmsDailyCapReached,
    SmsSendCooldownActive,
)
from tokens.models import DailySendCount, OutboxMessage, SendCooldown

__all__ = ["daily_cap_take", "send_cooldown_take"]


@events.upkeep
def send_cooldown_take(*, tenant: Tenant, channel: str, destination: str) -> None:
    """Claim the destination's cooldown slot, or raise SendCooldownActive with `retry_after`.

    A conditional UPDATE takes the slot only if the last use is old enough; concurrent
    requests for one destination serialize on its row, so exactly one of them wins."""
    seconds = int(tenant.setting("send_cooldown_seconds"))
    if seconds <= 0:
        return
    now = timezone.now()
    rows = SendCooldown.objects.filter(tenant=tenant, channel=channel, destination=destination)
    if rows.filter(last_at__lte=now - timedelta(seconds=seconds)).update(last_at=now):
        return
    try:
        with transaction.atomic():
            SendCooldown.objects.create(
                tenant=tenant, channel=channel, destination=destination, last_at=now
            )
        return
    except IntegrityError:
        pass
    last = rows.values_list("last_at", flat=True).first() or now
    remaining = (last + timedelta(seconds=seconds) - now).total_seconds()
    cooldown = SmsSendCooldownActive if channel == OutboxMessage.CHANNEL_SMS else SendCooldownActive
    raise cooldown(retry_after=remaining + 0.999)


@events.upkeep
def daily_cap_take(*, tenant: Tenant, channel: str) -> None:
    """Count one message against the tenant's daily cap of the channel, or raise DailyCapReached."""
    cap = int(
        tenant.setting(
            "daily_sms_cap" if channel == OutboxMessage.CHANNEL_SMS else "daily_email_cap"
        )
    )
    now = timezone.now()
    day = now.astimezone(UTC).date()
    rows = DailySendCount.objects.filter(tenant=tenant, channel=channel, day=day)
    for _ in range(2):
        if rows.filter(count__lt=cap).update(count=F("count") + 1):
            return
        if rows.exists():
            break
        if cap <= 0:
            break
        try:
            with transaction.atomic():
                DailySendCount.objects.create(tenant=tenant, channel=channel, day=day, count=1)
            return
        except IntegrityError:
            continue  # created concurrently: count against it
    midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    capped = SmsDailyCapReached if channel == OutboxMessage.CHANNEL_SMS else DailyCapReached
    raise capped(retry_after=(midnight - now).total_seconds() + 0.999)

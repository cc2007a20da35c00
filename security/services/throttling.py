"""Throttling of verifiers (TOTP, backup codes, one-time codes, security answers, passwords).

Every verifier runs through `throttled_verify`, which locks the verifier's throttle row of
the account, refuses any attempt during the delay that follows a failure (the delay doubles
with each consecutive failure), and counts every refused attempt, so parallel guesses are
serialised and each one is counted.
"""

from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Account
from portal import events
from security.models import VerifierThrottle

THROTTLE_MAX_DELAY_SECONDS = 15 * 60


@events.reads
def throttle_delay_seconds(failure_count: int) -> int:
    """The wait after `failure_count` consecutive failures: 0, 1, 2, 4, ... capped."""
    if failure_count <= 0:
        return 0
    return min(2 ** (failure_count - 1), THROTTLE_MAX_DELAY_SECONDS)


def _throttle_row(*, account: Account, verifier: str) -> VerifierThrottle:
    """The verifier's throttle row, locked until the caller's transaction ends."""
    try:
        with transaction.atomic():
            VerifierThrottle.objects.get_or_create(
                account=account, verifier=verifier, defaults={"tenant_id": account.tenant_id}
            )
    except IntegrityError:  # created by a parallel attempt
        pass
    return VerifierThrottle.objects.select_for_update().get(account=account, verifier=verifier)


@events.upkeep
def throttled_verify(*, account: Account, verifier: str, check: Callable[[], bool]) -> bool:
    """Run `check` (which may consume what it matched) unless the verifier is throttled.

    A refused attempt (wrong, or made during the delay) adds one failure; an accepted one
    clears the count. The row lock makes check-and-count atomic under concurrency.
    """
    with transaction.atomic():
        row = _throttle_row(account=account, verifier=verifier)
        now = timezone.now()
        waiting = row.last_failure_at is not None and now < row.last_failure_at + timedelta(
            seconds=throttle_delay_seconds(row.failure_count)
        )
        if not waiting and check():
            if row.failure_count:
                VerifierThrottle.objects.filter(pk=row.pk).update(
                    failure_count=0, last_failure_at=None
                )
            return True
        VerifierThrottle.objects.filter(pk=row.pk).update(
            failure_count=F("failure_count") + 1, last_failure_at=now
        )
        return False


@events.upkeep
def verifier_throttle_clear(*, account: Account, verifier: str | None = None) -> None:
    """Forget failures (after an admin reset of the factor)."""
    rows = VerifierThrottle.objects.filter(account=account)
    if verifier:
        rows = rows.filter(verifier=verifier)
    rows.update(failure_count=0, last_failure_at=None)

"""`signin.failed`: one event per refused sign-in, recorded where the refusal is decided.

A refused sign-in changes nothing, so its event must not depend on a transaction the
refusal rolls back: it is written in its own. Under a credential-stuffing flood an account
(or an unknown identifier) from one address gets at most FAILURES_RECORDED_PER_WINDOW events
per window; the rest are counted in the metrics only (portal.metrics.sign_in_failed).
"""

import logging

from django.core.cache import cache
from django.db import transaction

from portal import audit, context, events, metrics
from portal.audit import Actor
from portal.models import Tenant

logger = logging.getLogger("security.signin")

FAILURES_RECORDED_PER_WINDOW = 20
FAILURE_WINDOW_SECONDS = 300


def _within_cap(*, tenant: Tenant, uid: str, ip: str | None) -> bool:
    key = f"signin-failed:{tenant.pk}:{uid or '-'}:{ip or '-'}"
    try:
        cache.add(key, 0, FAILURE_WINDOW_SECONDS)
        return cache.incr(key) <= FAILURES_RECORDED_PER_WINDOW
    except Exception:  # a cache outage must not hide failures: record them all
        return True


@events.flow("signin.failed", proof=True)
def signin_failure_record(*, tenant: Tenant, uid: str, reason: str, method: str) -> None:
    """Record a refused sign-in of account `uid` ("" for an unknown identifier): a step of
    the sign-in that checked the proof, never stored or run later."""
    metrics.sign_in_failed(reason=reason)
    if not _within_cap(tenant=tenant, uid=uid, ip=context.current().ip):
        return
    try:
        with transaction.atomic():
            audit.record(
                tenant=tenant,
                actor=Actor.account(uid) if uid else Actor.system("sign-in"),
                action="signin.failed",
                subject_uid=uid,
                changes={"method": method, "reason": reason},
            )
    except Exception:  # the record of a refusal must not turn it into a server error
        logger.exception("signin.failed could not be recorded")

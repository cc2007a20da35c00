"""What approvals tell the core's retention (portal/retention.py): the kept result of an
approved command (an impersonation token, sealed) is emptied once it can no longer be
collected. Collecting empties it at once (`approval_result_collect`); one never collected
goes past its own `expires_at`, so the kind has no tenant setting: its horizon is now."""

from datetime import datetime

from approvals.services import approval_results_purge
from portal import retention
from portal.models import Tenant


def results_purge_batch(tenant: Tenant, horizon: datetime, batch: int) -> int:
    return approval_results_purge(tenant=tenant, now=horizon, limit=batch)


def register() -> None:
    retention.register_kind("approval_results", setting=None, purge_batch=results_purge_batch)

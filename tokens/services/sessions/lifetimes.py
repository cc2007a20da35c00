"""How long tokens and sessions live, from the tenant's settings (bad values fall back)."""

from datetime import timedelta

from portal import events

MAX_REFRESH_LIFETIME_DAYS = 365


@events.reads
def positive_setting(value, default: float) -> float:
    """`value` as a positive number, or `default` when it is missing, malformed or not positive."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


@events.reads
def access_token_lifetime(tenant) -> timedelta:
    return timedelta(minutes=positive_setting(tenant.setting("access_token_lifetime_minutes"), 60))


@events.reads
def refresh_token_lifetime(tenant) -> timedelta:
    days = positive_setting(tenant.setting("refresh_token_lifetime_days"), 60)
    return timedelta(days=min(days, MAX_REFRESH_LIFETIME_DAYS))


@events.reads
def session_max_lifetime(tenant) -> timedelta:
    return timedelta(days=positive_setting(tenant.setting("refresh_token_family_max_days"), 365))


@events.reads
def refresh_reuse_grace(tenant) -> timedelta:
    """How long a rotated refresh token may be presented again and get the same successor."""
    try:
        seconds = max(float(tenant.setting("refresh_reuse_grace_seconds")), 0.0)
    except (TypeError, ValueError):
        seconds = 0.0
    return timedelta(seconds=seconds)


@events.reads
def elevation_lifetime(tenant) -> timedelta:
    return timedelta(minutes=positive_setting(tenant.setting("elevation_minutes"), 5))

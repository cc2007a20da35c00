"""Opening a session: a sign-in or an impersonation, with its first access/refresh pair,
and elevating an access token after a reauthentication made with it."""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from portal import audit, context, crypto, events
from portal.audit import Actor
from portal.errors import AccountNotFound
from tokens.commands import SessionIssue
from tokens.errors import ImpersonationNotElevatable, SessionAccountBlocked
from tokens.models import AccessToken, RefreshToken, TokenFamily
from tokens.selectors import access_token_cache, session_grant
from tokens.services.sessions.lifetimes import (
    access_token_lifetime,
    elevation_lifetime,
    refresh_token_lifetime,
    session_max_lifetime,
)
from tokens.services.sessions.lookup import live_access_token_lock

__all__ = [
    "IssuedSession",
    "access_token_elevate",
    "parse_user_agent",
    "session_issue",
    "token_pair_issue",
]


@dataclass(frozen=True)
class IssuedSession:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime


# --- device facts ---------------------------------------------------------------------


_BROWSERS = [
    ("Edge", r"Edg(?:e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Samsung Internet", r"SamsungBrowser/"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/"),
    ("Safari", r"Safari/"),
    ("Internet Explorer", r"MSIE |Trident/"),
    ("python-requests", r"python-requests/"),
    ("curl", r"^curl/"),
    ("Node.js", r"node-fetch|axios|undici"),
]
_SYSTEMS = [
    ("iOS", r"iPhone|iPad|iPod"),
    ("Android", r"Android"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("ChromeOS", r"CrOS"),
    ("Linux", r"Linux"),
]


@events.reads
def parse_user_agent(user_agent: str) -> dict[str, str]:
    """Browser, OS, device and device type from a User-Agent, by simple patterns."""
    ua = user_agent or ""
    browser = next((name for name, rx in _BROWSERS if re.search(rx, ua)), "Unknown" if ua else "")
    system = next((name for name, rx in _SYSTEMS if re.search(rx, ua)), "Unknown" if ua else "")
    if re.search(r"iPad|Tablet", ua) or ("Android" in ua and "Mobile" not in ua):
        device_type = "Tablet"
    elif re.search(r"Mobile|iPhone|iPod", ua):
        device_type = "Mobile"
    elif system in ("Windows", "macOS", "Linux", "ChromeOS"):
        device_type = "Desktop"
    else:
        device_type = "Unknown" if ua else ""
    match = re.search(r"iPhone|iPad|iPod", ua)
    device = (
        match.group(0)
        if match
        else {
            "Android": "Android device",
            "Windows": "Computer",
            "macOS": "Mac",
            "Linux": "Computer",
            "ChromeOS": "Chromebook",
        }.get(system, "Unknown" if ua else "")
    )
    return {"browser": browser, "os": system, "device": device, "device_type": device_type}


def _device_fields(device: dict | None) -> dict:
    """The family's device columns from `device` (keys ip, user_agent, city, country and
    optionally browser/os/device/device_type), defaulting to the current request."""
    device = {str(k).lower(): v for k, v in (device or {}).items()}
    ctx = context.current()
    user_agent = str(device.get("user_agent") or ctx.user_agent or "")[:500]
    parsed = parse_user_agent(user_agent)
    fields = {
        "ip": device.get("ip") or ctx.ip or None,
        "user_agent": user_agent,
        "city": str(device.get("city") or "")[:100],
        "country": str(device.get("country") or "")[:100],
    }
    for name in ("browser", "os", "device", "device_type"):
        fields[name] = str(device.get(name) or parsed[name])[:100]
    return fields


# --- issuing ----------------------------------------------------------------------------


def _new_token() -> str:
    return str(uuid.uuid4())


@events.step
def token_pair_issue(
    *,
    family: TokenFamily,
    now: datetime,
    access_lifetime: timedelta | None = None,
    refresh: bool = True,
):
    """Create an access and (with `refresh`) a refresh token in `family`; returns
    (IssuedSession, refresh row or None)."""
    tenant = family.tenant
    access, refresh_value = _new_token(), _new_token() if refresh else ""
    access_expires = min(
        now + (access_lifetime or access_token_lifetime(tenant)), family.expires_at
    )
    refresh_expires = (
        min(now + refresh_token_lifetime(tenant), family.expires_at) if refresh else access_expires
    )
    access_hash = crypto.token_hash(access)
    # Older access tokens of the session can no longer be exchanged for a new pair: the
    # legacy refresh accepts only the session's newest one (nothing to update here).
    AccessToken.objects.create(
        tenant_id=family.tenant_id,
        account_id=family.account_id,
        family=family,
        token_hash=access_hash,
        hint=access[:8],
        created=now,
        expires_at=access_expires,
    )
    refresh_row = None
    if refresh:
        refresh_row = RefreshToken.objects.create(
            tenant_id=family.tenant_id,
            account_id=family.account_id,
            family=family,
            token_hash=crypto.token_hash(refresh_value),
            created=now,
            expires_at=refresh_expires,
        )
    access_token_cache(
        token_hash_value=access_hash,
        tenant_id=family.tenant_id,
        account_id=family.account_id,
        uid=family.account.uid,
        expires_at=access_expires,
        grant=session_grant(
            is_impersonation=family.is_impersonation,
            actor_type=family.actor_type,
            actor_id=family.actor_id,
            actor_label=family.actor_label,
            scopes=family.scopes,
        ),
    )
    return IssuedSession(access, refresh_value, access_expires, refresh_expires), refresh_row


@events.emits("session.issued", "session.impersonated")
def session_issue(command: SessionIssue, *, tenant, account, actor: Actor) -> IssuedSession:
    """Open a session for `account`: a sign-in when the actor is the account itself,
    otherwise impersonation by a staff member or back end, which is recorded with its actor
    and reason so the session can be told apart and audited.

    An impersonation session reaches only the API sections in `command.scopes` (the scopes
    of the credential that asked; None: no narrowing), and every token derived from it
    keeps them.

    `command.access_lifetime_seconds` may shorten the access token's lifetime, never
    lengthen it past the tenant's. Without `command.refresh` no refresh token is issued and
    the session ends when its access token expires, so neither sliding nor the legacy
    refresh can extend it."""
    reason, ticket, device = command.reason, command.ticket, command.device
    refresh, scopes = command.refresh, command.scopes
    access_lifetime = (
        timedelta(seconds=command.access_lifetime_seconds)
        if command.access_lifetime_seconds is not None
        else None
    )
    if account.tenant_id != tenant.pk:
        raise AccountNotFound()
    if not account.is_active:
        raise SessionAccountBlocked()
    impersonation = not (actor.type == "account" and actor.id == account.uid)
    now = timezone.now()
    lifetime = access_token_lifetime(tenant)
    if access_lifetime is not None and access_lifetime.total_seconds() > 0:
        lifetime = min(lifetime, access_lifetime)
    with transaction.atomic():
        family = TokenFamily.objects.create(
            tenant=tenant,
            account=account,
            created=now,
            login_date=now,
            expires_at=now + (session_max_lifetime(tenant) if refresh else lifetime),
            is_impersonation=impersonation,
            actor_type=actor.type,
            actor_id=actor.id[:100],
            actor_label=actor.label[:200],
            reason=reason or "",
            scopes=sorted(scopes) if impersonation and scopes else None,
            **_device_fields(device),
        )
        issued, _ = token_pair_issue(
            family=family, now=now, access_lifetime=lifetime, refresh=refresh
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="session.impersonated" if impersonation else "session.issued",
            subject_uid=account.uid,
            reason=reason,
            ticket=ticket,
            changes={
                "session": [None, family.pk],
                "access_expires_at": [None, issued.access_expires_at.isoformat()],
                "refresh_expires_at": [
                    None,
                    issued.refresh_expires_at.isoformat() if refresh else None,
                ],
                "ip": [None, family.ip],
                "device": [None, f"{family.browser} on {family.os}".strip()],
                **({"scopes": [None, family.scopes]} if family.scopes else {}),
            },
        )
    return issued


@events.emits("session.elevated", proof=True)
def access_token_elevate(*, tenant, access_token: str, actor: Actor, method: str) -> datetime:
    """Elevate the live access token `access_token` after a token-side reauthentication
    made with it: for `elevation_minutes` it may make security changes
    (docs/security-model.md). Returns until when. Impersonation tokens never get here:
    the security model refuses them every reauthentication route."""
    now = timezone.now()
    until = now + elevation_lifetime(tenant)
    with transaction.atomic():
        token = live_access_token_lock(tenant=tenant, access_token=access_token, now=now)
        if token.family.is_impersonation:
            raise ImpersonationNotElevatable()
        until = min(until, token.expires_at)
        token.elevated_until = until
        token.save(update_fields=["elevated_until"])
        audit.record(
            tenant=tenant,
            actor=actor,
            action="session.elevated",
            subject_uid=token.family.account.uid,
            changes={
                "session": [token.family_id, token.family_id],
                "method": [None, method],
                "elevated_until": [None, until.isoformat()],
            },
        )
    return until

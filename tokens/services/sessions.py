"""Access and refresh tokens: issue, refresh with rotation, revoke, invalidate, purge.

A session is a `TokenFamily`. Refreshing rotates its refresh token: the presented token
dies and a new pair is issued. Presenting an already-rotated refresh token again within
the tenant's grace window (two racing legitimate calls) returns the same successor; after
the window it is treated as theft (RFC 9700 §4.14.2) and the whole family dies. Every
revocation tombstones the access tokens in the cache in the same call, so no process
keeps accepting them.
"""

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal import audit, context, crypto
from portal.audit import Actor
from portal.db import CompiledQuery, insert_new, preparing, update_saved
from portal.lrapi.errors import LRError
from tokens.models import AccessToken, RefreshToken, TokenFamily
from tokens.selectors import (
    access_token_cache,
    access_tokens_forget,
    normalise_token,
    session_grant,
)

MAX_REFRESH_LIFETIME_DAYS = 365


@dataclass(frozen=True)
class IssuedSession:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime


# --- lifetimes and device facts -------------------------------------------------------


def _positive(value, default: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _access_lifetime(tenant) -> timedelta:
    return timedelta(minutes=_positive(tenant.setting("access_token_lifetime_minutes"), 60))


def _refresh_lifetime(tenant) -> timedelta:
    days = _positive(tenant.setting("refresh_token_lifetime_days"), 60)
    return timedelta(days=min(days, MAX_REFRESH_LIFETIME_DAYS))


def _family_lifetime(tenant) -> timedelta:
    return timedelta(days=_positive(tenant.setting("refresh_token_family_max_days"), 365))


def _grace(tenant) -> timedelta:
    try:
        seconds = max(float(tenant.setting("refresh_reuse_grace_seconds")), 0.0)
    except (TypeError, ValueError):
        seconds = 0.0
    return timedelta(seconds=seconds)


_BROWSERS = [
    ("Edge", r"Edg(?:e|A|iOS)?/"), ("Opera", r"OPR/|Opera"), ("Samsung Internet", r"SamsungBrowser/"),
    ("Firefox", r"Firefox/|FxiOS/"), ("Chrome", r"Chrome/|CriOS/"), ("Safari", r"Safari/"),
    ("Internet Explorer", r"MSIE |Trident/"), ("python-requests", r"python-requests/"),
    ("curl", r"^curl/"), ("Node.js", r"node-fetch|axios|undici"),
]
_SYSTEMS = [
    ("iOS", r"iPhone|iPad|iPod"), ("Android", r"Android"), ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"), ("ChromeOS", r"CrOS"), ("Linux", r"Linux"),
]


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
    device = match.group(0) if match else {
        "Android": "Android device", "Windows": "Computer", "macOS": "Mac", "Linux": "Computer",
        "ChromeOS": "Chromebook",
    }.get(system, "Unknown" if ua else "")
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


def _issue_pair(*, family: TokenFamily, now: datetime, access_lifetime: timedelta | None = None,
                refresh: bool = True):
    """Create an access and (with `refresh`) a refresh token in `family`; returns
    (IssuedSession, refresh row or None)."""
    tenant = family.tenant
    access, refresh_value = _new_token(), _new_token() if refresh else ""
    access_expires = min(now + (access_lifetime or _access_lifetime(tenant)), family.expires_at)
    refresh_expires = min(now + _refresh_lifetime(tenant), family.expires_at) if refresh else access_expires
    access_hash = crypto.token_hash(access)
    # Older access tokens of the session can no longer be exchanged for a new pair: the
    # legacy refresh accepts only the session's newest one (nothing to update here).
    insert_new(AccessToken(
        tenant_id=family.tenant_id, account_id=family.account_id, family=family,
        token_hash=access_hash, hint=access[:8], created=now, expires_at=access_expires,
    ))
    refresh_row = None
    if refresh:
        refresh_row = insert_new(RefreshToken(
            tenant_id=family.tenant_id, account_id=family.account_id, family=family,
            token_hash=crypto.token_hash(refresh_value), created=now, expires_at=refresh_expires,
        ))
    access_token_cache(
        token_hash_value=access_hash, tenant_id=family.tenant_id, account_id=family.account_id,
        uid=family.account.uid, expires_at=access_expires, grant=session_grant(
            is_impersonation=family.is_impersonation, actor_type=family.actor_type,
            actor_id=family.actor_id, actor_label=family.actor_label, scopes=family.scopes,
        ),
    )
    return IssuedSession(access, refresh_value, access_expires, refresh_expires), refresh_row


def session_issue(
    *,
    tenant,
    account,
    actor: Actor,
    reason: str = "",
    ticket: str = "",
    device: dict | None = None,
    access_lifetime: timedelta | None = None,
    refresh: bool = True,
    scopes: list[str] | None = None,
) -> IssuedSession:
    """Open a session for `account`: a sign-in when the actor is the account itself,
    otherwise impersonation by a staff member or back end, which is recorded with its actor
    and reason so the session can be told apart and audited.

    An impersonation session reaches only the API sections in `scopes` (the scopes of the
    credential that asked; None: no narrowing), and every token derived from it keeps them.

    `access_lifetime` may shorten the access token's lifetime, never lengthen it past the
    tenant's. Without `refresh` no refresh token is issued and the session ends when its
    access token expires, so neither sliding nor the legacy refresh can extend it."""
    if account.tenant_id != tenant.pk:
        raise LRError(938)
    if not account.is_active:
        raise LRError(991)
    impersonation = not (actor.type == "account" and actor.id == account.uid)
    now = timezone.now()
    lifetime = _access_lifetime(tenant)
    if access_lifetime is not None and access_lifetime.total_seconds() > 0:
        lifetime = min(lifetime, access_lifetime)
    with transaction.atomic():
        family = TokenFamily.objects.create(
            tenant=tenant, account=account, created=now, login_date=now,
            expires_at=now + (_family_lifetime(tenant) if refresh else lifetime),
            is_impersonation=impersonation, actor_type=actor.type, actor_id=actor.id[:100],
            actor_label=actor.label[:200], reason=reason or "",
            scopes=sorted(scopes) if impersonation and scopes else None, **_device_fields(device),
        )
        issued, _ = _issue_pair(family=family, now=now, access_lifetime=lifetime, refresh=refresh)
        audit.record(
            tenant=tenant, actor=actor,
            action="session.impersonated" if impersonation else "session.issued",
            subject_uid=account.uid, reason=reason, ticket=ticket,
            changes={
                "session": [None, family.pk],
                "access_expires_at": [None, issued.access_expires_at.isoformat()],
                "refresh_expires_at": [None, issued.refresh_expires_at.isoformat() if refresh else None],
                "ip": [None, family.ip],
                "device": [None, f"{family.browser} on {family.os}".strip()],
                **({"scopes": [None, family.scopes]} if family.scopes else {}),
            },
        )
    return issued


def access_token_elevate(*, tenant, access_token: str, actor: Actor, method: str) -> datetime:
    """Elevate the live access token `access_token` after a token-side reauthentication
    made with it: for `elevation_minutes` it may make security changes
    (docs/security-model.md). Returns until when. Impersonation tokens never get here:
    the security model refuses them every reauthentication route."""
    now = timezone.now()
    until = now + timedelta(minutes=_positive(tenant.setting("elevation_minutes"), 5))
    with transaction.atomic():
        token = _lock_live_access_token(tenant=tenant, access_token=access_token, now=now)
        if token.family.is_impersonation:
            raise LRError(1143, "An impersonation access token cannot be elevated.")
        until = min(until, token.expires_at)
        token.elevated_until = until
        token.save(update_fields=["elevated_until"])
        audit.record(
            tenant=tenant, actor=actor, action="session.elevated", subject_uid=token.family.account.uid,
            changes={"session": [token.family_id, token.family_id], "method": [None, method],
                     "elevated_until": [None, until.isoformat()]},
        )
    return until


# --- refreshing -------------------------------------------------------------------------


def _successor_seal(issued: IssuedSession) -> str:
    return crypto.encrypt(json.dumps({
        "a": issued.access_token, "r": issued.refresh_token,
        "ae": issued.access_expires_at.isoformat(), "re": issued.refresh_expires_at.isoformat(),
    }))


def _successor_open(sealed: str) -> IssuedSession:
    data = json.loads(crypto.decrypt(sealed))
    return IssuedSession(data["a"], data["r"], parse_datetime(data["ae"]), parse_datetime(data["re"]))


def _family_kill(*, family: TokenFamily, now: datetime, why: str) -> int:
    """Revoke a family and every token of it (inside the caller's transaction); returns how
    many tokens were live."""
    live_access = list(
        AccessToken.objects.filter(family=family, revoked_at__isnull=True, expires_at__gt=now)
        .values_list("token_hash", "expires_at")
    )
    AccessToken.objects.filter(family=family, revoked_at__isnull=True).update(
        revoked_at=now, refresh_allowed=False
    )
    AccessToken.objects.filter(family=family, refresh_allowed=True).update(refresh_allowed=False)
    live_refresh = RefreshToken.objects.filter(
        family=family, revoked_at__isnull=True, rotated_at__isnull=True, expires_at__gt=now
    ).count()
    RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(
        revoked_at=now, successor_encrypted="", successor_erase_at=None
    )
    RefreshToken.objects.filter(family=family).exclude(successor_encrypted="").update(
        successor_encrypted="", successor_erase_at=None
    )
    if family.revoked_at is None:
        TokenFamily.objects.filter(pk=family.pk).update(revoked_at=now, revoked_reason=why)
        family.revoked_at, family.revoked_reason = now, why
    _forget(live_access)
    return len(live_access) + live_refresh


def _forget(rows: list[tuple[str, datetime]]) -> None:
    """Tombstone now (effective for every process before this call returns) and again
    after commit (a reader that raced the transaction cannot resurrect the entry)."""
    if not rows:
        return
    access_tokens_forget(rows)
    transaction.on_commit(lambda: access_tokens_forget(rows))


def _refresh_lookup(*, tenant, refresh_token: str | None) -> str:
    if not refresh_token or not str(refresh_token).strip():
        raise LRError(1337)
    canonical = normalise_token(refresh_token)
    if canonical is None:
        raise LRError(1217)
    return crypto.token_hash(canonical)


# The refresh token row, locked (not its family or account) and read with them in one
# query, compiled once per process (its three tables' columns cost more to compile than
# to read). A unique look-up: no ORDER BY.
_LOCKED_REFRESH_TOKEN = CompiledQuery(
    lambda token_hash, tenant_id: RefreshToken.objects.select_for_update(of=("self",))
    .select_related("family__account")
    .filter(token_hash=token_hash, tenant_id=tenant_id)
    .order_by()[:1],
    stand_ins=("\x01token hash\x01", -7_431_002),
)


def session_refresh(*, tenant, refresh_token: str | None, actor: Actor) -> IssuedSession:
    """Exchange a refresh token for a new pair, rotating it. The refresh token row is locked
    so concurrent refreshes of one token serialise: the first rotates, the others (within
    the grace window) get the same successor, never a second live branch."""
    hashed = _refresh_lookup(tenant=tenant, refresh_token=refresh_token)
    now = timezone.now()
    # Every statement of a refresh is a unique-key read or a fixed-shape write: prepared.
    with preparing(), transaction.atomic():
        row = _LOCKED_REFRESH_TOKEN.first(hashed, tenant.pk)
        if row is None:
            raise LRError(1217)
        family = row.family
        family.tenant = tenant
        if row.revoked_at is not None or not family.is_live(now) or row.expires_at <= now:
            raise LRError(1217)
        if not family.account.is_active:
            raise LRError(991)
        if row.rotated_at is None:
            return _rotate(row=row, family=family, now=now, actor=actor)
        successor = row.replaced_by
        if (
            row.successor_encrypted
            and row.successor_erase_at is not None
            and now <= row.successor_erase_at
            and successor is not None
            and successor.is_live(now)
        ):
            issued = _successor_open(row.successor_encrypted)
            audit.record(
                tenant=tenant, actor=actor, action="session.refresh_repeated",
                subject_uid=family.account.uid,
                changes={"session": [family.pk, family.pk]},
            )
            return issued
        killed = _family_kill(family=family, now=now, why=TokenFamily.REVOKED_REUSE)
        audit.record(
            tenant=tenant, actor=actor, action="session.reuse_detected",
            subject_uid=family.account.uid,
            reason="A rotated refresh token was presented again; the session was revoked.",
            changes={"session": [family.pk, family.pk], "revoked_tokens": [None, killed]},
        )
    # Outside the transaction: the family's revocation commits, then the caller is refused.
    raise LRError(1217)


def _rotate(*, row: RefreshToken, family: TokenFamily, now: datetime, actor: Actor,
            access_lifetime: timedelta | None = None, action: str = "session.refreshed") -> IssuedSession:
    issued, successor = _issue_pair(family=family, now=now, access_lifetime=access_lifetime)
    grace = _grace(family.tenant)
    row.rotated_at = now
    row.replaced_by = successor
    if grace:
        row.successor_encrypted = _successor_seal(issued)
        row.successor_erase_at = now + grace
    update_saved(row, ("rotated_at", "replaced_by", "successor_encrypted", "successor_erase_at"))
    # The predecessor's sealed copy (of this, now rotated, token) can no longer be handed
    # out: a repeat of the predecessor finds its successor rotated and kills the family.
    # It is erased with every other sealed copy past its window by `sessions_purge`.
    audit.record(
        tenant=family.tenant, actor=actor, action=action,
        subject_uid=family.account.uid,
        changes={
            "session": [family.pk, family.pk],
            "access_expires_at": [None, issued.access_expires_at.isoformat()],
            "refresh_expires_at": [row.expires_at.isoformat(), issued.refresh_expires_at.isoformat()],
        },
    )
    return issued


def session_refresh_by_access_token(
    *, tenant, access_token: str | None, actor: Actor, expires_in_minutes: float | None = None
) -> IssuedSession:
    """The legacy refresh (/api/v2/access_token/refresh): the session's newest access token
    (even if expired or invalidated without preventRefresh) buys a new pair once; the
    session's refresh token is rotated with it. `expires_in_minutes` may shorten the new
    access token's lifetime, never lengthen it past the tenant's."""
    if not access_token or not str(access_token).strip():
        raise LRError(1060)
    canonical = normalise_token(access_token)
    if canonical is None:
        raise LRError(905)
    hashed = crypto.token_hash(canonical)
    now = timezone.now()
    with transaction.atomic():
        token = (
            AccessToken.objects.select_for_update().filter(token_hash=hashed, tenant=tenant).first()
        )
        if token is None or not token.refresh_allowed:
            raise LRError(905)
        if AccessToken.objects.filter(family_id=token.family_id, pk__gt=token.pk).exists():
            raise LRError(905)  # a newer pair was issued in this session since
        family = TokenFamily.objects.select_related("tenant", "account").get(pk=token.family_id)
        if not family.is_live(now):
            raise LRError(905 if family.revoked_at else 906)
        row = (
            RefreshToken.objects.select_for_update()
            .filter(family=family, revoked_at__isnull=True, rotated_at__isnull=True, expires_at__gt=now)
            .order_by("-id")
            .first()
        )
        if row is None:
            raise LRError(906)
        lifetime = _access_lifetime(tenant)
        if expires_in_minutes and expires_in_minutes > 0:
            lifetime = min(lifetime, timedelta(minutes=expires_in_minutes))
        if token.revoked_at is None:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            _forget([(token.token_hash, token.expires_at)])
        return _rotate(row=row, family=family, now=now, actor=actor, access_lifetime=lifetime)


def _lock_live_access_token(*, tenant, access_token: str | None, now) -> AccessToken:
    """The access token `access_token` of `tenant`, locked for update (call inside a
    transaction), or 1060 (missing) / 905 (malformed, unknown, revoked) / 906 (expired)."""
    if not access_token or not str(access_token).strip():
        raise LRError(1060)
    canonical = normalise_token(access_token)
    if canonical is None:
        raise LRError(905)
    token = (
        AccessToken.objects.select_for_update()
        .filter(token_hash=crypto.token_hash(canonical), tenant=tenant)
        .first()
    )
    if token is None or token.revoked_at is not None:
        raise LRError(905)
    if token.expires_at <= now:
        raise LRError(906)
    return token


def access_token_slide(*, tenant, access_token: str | None, actor: Actor) -> IssuedSession:
    """The sliding token (/identity/v2/auth/access_token/sliding_token): a live access token
    buys a fresh pair in the same session and stops working itself, so an active client
    keeps its session without holding a refresh token. The session's refresh token is
    rotated with it; the family's absolute lifetime still bounds everything. The token row
    is locked, so one access token slides once even when presented concurrently."""
    now = timezone.now()
    with transaction.atomic():
        token = _lock_live_access_token(tenant=tenant, access_token=access_token, now=now)
        family = TokenFamily.objects.select_related("tenant", "account").get(pk=token.family_id)
        if not family.is_live(now):
            raise LRError(905 if family.revoked_at else 906)
        if not family.account.is_active:
            raise LRError(991)
        token.revoked_at = now
        token.refresh_allowed = False
        token.save(update_fields=["revoked_at", "refresh_allowed"])
        _forget([(token.token_hash, token.expires_at)])
        row = (
            RefreshToken.objects.select_for_update()
            .filter(family=family, revoked_at__isnull=True, rotated_at__isnull=True, expires_at__gt=now)
            .order_by("-id")
            .first()
        )
        if row is not None:
            return _rotate(row=row, family=family, now=now, actor=actor, action="session.slid")
        # A session opened without a refresh token stays without one.
        issued, _ = _issue_pair(family=family, now=now,
                                refresh=RefreshToken.objects.filter(family=family).exists())
        audit.record(
            tenant=tenant, actor=actor, action="session.slid", subject_uid=family.account.uid,
            changes={
                "session": [family.pk, family.pk],
                "access_expires_at": [None, issued.access_expires_at.isoformat()],
                "refresh_expires_at": [None, issued.refresh_expires_at.isoformat()],
            },
        )
        return issued


# --- revoking ---------------------------------------------------------------------------


def session_revoke(*, tenant, refresh_token: str | None, actor: Actor, reason: str = "") -> int:
    """End the session of a live refresh token: the token, its family and the family's
    access tokens. Unknown, rotated, revoked, expired or other-tenant tokens give 1217 and
    change nothing."""
    hashed = _refresh_lookup(tenant=tenant, refresh_token=refresh_token)
    now = timezone.now()
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update()
            .filter(token_hash=hashed, tenant=tenant)
            .first()
        )
        if row is None or not row.is_live(now):
            raise LRError(1217)
        family = TokenFamily.objects.select_related("account").get(pk=row.family_id)
        if not family.is_live(now):
            raise LRError(1217)
        killed = _family_kill(family=family, now=now, why=TokenFamily.REVOKED_BY_CLIENT)
        audit.record(
            tenant=tenant, actor=actor, action="session.revoked", subject_uid=family.account.uid,
            reason=reason, changes={"session": [family.pk, family.pk], "revoked_tokens": [None, killed]},
        )
    return killed


def account_session_revoke(
    *, tenant, account, actor: Actor, session_id, reason: str = "", ticket: str = ""
) -> int:
    """End one session of `account` by its id (what the active-sessions listing shows),
    without its tokens: the family and every token of it. Another account's or tenant's
    session, or one already ended, is not found (404) and nothing changes."""
    missing = LRError(404, "The session does not exist for this account.")
    try:
        session_pk = int(session_id)
    except (TypeError, ValueError):
        raise missing from None
    if not 0 < session_pk < 2**63:
        raise missing
    now = timezone.now()
    with transaction.atomic():
        family = (
            TokenFamily.objects.select_for_update()
            .filter(pk=session_pk, tenant=tenant, account=account)
            .first()
        )
        if family is None or not family.is_live(now):
            raise missing
        killed = _family_kill(family=family, now=now, why=TokenFamily.REVOKED_BY_CLIENT)
        audit.record(
            tenant=tenant, actor=actor, action="session.revoked_by_id", subject_uid=account.uid,
            reason=reason, ticket=ticket,
            changes={"session": [family.pk, family.pk], "revoked_tokens": [None, killed]},
        )
    return killed


def account_sessions_revoke(*, tenant, account, actor: Actor, reason: str = "", ticket: str = "") -> int:
    """Revoke every access and refresh token of `account`; returns how many were live.
    Called by password change, block, delete and MFA reset."""
    now = timezone.now()
    with transaction.atomic():
        families = list(
            TokenFamily.objects.select_for_update()
            .filter(tenant=tenant, account=account, revoked_at__isnull=True)
            .order_by("pk")
        )
        killed = sum(
            _family_kill(family=family, now=now, why=TokenFamily.REVOKED_ACCOUNT)
            for family in families
        )
        audit.record(
            tenant=tenant, actor=actor, action="session.all_revoked", subject_uid=account.uid,
            reason=reason, ticket=ticket,
            changes={"sessions": [len(families), 0], "revoked_tokens": [None, killed]},
        )
    return killed


def access_token_invalidate(
    *, tenant, access_token: str | None, actor: Actor, prevent_refresh: bool = False
) -> None:
    """Invalidate one access token at once everywhere. With `prevent_refresh` the session
    cannot be refreshed either: its refresh tokens die with it."""
    now = timezone.now()
    with transaction.atomic():
        token = _lock_live_access_token(tenant=tenant, access_token=access_token, now=now)
        family = TokenFamily.objects.select_related("account").get(pk=token.family_id)
        token.revoked_at = now
        if prevent_refresh:
            token.refresh_allowed = False
        token.save(update_fields=["revoked_at", "refresh_allowed"])
        _forget([(token.token_hash, token.expires_at)])
        killed = 1
        if prevent_refresh:
            killed += _family_kill(family=family, now=now, why=TokenFamily.REVOKED_INVALIDATED)
        audit.record(
            tenant=tenant, actor=actor, action="session.invalidated",
            subject_uid=family.account.uid,
            changes={
                "session": [family.pk, family.pk],
                "prevent_refresh": [None, bool(prevent_refresh)],
                "revoked_tokens": [None, killed],
            },
        )


# --- housekeeping -----------------------------------------------------------------------


def sessions_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Delete expired tokens and finished sessions, and erase sealed successors whose grace
    window has closed. Revoked but unexpired refresh tokens stay: reuse detection needs them."""
    now = now or timezone.now()
    with transaction.atomic():
        erased = RefreshToken.objects.filter(successor_erase_at__lte=now).update(
            successor_encrypted="", successor_erase_at=None
        )
        access = AccessToken.objects.filter(expires_at__lte=now).delete()[1].get(
            AccessToken._meta.label, 0
        )
        refresh = RefreshToken.objects.filter(expires_at__lte=now).delete()[1].get(
            RefreshToken._meta.label, 0
        )
        families = TokenFamily.objects.filter(expires_at__lte=now).delete()[1].get(
            TokenFamily._meta.label, 0
        )
        families += TokenFamily.objects.filter(
            access_tokens__isnull=True, refresh_tokens__isnull=True
        ).delete()[1].get(TokenFamily._meta.label, 0)
    return {"erased": erased, "access": access, "refresh": refresh, "families": families}

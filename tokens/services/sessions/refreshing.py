"""Refreshing a session: rotating its refresh token, the legacy refresh by access token,
and the sliding token.

Refreshing rotates the session's refresh token: the presented token dies and a new pair
is issued. Presenting an already-rotated refresh token again within the tenant's grace
window (two racing legitimate calls) returns the same successor; after the window it is
treated as theft (RFC 9700 §4.14.2) and the whole family dies.
"""

import json
from datetime import datetime, timedelta
from typing import cast

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal import audit, crypto, events
from portal.audit import Actor
from portal.rows import StandIns, check_columns, instances
from tokens.errors import (
    AccessTokenExpired,
    AccessTokenInvalid,
    AccessTokenMissing,
    RefreshTokenInvalid,
    SessionAccountBlocked,
)
from tokens.models import AccessToken, RefreshToken, TokenFamily
from tokens.selectors import normalise_token
from tokens.services.sessions.issuing import IssuedSession, token_pair_issue
from tokens.services.sessions.lifetimes import access_token_lifetime, refresh_reuse_grace
from tokens.services.sessions.lookup import live_access_token_lock, refresh_token_hash
from tokens.services.sessions.revocation import access_tokens_tombstone, family_revoke

__all__ = ["access_token_slide", "session_refresh", "session_refresh_by_access_token"]


def _successor_seal(issued: IssuedSession) -> str:
    return crypto.encrypt(
        json.dumps(
            {
                "a": issued.access_token,
                "r": issued.refresh_token,
                "ae": issued.access_expires_at.isoformat(),
                "re": issued.refresh_expires_at.isoformat(),
            }
        )
    )


def _successor_open(sealed: str) -> IssuedSession:
    data = json.loads(crypto.decrypt(sealed))
    return IssuedSession(
        data["a"],
        data["r"],
        datetime.fromisoformat(data["ae"]),
        datetime.fromisoformat(data["re"]),
    )


# The refresh token row, locked (not its family or account) and read with them in one
# query: its SQL as the ORM writes it, made once per process (`portal.rows`; the three
# tables' columns cost more to compile than to read). A unique look-up: no ORDER BY.
_LOCKED_READ_STAND_INS = StandIns("\x01token hash\x01", -7_431_002)
_LOCKED_READ_MODELS = (RefreshToken, TokenFamily, Account)
_locked_read: dict[str, tuple[str, tuple[int, ...]]] = {}  # by database alias


def _locked_refresh_token(*, token_hash: str, tenant_id: int) -> RefreshToken | None:
    connection = transaction.get_connection()
    checked = connection.alias in _locked_read
    if checked:
        query = _locked_read[connection.alias]
    else:
        stand_in_hash, stand_in_tenant = _LOCKED_READ_STAND_INS.values
        query = _LOCKED_READ_STAND_INS.sql(
            RefreshToken.objects.using(connection.alias)
            .select_for_update(of=("self",))
            .select_related("family__account")
            .filter(token_hash=stand_in_hash, tenant_id=stand_in_tenant)
            .order_by()[:1]
        )
    sql, slots = query
    values = (token_hash, tenant_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, [values[slot] for slot in slots])
        row = cursor.fetchone()
        if not checked:  # the row's layout, checked once
            check_columns([column[0] for column in cursor.description], *_LOCKED_READ_MODELS)
            _locked_read[connection.alias] = query
    if row is None:
        return None
    token, family, account = instances(row, *_LOCKED_READ_MODELS, alias=connection.alias)
    family = cast(TokenFamily, family)
    family.account = cast(Account, account)
    token = cast(RefreshToken, token)
    token.family = family
    return token


@events.emits("session.refreshed", "session.refresh_repeated", "session.reuse_detected", proof=True)
def session_refresh(*, tenant, refresh_token: str | None, actor: Actor) -> IssuedSession:
    """Exchange a refresh token for a new pair, rotating it. The refresh token row is locked
    so concurrent refreshes of one token serialise: the first rotates, the others (within
    the grace window) get the same successor, never a second live branch."""
    hashed = refresh_token_hash(refresh_token=refresh_token)
    now = timezone.now()
    with transaction.atomic():
        row = _locked_refresh_token(token_hash=hashed, tenant_id=tenant.pk)
        if row is None:
            raise RefreshTokenInvalid()
        family = row.family
        family.tenant = tenant
        if row.revoked_at is not None or not family.is_live(now) or row.expires_at <= now:
            raise RefreshTokenInvalid()
        if not family.account.is_active:
            raise SessionAccountBlocked()
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
                tenant=tenant,
                actor=actor,
                action="session.refresh_repeated",
                subject_uid=family.account.uid,
                changes={"session": [family.pk, family.pk]},
            )
            return issued
        killed = family_revoke(family=family, now=now, why=TokenFamily.REVOKED_REUSE)
        audit.record(
            tenant=tenant,
            actor=actor,
            action="session.reuse_detected",
            subject_uid=family.account.uid,
            reason="A rotated refresh token was presented again; the session was revoked.",
            changes={"session": [family.pk, family.pk], "revoked_tokens": [None, killed]},
        )
    # Outside the transaction: the family's revocation commits, then the caller is refused.
    raise RefreshTokenInvalid()


def _rotate(
    *,
    row: RefreshToken,
    family: TokenFamily,
    now: datetime,
    actor: Actor,
    access_lifetime: timedelta | None = None,
    action: str = "session.refreshed",
) -> IssuedSession:
    issued, successor = token_pair_issue(family=family, now=now, access_lifetime=access_lifetime)
    grace = refresh_reuse_grace(family.tenant)
    row.rotated_at = now
    row.replaced_by = successor
    if grace:
        row.successor_encrypted = _successor_seal(issued)
        row.successor_erase_at = now + grace
    row.save(
        update_fields=("rotated_at", "replaced_by", "successor_encrypted", "successor_erase_at")
    )
    # The predecessor's sealed copy (of this, now rotated, token) can no longer be handed
    # out: a repeat of the predecessor finds its successor rotated and kills the family.
    # It is erased with every other sealed copy past its window by `sessions_purge`.
    audit.record(
        tenant=family.tenant,
        actor=actor,
        action=action,
        subject_uid=family.account.uid,
        changes={
            "session": [family.pk, family.pk],
            "access_expires_at": [None, issued.access_expires_at.isoformat()],
            "refresh_expires_at": [
                row.expires_at.isoformat(),
                issued.refresh_expires_at.isoformat(),
            ],
        },
    )
    return issued


@events.emits("session.refreshed", proof=True)
def session_refresh_by_access_token(
    *, tenant, access_token: str | None, actor: Actor, expires_in_minutes: float | None = None
) -> IssuedSession:
    """The legacy refresh (/api/v2/access_token/refresh): the session's newest access token
    (even if expired or invalidated without preventRefresh) buys a new pair once; the
    session's refresh token is rotated with it. `expires_in_minutes` may shorten the new
    access token's lifetime, never lengthen it past the tenant's."""
    if not access_token or not str(access_token).strip():
        raise AccessTokenMissing()
    canonical = normalise_token(access_token)
    if canonical is None:
        raise AccessTokenInvalid()
    hashed = crypto.token_hash(canonical)
    now = timezone.now()
    with transaction.atomic():
        token = (
            AccessToken.objects.select_for_update().filter(token_hash=hashed, tenant=tenant).first()
        )
        if token is None or not token.refresh_allowed:
            raise AccessTokenInvalid()
        if AccessToken.objects.filter(family_id=token.family_id, pk__gt=token.pk).exists():
            raise AccessTokenInvalid()  # a newer pair was issued in this session since
        family = TokenFamily.objects.select_related("tenant", "account").get(pk=token.family_id)
        if not family.is_live(now):
            raise AccessTokenInvalid() if family.revoked_at else AccessTokenExpired()
        row = (
            RefreshToken.objects.select_for_update()
            .filter(
                family=family, revoked_at__isnull=True, rotated_at__isnull=True, expires_at__gt=now
            )
            .order_by("-id")
            .first()
        )
        if row is None:
            raise AccessTokenExpired()
        lifetime = access_token_lifetime(tenant)
        if expires_in_minutes and expires_in_minutes > 0:
            lifetime = min(lifetime, timedelta(minutes=expires_in_minutes))
        if token.revoked_at is None:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            access_tokens_tombstone([(token.token_hash, token.expires_at)])
        return _rotate(row=row, family=family, now=now, actor=actor, access_lifetime=lifetime)


@events.emits("session.slid", proof=True)
def access_token_slide(*, tenant, access_token: str | None, actor: Actor) -> IssuedSession:
    """The sliding token (/identity/v2/auth/access_token/sliding_token): a live access token
    buys a fresh pair in the same session and stops working itself, so an active client
    keeps its session without holding a refresh token. The session's refresh token is
    rotated with it; the family's absolute lifetime still bounds everything. The token row
    is locked, so one access token slides once even when presented concurrently."""
    now = timezone.now()
    with transaction.atomic():
        token = live_access_token_lock(tenant=tenant, access_token=access_token, now=now)
        family = TokenFamily.objects.select_related("tenant", "account").get(pk=token.family_id)
        if not family.is_live(now):
            raise AccessTokenInvalid() if family.revoked_at else AccessTokenExpired()
        if not family.account.is_active:
            raise SessionAccountBlocked()
        token.revoked_at = now
        token.refresh_allowed = False
        token.save(update_fields=["revoked_at", "refresh_allowed"])
        access_tokens_tombstone([(token.token_hash, token.expires_at)])
        row = (
            RefreshToken.objects.select_for_update()
            .filter(
                family=family, revoked_at__isnull=True, rotated_at__isnull=True, expires_at__gt=now
            )
            .order_by("-id")
            .first()
        )
        if row is not None:
            return _rotate(row=row, family=family, now=now, actor=actor, action="session.slid")
        # A session opened without a refresh token stays without one.
        issued, _ = token_pair_issue(
            family=family, now=now, refresh=RefreshToken.objects.filter(family=family).exists()
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="session.slid",
            subject_uid=family.account.uid,
            changes={
                "session": [family.pk, family.pk],
                "access_expires_at": [None, issued.access_expires_at.isoformat()],
                "refresh_expires_at": [None, issued.refresh_expires_at.isoformat()],
            },
        )
        return issued

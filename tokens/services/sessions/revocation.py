"""Ending sessions: by refresh token, by id, every session of an account, one access
token at a time, and purging what has expired. Every revocation tombstones the access
tokens in the cache in the same call, so no process keeps accepting them."""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from portal import audit, events
from portal.audit import Actor
from tokens.commands import (
    AccessTokenInvalidate,
    AccountSessionRevoke,
    AccountSessionsRevoke,
    RefreshTokenRevoke,
)
from tokens.errors import RefreshTokenInvalid, SessionNotFound
from tokens.models import AccessToken, RefreshToken, TokenFamily
from tokens.selectors import access_tokens_forget
from tokens.services.sessions.lookup import live_access_token_lock, refresh_token_hash

__all__ = [
    "access_token_invalidate",
    "access_tokens_tombstone",
    "account_session_revoke",
    "account_sessions_revoke",
    "accounts_sessions_revoke",
    "family_revoke",
    "session_revoke",
    "sessions_purge",
]


@events.step
def family_revoke(*, family: TokenFamily, now: datetime, why: str) -> int:
    """Revoke a family and every token of it (inside the caller's transaction); returns how
    many tokens were live."""
    live_access = list(
        AccessToken.objects.filter(
            family=family, revoked_at__isnull=True, expires_at__gt=now
        ).values_list("token_hash", "expires_at")
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
    access_tokens_tombstone(live_access)
    return len(live_access) + live_refresh


@events.upkeep
def access_tokens_tombstone(rows: list[tuple[str, datetime]]) -> None:
    """Tombstone now (effective for every process before this call returns) and again
    after commit (a reader that raced the transaction cannot resurrect the entry)."""
    if not rows:
        return
    access_tokens_forget(rows)
    transaction.on_commit(lambda: access_tokens_forget(rows))


# --- revoking ---------------------------------------------------------------------------


@events.emits("session.revoked")
def session_revoke(command: RefreshTokenRevoke, *, tenant, actor: Actor) -> int:
    """End the session of a live refresh token: the token, its family and the family's
    access tokens. Unknown, rotated, revoked, expired or other-tenant tokens are
    RefreshTokenInvalid and change nothing."""
    reason = command.reason
    hashed = refresh_token_hash(refresh_token=command.refresh_token)
    now = timezone.now()
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update()
            .filter(token_hash=hashed, tenant=tenant)
            .first()
        )
        if row is None or not row.is_live(now):
            raise RefreshTokenInvalid()
        family = TokenFamily.objects.select_related("account").get(pk=row.family_id)
        if not family.is_live(now):
            raise RefreshTokenInvalid()
        killed = family_revoke(family=family, now=now, why=TokenFamily.REVOKED_BY_CLIENT)
        audit.record(
            tenant=tenant,
            actor=actor,
            action="session.revoked",
            subject_uid=family.account.uid,
            reason=reason,
            changes={"session": [family.pk, family.pk], "revoked_tokens": [None, killed]},
        )
    return killed


@events.emits("session.revoked_by_id")
def account_session_revoke(command: AccountSessionRevoke, *, tenant, account, actor: Actor) -> int:
    """End one session of `account` by its id (what the active-sessions listing shows),
    without its tokens: the family and every token of it. Another account's or tenant's
    session, or one already ended, is SessionNotFound and nothing changes."""
    reason, ticket = command.reason, command.ticket
    try:
        session_pk = int(command.session_id)
    except (TypeError, ValueError):
        raise SessionNotFound() from None
    if not 0 < session_pk < 2**63:
        raise SessionNotFound()
    now = timezone.now()
    with transaction.atomic():
        family = (
            TokenFamily.objects.select_for_update()
            .filter(pk=session_pk, tenant=tenant, account=account)
            .first()
        )
        if family is None or not family.is_live(now):
            raise SessionNotFound()
        killed = family_revoke(family=family, now=now, why=TokenFamily.REVOKED_BY_CLIENT)
        audit.record(
            tenant=tenant,
            actor=actor,
            action="session.revoked_by_id",
            subject_uid=account.uid,
            reason=reason,
            ticket=ticket,
            changes={"session": [family.pk, family.pk], "revoked_tokens": [None, killed]},
        )
    return killed


@events.emits("session.all_revoked")
def account_sessions_revoke(
    command: AccountSessionsRevoke, *, tenant, account, actor: Actor
) -> int:
    """Revoke every access and refresh token of `account`; returns how many were live.
    Called by password change, block, delete and MFA reset."""
    reason, ticket = command.reason, command.ticket
    now = timezone.now()
    with transaction.atomic():
        families = list(
            TokenFamily.objects.select_for_update()
            .filter(tenant=tenant, account=account, revoked_at__isnull=True)
            .order_by("pk")
        )
        killed = sum(
            family_revoke(family=family, now=now, why=TokenFamily.REVOKED_ACCOUNT)
            for family in families
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="session.all_revoked",
            subject_uid=account.uid,
            reason=reason,
            ticket=ticket,
            changes={"sessions": [len(families), 0], "revoked_tokens": [None, killed]},
        )
    return killed


@events.emits("session.all_revoked")
def accounts_sessions_revoke(
    command: AccountSessionsRevoke,
    *,
    tenant,
    accounts: Sequence,
    actor: Actor,
    causes: Sequence[int | None] | None = None,
) -> int:
    """`account_sessions_revoke` for a set of accounts (the accounts a bulk job's batch
    blocks): every access and refresh token of each revoked, one `session.all_revoked`
    event per account with the same payload, with a few statements for the whole set.
    `causes`: the event each account's revocation follows from (by default the current
    one). Returns how many tokens were live."""
    accounts = list(accounts)
    if causes is not None and len(causes) != len(accounts):
        raise ValueError("one cause per account")
    now = timezone.now()
    with transaction.atomic():
        families = list(
            TokenFamily.objects.select_for_update()
            .filter(tenant=tenant, account__in=[a.pk for a in accounts], revoked_at__isnull=True)
            .order_by("pk")
            .values_list("pk", "account_id")
        )
        ids = [pk for pk, _ in families]
        killed_by_family: dict[int, int] = dict.fromkeys(ids, 0)
        if ids:
            live_access = list(
                AccessToken.objects.filter(
                    family_id__in=ids, revoked_at__isnull=True, expires_at__gt=now
                ).values_list("family_id", "token_hash", "expires_at")
            )
            AccessToken.objects.filter(family_id__in=ids, revoked_at__isnull=True).update(
                revoked_at=now, refresh_allowed=False
            )
            AccessToken.objects.filter(family_id__in=ids, refresh_allowed=True).update(
                refresh_allowed=False
            )
            live_refresh = list(
                RefreshToken.objects.filter(
                    family_id__in=ids,
                    revoked_at__isnull=True,
                    rotated_at__isnull=True,
                    expires_at__gt=now,
                )
                .order_by()
                .values("family_id")
                .annotate(n=Count("id"))
                .values_list("family_id", "n")
            )
            RefreshToken.objects.filter(family_id__in=ids, revoked_at__isnull=True).update(
                revoked_at=now, successor_encrypted="", successor_erase_at=None
            )
            RefreshToken.objects.filter(family_id__in=ids).exclude(successor_encrypted="").update(
                successor_encrypted="", successor_erase_at=None
            )
            TokenFamily.objects.filter(pk__in=ids).update(
                revoked_at=now, revoked_reason=TokenFamily.REVOKED_ACCOUNT
            )
            for family_id, _hash, _expires in live_access:
                killed_by_family[family_id] += 1
            for family_id, n in live_refresh:
                killed_by_family[family_id] += n
            access_tokens_tombstone([(token, expires) for _, token, expires in live_access])
        sessions: dict[int, int] = {}
        killed: dict[int, int] = {}
        for family_id, account_id in families:
            sessions[account_id] = sessions.get(account_id, 0) + 1
            killed[account_id] = killed.get(account_id, 0) + killed_by_family[family_id]
        audit.record_many(
            tenant=tenant,
            actor=actor,
            action="session.all_revoked",
            subjects=[
                (
                    account.uid,
                    {
                        "sessions": [sessions.get(account.pk, 0), 0],
                        "revoked_tokens": [None, killed.get(account.pk, 0)],
                    },
                )
                for account in accounts
            ],
            reason=command.reason,
            ticket=command.ticket,
            causes=list(causes) if causes is not None else None,
        )
    return sum(killed.values())


@events.emits("session.invalidated")
def access_token_invalidate(command: AccessTokenInvalidate, *, tenant, actor: Actor) -> None:
    """Invalidate one access token at once everywhere. With `prevent_refresh` the session
    cannot be refreshed either: its refresh tokens die with it."""
    access_token, prevent_refresh = command.access_token, command.prevent_refresh
    now = timezone.now()
    with transaction.atomic():
        token = live_access_token_lock(tenant=tenant, access_token=access_token, now=now)
        family = TokenFamily.objects.select_related("account").get(pk=token.family_id)
        token.revoked_at = now
        if prevent_refresh:
            token.refresh_allowed = False
        token.save(update_fields=["revoked_at", "refresh_allowed"])
        access_tokens_tombstone([(token.token_hash, token.expires_at)])
        killed = 1
        if prevent_refresh:
            killed += family_revoke(family=family, now=now, why=TokenFamily.REVOKED_INVALIDATED)
        audit.record(
            tenant=tenant,
            actor=actor,
            action="session.invalidated",
            subject_uid=family.account.uid,
            changes={
                "session": [family.pk, family.pk],
                "prevent_refresh": [None, bool(prevent_refresh)],
                "revoked_tokens": [None, killed],
            },
        )


# --- housekeeping -----------------------------------------------------------------------


@events.upkeep
def sessions_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Delete expired tokens and finished sessions, and erase sealed successors whose grace
    window has closed. Revoked but unexpired refresh tokens stay: reuse detection needs them."""
    now = now or timezone.now()
    with transaction.atomic():
        erased = RefreshToken.objects.filter(successor_erase_at__lte=now).update(
            successor_encrypted="", successor_erase_at=None
        )
        access = (
            AccessToken.objects.filter(expires_at__lte=now)
            .delete()[1]
            .get(AccessToken._meta.label, 0)
        )
        refresh = (
            RefreshToken.objects.filter(expires_at__lte=now)
            .delete()[1]
            .get(RefreshToken._meta.label, 0)
        )
        families = (
            TokenFamily.objects.filter(expires_at__lte=now)
            .delete()[1]
            .get(TokenFamily._meta.label, 0)
        )
        families += (
            TokenFamily.objects.filter(access_tokens__isnull=True, refresh_tokens__isnull=True)
            .delete()[1]
            .get(TokenFamily._meta.label, 0)
        )
    return {"erased": erased, "access": access, "refresh": refresh, "families": families}

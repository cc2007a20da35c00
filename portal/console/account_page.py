"""Reads of the account page beyond its cards: the security summary, the sign-in history and
the readable timeline. Each takes the tenant or the tenant's account: nothing of another
tenant leaks. A handful of queries whatever the account holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db.models import Case, Count, OuterRef, Q, Subquery, Value, When
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Account, AccountEmail
from portal.console import display, event_names
from portal.console.actions import FACTOR_LABELS
from portal.console.selectors import SessionRow
from portal.models import AuditEvent, Tenant
from security import selectors as security_selectors
from security.models import AccountLockout, BackupCode, LoginFailureCounter
from security.services.factors import FACTORS, mfa_state_read
from security.services.lockout import LOCKED_TYPE_FAILED_LOGINS, MANUAL_LOCK
from tokens.services.sessions import parse_user_agent

SIGNIN_ACTIONS = ("signin.succeeded", "signin.failed")
LOCK_TYPES = {
    LOCKED_TYPE_FAILED_LOGINS: "too many wrong passwords",
    MANUAL_LOCK: "locked by staff",
}
TIMELINE_PAGE = 50


def account_for_page(*, tenant: Tenant, uid: str) -> Account | None:
    """The account with its lock loaded in the same query and its emails and identities
    prefetched (what the page, its badges and its actions' `applies` read)."""
    qs = Account.objects.filter(tenant=tenant, uid=uid)
    return (
        security_selectors.accounts_with_lockout(qs)
        .prefetch_related("emails", "identities")
        .first()
    )


def account_names(*, tenant: Tenant, uids: set[str]) -> dict[str, str]:
    """UID -> the name staff know the account by (display.person_name), for the accounts of
    `tenant` among `uids` (one query; an unknown or deleted UID is simply absent)."""
    wanted = sorted(u for u in uids if u)[:200]
    if not wanted:
        return {}
    primary = (
        AccountEmail.objects.filter(account=OuterRef("pk"))
        .order_by(Case(When(type__iexact="primary", then=Value(0)), default=Value(1)), "pk")
        .values("value")[:1]
    )
    rows = (
        Account.objects.filter(tenant=tenant, uid__in=wanted)
        .only("uid", "first_name", "middle_name", "last_name", "username")
        .annotate(primary_email=Subquery(primary))
    )
    return {row.uid: display.person_name(row) for row in rows}


# Sign-in history -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigninRow:
    at: datetime
    succeeded: bool
    ip: str
    device: str
    method: str
    reason: str  # why it was refused, as a person says it ("" when it succeeded)


def device_of(user_agent: str) -> str:
    """ "Firefox on Linux" from a User-Agent ("" when there is none)."""
    parsed = parse_user_agent(user_agent or "")
    return " on ".join(p for p in (parsed["browser"], parsed["os"]) if p and p != "Unknown")


def account_signins(*, tenant: Tenant, uid: str, limit: int = 15) -> list[SigninRow]:
    """The account's latest sign-in attempts (signin.succeeded / signin.failed), newest first."""
    events = AuditEvent.objects.filter(
        tenant=tenant, subject_uid=uid, action__in=SIGNIN_ACTIONS
    ).only("occurred_at", "action", "ip", "user_agent", "diff")[:limit]
    rows = []
    for event in events:
        diff = event.diff if isinstance(event.diff, dict) else {}
        ok = event.action == "signin.succeeded"
        rows.append(
            SigninRow(
                at=event.occurred_at,
                succeeded=ok,
                ip=event.ip or "",
                device=device_of(event.user_agent) or "unknown device",
                method=str(diff.get("method") or ""),
                reason="" if ok else event_names.signin_reason(diff.get("reason")),
            )
        )
    return rows


# Security summary -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusEvent:
    at: datetime
    reason: str
    by: str


@dataclass(frozen=True)
class SecuritySummary:
    blocked: bool
    block: StatusEvent | None
    lock: AccountLockout | None
    locked: bool
    lock_kind: str
    lock_event: StatusEvent | None
    failure_count: int
    last_failure_at: datetime | None
    last_failure: SigninRow | None
    factors: dict[str, bool]
    backup_total: int
    backup_remaining: int
    sessions: list[SessionRow]
    last_signin_at: datetime | None
    last_signin: SigninRow | None
    factors_on: list[tuple[str, str]] = field(default_factory=list)  # (name, label)
    factors_off: list[str] = field(default_factory=list)

    @property
    def sessions_shown(self) -> list[SessionRow]:
        return self.sessions[:3]

    @property
    def sessions_more(self) -> int:
        return max(len(self.sessions) - 3, 0)


def _count_of(model: Any, **filters: Any) -> Subquery:
    # No literal in the SQL: mfa_state_read writes its query once with stand-in parameters.
    rows = (
        model.objects.filter(account=OuterRef("pk"), **filters)
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(rows)


def account_security_state(*, account: Account) -> dict[str, Any]:
    """Factors, failed-sign-in counter and backup codes of the account in one query."""
    counter = LoginFailureCounter.objects.filter(account=OuterRef("pk"))
    state = mfa_state_read(
        account=account,
        failure_count=Subquery(counter.values("failure_count")[:1]),
        last_failure_at=Subquery(counter.values("last_failure_at")[:1]),
        backup_total=_count_of(BackupCode),
        backup_remaining=_count_of(BackupCode, used_at__isnull=True),
    )
    last_failure_at = state.extra["last_failure_at"]
    if isinstance(last_failure_at, str):  # SQLite gives a subquery's datetime as text
        last_failure_at = parse_datetime(last_failure_at)
        if last_failure_at is not None and timezone.is_naive(last_failure_at):
            last_failure_at = timezone.make_aware(last_failure_at, UTC)
    return {
        "factors": state.factors,
        "failure_count": state.extra["failure_count"] or 0,
        "last_failure_at": last_failure_at,
        "backup_total": state.extra["backup_total"] or 0,
        "backup_remaining": state.extra["backup_remaining"] or 0,
    }


def _status_events(*, tenant: Tenant, account: Account, actions: list[str]) -> dict[str, Any]:
    """The latest event of each of `actions` on the account (one query, only when asked)."""
    if not actions:
        return {}
    found: dict[str, StatusEvent] = {}
    events = AuditEvent.objects.filter(
        tenant=tenant, subject_uid=account.uid, action__in=actions
    ).only(
        "occurred_at", "action", "reason", "actor_type", "actor_id", "actor_label", "subject_uid"
    )
    for event in events[:20]:
        if event.action not in found:
            found[event.action] = StatusEvent(
                at=event.occurred_at,
                reason=event.reason,
                by=event_names.actor_text(event, names={account.uid: display.person_name(account)}),
            )
    return found


def account_security_summary(
    *,
    tenant: Tenant,
    account: Account,
    sessions: list[SessionRow],
    signins: list[SigninRow],
) -> SecuritySummary:
    """What support asks first: may the person sign in, and why not."""
    state = account_security_state(account=account)
    lock = security_selectors.account_lockout(account=account)
    locked = security_selectors.lock_in_force(lock)
    wanted = ([] if account.is_active else ["account.blocked"]) + (
        ["account.locked"] if lock is not None else []
    )
    status = _status_events(tenant=tenant, account=account, actions=wanted)
    factors = state["factors"]
    labels = {name: FACTOR_LABELS.get(name, name) for name in FACTORS}
    return SecuritySummary(
        blocked=not account.is_active,
        block=status.get("account.blocked"),
        lock=lock,
        locked=locked,
        lock_kind=LOCK_TYPES.get(lock.locked_type, lock.locked_type) if lock else "",
        lock_event=status.get("account.locked"),
        failure_count=state["failure_count"],
        last_failure_at=state["last_failure_at"],
        last_failure=next((s for s in signins if not s.succeeded), None),
        factors=factors,
        backup_total=state["backup_total"],
        backup_remaining=state["backup_remaining"],
        sessions=sessions,
        last_signin_at=account.last_login_date,
        last_signin=next((s for s in signins if s.succeeded), None),
        factors_on=[(n, labels[n]) for n in FACTORS if factors.get(n)],
        factors_off=[labels[n] for n in FACTORS if not factors.get(n)],
    )


# Timeline ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineLine:
    event: AuditEvent
    sentence: str
    kind: str
    diff: list[event_names.DiffRow]


@dataclass(frozen=True)
class TimelinePage:
    lines: list[TimelineLine]
    older: int | None  # the cursor of the next page (the last shown event's id)
    kind: str
    actor: str
    actors: list[tuple[str, str]]  # (filter value, label)


def actor_key(event: AuditEvent) -> str:
    return f"{event.actor_type}:{event.actor_id or event.actor_label}"


def _actor_filter(value: str) -> Q:
    actor_type, _, who = value.partition(":")
    return Q(actor_type=actor_type) & (Q(actor_id=who) | Q(actor_id="", actor_label=who))


def timeline_actors(*, tenant: Tenant, account: Account) -> list[tuple[str, str]]:
    """Who acted on the account (for the actor filter), at most 30 distinct actors."""
    rows = (
        AuditEvent.objects.filter(tenant=tenant, subject_uid=account.uid)
        .order_by()
        .values_list("actor_type", "actor_id", "actor_label", "subject_uid")
        .distinct()[:30]
    )
    names = {account.uid: display.person_name(account)}
    seen: dict[str, str] = {}
    for actor_type, actor_id, actor_label, subject_uid in rows:
        event = AuditEvent(
            actor_type=actor_type,
            actor_id=actor_id,
            actor_label=actor_label,
            subject_uid=subject_uid,
        )
        seen.setdefault(actor_key(event), event_names.actor_text(event, names=names))
    return sorted(seen.items(), key=lambda item: item[1].lower())


def account_timeline_page(
    *,
    tenant: Tenant,
    account: Account,
    kind: str = "",
    actor: str = "",
    before: int | None = None,
    limit: int = TIMELINE_PAGE,
) -> TimelinePage:
    """One page of the account's events, newest first, narrowed by kind and actor; `before`
    (an event id) continues after the page that ended with that event."""
    qs = AuditEvent.objects.filter(tenant=tenant, subject_uid=account.uid)
    if kind:
        qs = qs.filter(action__in=event_names.kind_actions(kind))
    if actor:
        qs = qs.filter(_actor_filter(actor))
    if before is not None:
        at = AuditEvent.objects.filter(tenant=tenant, subject_uid=account.uid, pk=before).values(
            "occurred_at"
        )[:1]
        qs = qs.filter(Q(occurred_at__lt=Subquery(at)) | Q(occurred_at=Subquery(at), pk__lt=before))
    events = list(qs[: limit + 1])
    more = len(events) > limit
    events = events[:limit]
    names = {account.uid: display.person_name(account)}
    others = event_names.account_uids_of(events) - {account.uid}
    if others:
        names.update(account_names(tenant=tenant, uids=others))
    lines = [
        TimelineLine(
            event=event,
            sentence=event_names.event_sentence(event, names=names),
            kind=event_names.KIND_LABELS.get(event_names.event_kind(event.action), "Other"),
            diff=event_names.diff_rows(event),
        )
        for event in events
    ]
    return TimelinePage(
        lines=lines,
        older=events[-1].pk if more and events else None,
        kind=kind,
        actor=actor,
        actors=[],
    )

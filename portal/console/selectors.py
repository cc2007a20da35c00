"""Reads the console screens need. Each takes the tenant: nothing of another tenant leaks."""

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Max, Q
from django.db.models.functions import Lower, TruncDate
from django.db.models.lookups import Exact
from django.utils import timezone

from accounts import text_search
from accounts.models import Account, AccountEmail
from customobjects.models import CustomObjectRecord
from portal.models import AuditEvent, Tenant
from roles import selectors as role_selectors
from security import selectors as security_selectors
from security import services as security_services
from security.models import BackupCode, PasskeyCredential
from tokens.models import MultipurposeToken, OutboxMessage, TokenFamily

_PHONE_CHARS = re.compile(r"[\s().-]")


def exactly_named_ids(*, tenant: Tenant, query: str) -> list[int]:
    """Ids of the accounts `query` names whole, each through its unique index: a UID, a
    username (any case), a phone number (punctuation aside) or an email (any case)."""
    lowered = query.lower()
    exact = Q(uid=query) | Q(Exact(Lower("username"), lowered))
    phone = _PHONE_CHARS.sub("", query)
    if phone.lstrip("+").isdigit() and len(phone.lstrip("+")) >= 6:
        exact |= Q(phone_id__in={phone, "+" + phone.lstrip("+")})
    ids = list(
        Account.objects.filter(tenant=tenant).filter(exact).values_list("pk", flat=True)[:10]
    )
    if "@" in query:
        ids += (
            AccountEmail.objects.annotate(v=Lower("value"))
            .filter(tenant=tenant, v=lowered)
            .values_list("account_id", flat=True)[:1]
        )
    return ids


def account_search(
    *,
    tenant: Tenant,
    query: str = "",
    blocked: bool | None = None,
    locked: bool | None = None,
    email_verified: bool | None = None,
):
    """Accounts of `tenant` matching one box that understands UID, email, phone, username and
    name, narrowed by flags.

    An exact UID, username (any case), phone or email finds its account through its unique
    index, and then only that account is listed. Anything else is a name or fragment,
    matched through the trigram index on `search_text` (lower-cased names, username, phone,
    UID and emails); several words must each occur in it. No branch scans the table."""
    qs = Account.objects.filter(tenant=tenant)
    query = (query or "").strip()
    if query:
        lowered = query.lower()
        ids = exactly_named_ids(tenant=tenant, query=query)
        if ids:
            qs = qs.filter(pk__in=ids)
        else:
            for word in lowered.split():
                qs = text_search.containing_word(qs, word=word)
    if blocked is not None:
        qs = qs.filter(is_active=not blocked)
    if locked is not None:
        qs = qs.filter(pk__in=security_selectors.account_ids_locked(tenant=tenant, value=locked))
    if email_verified is not None:
        qs = qs.filter(email_verified=email_verified)
    # Each row's lock badge reads the lock loaded with the page; the rest of a row comes with
    # the page too (search_selectors.account_rows).
    return security_selectors.accounts_with_lockout(qs)


def account_lockout(*, account: Account):
    """The account's sign-in lock (security's), or None."""
    return security_selectors.account_lockout(account=account)


def account_timeline(*, tenant: Tenant, uid: str, limit: int = 50) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(tenant=tenant, subject_uid=uid)[:limit])


def audit_events(*, tenant: Tenant):
    return AuditEvent.objects.filter(tenant=tenant)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    total: int
    maximum: int
    width: int = 640
    height: int = 180
    empty_text: str = "Nothing yet."

    @property
    def is_empty(self) -> bool:
        return self.total == 0

    @property
    def baseline(self) -> int:
        return self.height - 24


MAX_BAR_SLOT = 64


def bar_chart(
    title: str,
    points: list[tuple[str, int]],
    *,
    width: int = 640,
    height: int = 180,
    empty_text: str = "Nothing yet.",
) -> BarChart:
    """Geometry of a bar chart drawn as SVG by the template (no script, no library)."""
    top, bottom = 16, 24
    plot_height = height - top - bottom
    maximum = max((v for _, v in points), default=0)
    # A slot never wider than MAX_BAR_SLOT: one or two bars stay bars, not a filled box.
    slot = min(width / max(len(points), 1), MAX_BAR_SLOT)
    bars = []
    for i, (label, value) in enumerate(points):
        h = (value / maximum * plot_height) if maximum else 0
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(i * slot + slot * 0.15, 1),
                y=round(top + plot_height - h, 1),
                width=round(slot * 0.7, 1),
                height=round(h, 1),
            )
        )
    return BarChart(
        title=title,
        bars=bars,
        total=sum(v for _, v in points),
        maximum=maximum,
        width=width,
        height=height,
        empty_text=empty_text,
    )


def _per_day(qs, field: str, days: int) -> list[tuple[str, int]]:
    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    # A range on the column itself: its index walks the window (a date of each row would not).
    since = datetime.combine(start, time.min, tzinfo=UTC)
    rows = (
        qs.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field))
        .values("day")
        .annotate(n=Count("pk"))
    )
    counts: dict[date, int] = {row["day"]: row["n"] for row in rows}
    return [
        ((start + timedelta(days=i)).strftime("%d %b"), counts.get(start + timedelta(days=i), 0))
        for i in range(days)
    ]


def signups_per_day(*, tenant: Tenant, days: int = 14) -> list[tuple[str, int]]:
    return _per_day(Account.objects.filter(tenant=tenant), "created", days)


LOCKOUT_ACTION_SUFFIX = ".locked"


def lockouts_per_day(*, tenant: Tenant, days: int = 14) -> list[tuple[str, int]]:
    """Lockouts as the audit log records them (`<entity>.locked`, e.g. account.locked)."""
    qs = AuditEvent.objects.filter(tenant=tenant, action__endswith=LOCKOUT_ACTION_SUFFIX)
    return _per_day(qs, "occurred_at", days)


def deliveries_by_status(*, tenant: Tenant) -> list[tuple[str, int]]:
    """Outbox messages by status over the last 14 days."""
    qs = OutboxMessage.objects.filter(
        tenant=tenant, created__gte=timezone.now() - timedelta(days=14)
    )
    rows = qs.values("status").annotate(n=Count("pk")).order_by("status")
    return [(str(row["status"]), row["n"]) for row in rows]


def active_sessions_count(*, tenant: Tenant) -> int:
    """Live sessions (refresh-token families)."""
    return TokenFamily.objects.filter(
        tenant=tenant, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).count()


def account_roles(*, account: Account) -> list[str]:
    """The account's role names (the roles section's contract selector)."""
    return role_selectors.account_role_names(account=account)


# The account page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    pk: int
    created: object
    expires_at: object
    ip: str
    device: str
    impersonation: bool
    actor_label: str
    reason: str
    # When its newest access token was issued (a sign-in, a refresh or a slide).
    last_active: object = None

    @property
    def label(self) -> str:
        started = self.created.strftime("%Y-%m-%d %H:%M") if self.created else "?"
        who = f" · impersonation by {self.actor_label}" if self.impersonation else ""
        return f"#{self.pk} · {self.device or 'unknown device'} · {self.ip or 'no IP'} · since {started}{who}"


def account_sessions(*, account: Account) -> list[SessionRow]:
    """The account's live sessions (refresh-token families), newest first."""
    rows = (
        TokenFamily.objects.filter(
            tenant=account.tenant_id,
            account=account,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .annotate(last_active=Max("access_tokens__created"))
        .order_by("-created", "-pk")[:50]
    )
    return [
        SessionRow(
            pk=f.pk,
            created=f.created,
            expires_at=f.expires_at,
            ip=f.ip or "",
            device=" on ".join(p for p in (f.browser, f.os) if p),
            impersonation=f.is_impersonation,
            actor_label=f.actor_label,
            reason=f.reason,
            last_active=f.last_active or f.created,
        )
        for f in rows
    ]


def account_passkeys(*, account: Account) -> list[dict]:
    """The account's passkeys, oldest first, each with a label that tells them apart."""
    return [
        {
            "id": p.credential_id,
            "label": f"{p.authenticator or 'Passkey'}"
            f"{' · ' + p.identifier if p.identifier else ''}"
            f" · added {p.created:%Y-%m-%d}",
            "created": p.created,
        }
        for p in PasskeyCredential.objects.filter(account=account).order_by("created", "pk")
    ]


def account_mfa(*, account: Account) -> dict:
    """Second factors, passkeys and backup codes of the account (through security's reads)."""
    factors = security_services.account_mfa_state(account=account)
    codes = BackupCode.objects.filter(account=account)
    total = codes.count()
    return {
        "factors": factors,
        "passkeys": account_passkeys(account=account),
        "backup_total": total,
        "backup_remaining": codes.filter(used_at__isnull=True).count() if total else 0,
    }


def account_contexts(*, account: Account) -> list:
    return role_selectors.role_context_list(account=account)


def roles_of(*, tenant: Tenant) -> list:
    return role_selectors.role_list(tenant=tenant)


def role_names_of(*, tenant: Tenant) -> list[str]:
    return role_selectors.role_names(tenant=tenant)


def account_records(*, account: Account) -> list:
    """The account's custom-object records, by type then age."""
    records = list(
        CustomObjectRecord.objects.filter(tenant=account.tenant_id, account=account)
        .select_related("object_type")
        .order_by("object_type__name", "created", "pk")[:100]
    )
    for record in records:
        record.preview = json.dumps(record.data, ensure_ascii=False)
    return records


def account_tokens(*, account: Account, limit: int = 10) -> list[dict]:
    """The account's latest one-time tokens with their state (never their value)."""
    now = timezone.now()
    out = []
    for t in MultipurposeToken.objects.filter(tenant=account.tenant_id, account=account).order_by(
        "-created", "-pk"
    )[:limit]:
        if t.used_at:
            state = "used"
        elif t.retired_at:
            state = "retired"
        elif t.expires_at <= now:
            state = "expired"
        else:
            state = "live"
        out.append(
            {
                "purpose": t.purpose,
                "kind": t.kind,
                "destination": t.destination,
                "created": t.created,
                "expires_at": t.expires_at,
                "state": state,
            }
        )
    return out


def account_deliveries(*, account: Account, limit: int = 10) -> list:
    """The account's latest outbound messages with their delivery status."""
    return list(
        OutboxMessage.objects.filter(tenant=account.tenant_id, account=account).order_by(
            "-created", "-pk"
        )[:limit]
    )

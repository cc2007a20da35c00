"""Multipurpose email tokens and SMS OTPs, and the messages that deliver them.

A token is purpose-bound, account-bound, single-use and time-limited; only its keyed hash
is stored. A newer token of the same purpose retires the older one. Sending is limited by a
per-destination cooldown and per-tenant daily caps, both counted in the database inside the
caller's transaction, so a rolled-back request neither sends nor counts.
"""

import json
import logging
import random
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone

from accounts.models import Account
from portal import audit, crypto
from portal.audit import Actor
from portal.lrapi.errors import LRError
from portal.models import Tenant
from tokens.models import DailySendCount, MultipurposeToken, OutboxMessage, SendCooldown

logger = logging.getLogger("tokens.delivery")

EMAIL_TOKEN_TYPES = (
    "emailverification",
    "addemail",
    "forgotpassword",
    "deleteuser",
    "passwordlesslogin",
    "forgotpin",
    "onetouchlogin",
    "autologin",
)
SMS_OTP_TYPES = (
    "addphone",
    "phoneidverification",
    "forgotpassword",
    "forgotpin",
    "onetouchlogin",
    "smartlogin",
    "passwordlesslogin",
    "deleteuser",
)
TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
FALLBACK_TEMPLATE = "generic"


@dataclass(frozen=True)
class IssuedToken:
    token: MultipurposeToken
    value: str  # the plain token or OTP; returned once, never stored
    message: OutboxMessage | None = None

    @property
    def expires_at(self) -> datetime:
        return self.token.expires_at


def lr_datetime(value: datetime) -> str:
    """LoginRadius date format: `2023-04-05T09:08:03.288Z`."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------
# Limits: per-destination cooldown and per-tenant daily caps
# ---------------------------------------------------------------------------------------


def _limit_error(channel: str, retry_after: int) -> LRError:
    code = 1179 if channel == OutboxMessage.CHANNEL_SMS else 1178
    return LRError(code, headers={"Retry-After": str(max(1, int(retry_after)))})


def _cooldown_take(*, tenant: Tenant, channel: str, destination: str) -> None:
    """Claim the destination's cooldown slot, or raise 1178/1179 with Retry-After.

    A conditional UPDATE takes the slot only if the last use is old enough; concurrent
    requests for one destination serialize on its row, so exactly one of them wins."""
    seconds = int(tenant.setting("send_cooldown_seconds"))
    if seconds <= 0:
        return
    now = timezone.now()
    rows = SendCooldown.objects.filter(tenant=tenant, channel=channel, destination=destination)
    if rows.filter(last_at__lte=now - timedelta(seconds=seconds)).update(last_at=now):
        return
    try:
        with transaction.atomic():
            SendCooldown.objects.create(tenant=tenant, channel=channel, destination=destination, last_at=now)
        return
    except IntegrityError:
        pass
    last = rows.values_list("last_at", flat=True).first() or now
    remaining = (last + timedelta(seconds=seconds) - now).total_seconds()
    raise _limit_error(channel, remaining + 0.999)


def _daily_cap_take(*, tenant: Tenant, channel: str) -> None:
    """Count one message against the tenant's daily cap of the channel, or raise 1178/1179."""
    cap = int(tenant.setting("daily_sms_cap" if channel == OutboxMessage.CHANNEL_SMS else "daily_email_cap"))
    now = timezone.now()
    day = now.astimezone(UTC).date()
    rows = DailySendCount.objects.filter(tenant=tenant, channel=channel, day=day)
    for _ in range(2):
        if rows.filter(count__lt=cap).update(count=F("count") + 1):
            return
        if rows.exists():
            break
        if cap <= 0:
            break
        try:
            with transaction.atomic():
                DailySendCount.objects.create(tenant=tenant, channel=channel, day=day, count=1)
            return
        except IntegrityError:
            continue  # created concurrently: count against it
    midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    raise _limit_error(channel, (midnight - now).total_seconds() + 0.999)


# ---------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------


def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def _template_candidates(tenant, name: str, default: str) -> list[str]:
    """A tenant's own templates (templates/<kind>/tenants/<tenant slug>/<name>) win over the
    shared ones; the requested name wins over the message type's default."""
    names = [n for n in (name, default) if n and TEMPLATE_NAME.match(n)]
    slug = getattr(tenant, "slug", "") or ""
    candidates = []
    for n in names:
        if slug and TEMPLATE_NAME.match(slug):
            candidates.append(f"tenants/{slug}/{n}")
        candidates.append(n)
    return candidates


def email_template_resolve(name: str, default: str, tenant=None) -> str:
    """The email template to use: `name` if templates/emails/<name>/ exists, else `default`
    (each looked up for the tenant first), else the generic template."""
    for candidate in _template_candidates(tenant, name, default):
        if _template_exists(f"emails/{candidate}/body.txt") or _template_exists(f"emails/{candidate}.txt"):
            return candidate
    return FALLBACK_TEMPLATE


def sms_template_resolve(name: str, default: str, tenant=None) -> str:
    for candidate in _template_candidates(tenant, name, default):
        if _template_exists(f"sms/{candidate}.txt"):
            return candidate
    return FALLBACK_TEMPLATE


def _link(base: str, default_path: str, params: dict[str, str]) -> str:
    """`base` (or PUBLIC_BASE_URL + default_path) with `params` appended to its query."""
    base = base or settings.PUBLIC_BASE_URL.rstrip("/") + default_path
    parts = urlsplit(base)
    query = (parts.query + "&" if parts.query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


# ---------------------------------------------------------------------------------------
# The outbox
# ---------------------------------------------------------------------------------------


def _schedule_delivery(message_id: int) -> None:
    """Hand the message to the broker. If the broker is down the row stays queued and the
    relay sends it later; the committed request must not fail because of it."""
    from tokens.message_tasks import message_deliver_task

    try:
        message_deliver_task.apply_async(
            (message_id,),
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
        )
    except Exception as exc:  # broker unreachable: the relay picks the row up
        logger.warning("message %s not handed to the broker (%s); the relay will", message_id, type(exc).__name__)


def message_enqueue(
    *,
    tenant,
    account,
    channel: str,
    template: str,
    recipient: str,
    context: dict,
    expires_at=None,
    token: MultipurposeToken | None = None,
    check_limits: bool = True,
    template_resolved: bool = False,
) -> OutboxMessage:
    """Write an outbox message (channel "email" or "sms") in the caller's transaction and
    schedule its delivery after commit. `template` names templates/emails/<template>/ (or
    templates/emails/<template>.txt) or templates/sms/<template>.txt, a tenant's own copy under
    templates/<emails|sms>/tenants/<slug>/ first; an unknown name falls back to the generic
    template, which shows context["subject"]/["body"]/["code"].
    Messages whose `expires_at` has passed are never sent. Counts against the tenant's daily
    cap (and, with `check_limits`, the recipient's cooldown): 1178/1179 when exhausted."""
    if channel not in (OutboxMessage.CHANNEL_EMAIL, OutboxMessage.CHANNEL_SMS):
        raise ValueError(f"unknown channel {channel!r}")
    with transaction.atomic():
        if check_limits:
            _cooldown_take(tenant=tenant, channel=channel, destination=recipient.lower())
        _daily_cap_take(tenant=tenant, channel=channel)
        if template_resolved:
            resolved = template
        elif channel == OutboxMessage.CHANNEL_EMAIL:
            resolved = email_template_resolve(template, FALLBACK_TEMPLATE, tenant)
        else:
            resolved = sms_template_resolve(template, FALLBACK_TEMPLATE, tenant)
        message = OutboxMessage.objects.create(
            tenant=tenant,
            account=account,
            token=token,
            channel=channel,
            template=resolved,
            recipient=recipient,
            context_encrypted=crypto.encrypt(json.dumps(context, default=str)),
            expires_at=expires_at,
        )
        transaction.on_commit(lambda: _schedule_delivery(message.pk), robust=True)
    return message


def message_context(message: OutboxMessage) -> dict:
    if not message.context_encrypted:
        return {}
    return json.loads(crypto.decrypt(message.context_encrypted))


# ---------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------


def _new_value(kind: str, tenant: Tenant) -> str:
    if kind == MultipurposeToken.KIND_SMS:
        length = max(4, min(12, int(tenant.setting("sms_otp_length"))))
        return "".join(secrets.choice("0123456789") for _ in range(length))
    return secrets.token_hex(16)  # 128 bits, 32 hex like LoginRadius tokens


def account_tokens_retire(*, account, purposes: list[str], kind: str | None = None) -> int:
    """Retire the account's live multipurpose tokens of these purposes (e.g. a password
    change retires "forgotpassword" tokens). Returns how many were retired."""
    rows = MultipurposeToken.objects.live().filter(account=account, purpose__in=list(purposes))
    if kind:
        rows = rows.filter(kind=kind)
    return rows.update(retired_at=timezone.now())


def token_issue(
    *,
    tenant: Tenant,
    account: Account,
    actor: Actor,
    kind: str,
    purpose: str,
    destination: str,
    lifetime: timedelta | None = None,
    data: dict | None = None,
    send: bool = False,
    template: str = "",
    link_base: str = "",
    voice: bool = False,
    reason: str = "",
    ticket: str = "",
) -> IssuedToken:
    """Issue a token (retiring the account's older token of the same purpose) and, with
    `send`, queue the message that carries it (counted against the daily cap). Raises
    1178/1179 when the destination's cooldown or the cap is reached."""
    channel = OutboxMessage.CHANNEL_SMS if kind == MultipurposeToken.KIND_SMS else OutboxMessage.CHANNEL_EMAIL
    if lifetime is None:
        minutes = tenant.setting(
            "sms_otp_lifetime_minutes" if kind == MultipurposeToken.KIND_SMS else "email_token_lifetime_minutes"
        )
        lifetime = timedelta(minutes=int(minutes))
    if purpose == "forgotpassword" and kind == MultipurposeToken.KIND_EMAIL:
        from accounts.services import email_recovery_check

        email_recovery_check(account=account, email=destination)
    with transaction.atomic():
        _cooldown_take(tenant=tenant, channel=channel, destination=f"{purpose}:{destination.lower()}")
        account_tokens_retire(account=account, purposes=[purpose], kind=kind)
        value = _new_value(kind, tenant)
        now = timezone.now()
        token = MultipurposeToken.objects.create(
            tenant=tenant,
            account=account,
            kind=kind,
            purpose=purpose,
            token_hash=crypto.token_hash(value),
            destination=destination,
            data=data or {},
            created=now,
            expires_at=now + lifetime,
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="multipurpose_token.issued",
            subject_uid=account.uid,
            reason=reason,
            ticket=ticket,
            changes={"kind": kind, "purpose": purpose, "destination": destination, "sent": send,
                     "expires_at": lr_datetime(token.expires_at)},
        )
        message = None
        if send:
            message = _token_message_enqueue(
                tenant=tenant, account=account, token=token, value=value, channel=channel,
                template=template, link_base=link_base, voice=voice,
            )
    return IssuedToken(token=token, value=value, message=message)


_LINK_PATHS = {
    "emailverification": ("/auth/verify-email", "emailverification"),
    "addemail": ("/auth/verify-email", "emailverification"),
    "forgotpassword": ("/auth/reset-password", "reset"),
    "deleteuser": ("/auth/delete-account", "deleteuser"),
    "passwordlesslogin": ("/auth/login", "passwordlesslogin"),
    "forgotpin": ("/auth/reset-pin", "forgotpin"),
    "onetouchlogin": ("/auth/login", "onetouchlogin"),
    "autologin": ("/auth/login", "autologin"),
}


def _token_message_enqueue(
    *, tenant, account, token, value, channel, template, link_base, voice
) -> OutboxMessage:
    context = {
        "purpose": token.purpose,
        "name": account.first_name or "",
        "expires_at": lr_datetime(token.expires_at),
        "lifetime_minutes": int((token.expires_at - token.created).total_seconds() // 60),
    }
    if channel == OutboxMessage.CHANNEL_SMS:
        context.update({"code": value, "voice": voice})
        resolved = sms_template_resolve(template, token.purpose, tenant)
    else:
        path, vtype = _LINK_PATHS.get(token.purpose, ("/auth/verify", token.purpose))
        context.update({"token": value, "link": _link(link_base, path, {"vtype": vtype, "vtoken": value}),
                        "email": token.destination})
        resolved = email_template_resolve(template, token.purpose, tenant)
    return message_enqueue(
        tenant=tenant, account=account, channel=channel, template=resolved,
        recipient=token.destination, context=context, expires_at=token.expires_at,
        token=token, check_limits=False, template_resolved=True,
    )


def verification_email_send(
    *, tenant, account, email: str, actor: Actor, template: str = "", verification_url: str = "",
    reason: str = "", ticket: str = "",
) -> IssuedToken:
    """Queue an email-verification message for `email` of `account` (in the caller's
    transaction; delivered after commit)."""
    return token_issue(
        tenant=tenant, account=account, actor=actor, kind=MultipurposeToken.KIND_EMAIL,
        purpose="emailverification", destination=email, send=True, template=template,
        link_base=verification_url, reason=reason, ticket=ticket,
    )


def phone_verification_send(
    *, tenant, account, actor: Actor, template: str = "", voice: bool = False,
    reason: str = "", ticket: str = "",
) -> IssuedToken:
    """Queue a phone-verification OTP SMS to the account's phone."""
    if not account.phone_id:
        raise LRError(908, "The phone is a required parameter.")
    return token_issue(
        tenant=tenant, account=account, actor=actor, kind=MultipurposeToken.KIND_SMS,
        purpose="phoneidverification", destination=account.phone_id, send=True,
        template=template, voice=voice, reason=reason, ticket=ticket,
    )


# Errors for a token that is unknown / already used / expired, by how it is consumed.
_EMAIL_LINK_ERRORS = (973, 974, 975)
_LINK_ERRORS = (979, 979, 979)
_OTP_ERRORS = (1067, 1068, 1069)


def token_consume(
    *,
    tenant: Tenant,
    kind: str,
    purposes: list[str],
    value: str,
    destination: str | None = None,
    errors: tuple[int, int, int] = _LINK_ERRORS,
) -> MultipurposeToken:
    """Mark the live token with this value used and return it; must run inside the caller's
    transaction so that the action the token authorizes commits with its use.

    One conditional UPDATE does the check and the use: of concurrent uses exactly one
    matches the row while it is still unused."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("token_consume must run inside a transaction")
    now = timezone.now()
    rows = MultipurposeToken.objects.filter(
        tenant=tenant, kind=kind, purpose__in=purposes, token_hash=crypto.token_hash(value or "")
    )
    if destination is not None:
        rows = rows.filter(destination__iexact=destination)
    live = rows.filter(used_at__isnull=True, retired_at__isnull=True, expires_at__gt=now)
    ids = list(live.values_list("pk", flat=True)[:1])
    if ids and MultipurposeToken.objects.filter(
        pk=ids[0], used_at__isnull=True, retired_at__isnull=True, expires_at__gt=now
    ).update(used_at=now):
        return MultipurposeToken.objects.select_related("account").get(pk=ids[0])
    unknown, used, expired = errors
    seen = rows.order_by("-created").first()
    if seen is None or seen.retired_at is not None:
        raise LRError(unknown)
    if seen.used_at is not None:
        raise LRError(used)
    raise LRError(expired)


def _consumed(*, tenant, token: MultipurposeToken, actor: Actor) -> None:
    audit.record(
        tenant=tenant,
        actor=actor,
        action="multipurpose_token.consumed",
        subject_uid=token.account.uid,
        changes={"kind": token.kind, "purpose": token.purpose, "destination": token.destination},
    )


def email_verify_by_token(*, tenant: Tenant, value: str, actor: Actor | None = None) -> Account:
    """Verify the email a verification (or add-email) token was issued for."""
    from accounts import services as account_services

    with transaction.atomic():
        token = token_consume(
            tenant=tenant, kind=MultipurposeToken.KIND_EMAIL, purposes=["emailverification", "addemail"],
            value=value, errors=_EMAIL_LINK_ERRORS,
        )
        account = token.account
        actor = actor or Actor.account(account.uid)
        if token.purpose == "addemail":
            account_services.account_email_upsert(
                tenant=tenant, actor=actor, account=account,
                emails=[{"Type": token.data.get("type") or "Secondary", "Value": token.destination}],
            )
        account_services.account_email_mark_verified(
            tenant=tenant, actor=actor, account=account, email=token.destination
        )
        _consumed(tenant=tenant, token=token, actor=actor)
    return account


def password_reset_by_token(*, tenant: Tenant, value: str, password: str) -> Account:
    """Set a new password with a forgot-password email token."""
    from accounts import services as account_services

    with transaction.atomic():
        token = token_consume(
            tenant=tenant, kind=MultipurposeToken.KIND_EMAIL, purposes=["forgotpassword"], value=value,
        )
        actor = Actor.account(token.account.uid)
        account_services.account_password_set(
            tenant=tenant, actor=actor, account=token.account, password=password,
            reason="password reset by token",
        )
        _consumed(tenant=tenant, token=token, actor=actor)
    return token.account


def password_reset_by_otp(*, tenant: Tenant, phone: str, otp: str, password: str) -> Account:
    """Set a new password with a forgot-password SMS OTP sent to `phone`."""
    from accounts import services as account_services

    with transaction.atomic():
        token = token_consume(
            tenant=tenant, kind=MultipurposeToken.KIND_SMS, purposes=["forgotpassword"], value=otp,
            destination=phone, errors=_OTP_ERRORS,
        )
        actor = Actor.account(token.account.uid)
        account_services.account_password_set(
            tenant=tenant, actor=actor, account=token.account, password=password,
            reason="password reset by SMS OTP",
        )
        _consumed(tenant=tenant, token=token, actor=actor)
    return token.account


def phone_verify_by_otp(*, tenant: Tenant, phone: str, otp: str, device: dict | None = None):
    """Verify `phone` with the OTP sent to it (phone verification or add-phone); proving the
    phone signs the owner in, as LoginRadius does. Returns (account, IssuedSession)."""
    from accounts import services as account_services
    from tokens.services.sessions import session_issue

    with transaction.atomic():
        token = token_consume(
            tenant=tenant, kind=MultipurposeToken.KIND_SMS, purposes=["phoneidverification", "addphone"],
            value=otp, destination=phone, errors=_OTP_ERRORS,
        )
        account = token.account
        actor = Actor.account(account.uid)
        if token.purpose == "addphone" or account.phone_id != token.destination:
            account_services.account_phone_update(
                tenant=tenant, actor=actor, account=account, phone=token.destination
            )
            account.refresh_from_db()
        account_services.account_phone_mark_verified(tenant=tenant, actor=actor, account=account)
        _consumed(tenant=tenant, token=token, actor=actor)
        account.refresh_from_db()
        session = session_issue(
            tenant=tenant, account=account, actor=actor, reason="phone verified by OTP", device=device
        )
    return account, session


def account_delete_by_token(*, tenant: Tenant, value: str) -> None:
    """Delete the account a delete-user token was issued for."""
    from accounts import services as account_services

    with transaction.atomic():
        token = token_consume(
            tenant=tenant, kind=MultipurposeToken.KIND_EMAIL, purposes=["deleteuser"], value=value,
        )
        actor = Actor.account(token.account.uid)
        _consumed(tenant=tenant, token=token, actor=actor)
        account_services.account_delete(
            tenant=tenant, actor=actor, account=token.account, reason="deleted by delete token"
        )


def account_messages_list(*, tenant: Tenant, account: Account, status: str = ""):
    """The account's outbox messages, newest first (delivery status for the console and
    GET /api/v1/messages); a read, no side effects."""
    rows = OutboxMessage.objects.filter(tenant=tenant, account=account)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created", "-id")


def multipurpose_tokens_purge(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete tokens that expired, were used or were retired more than `older_than` ago."""
    cutoff = timezone.now() - older_than
    deleted, _ = MultipurposeToken.objects.filter(
        Q(expires_at__lt=cutoff) | Q(used_at__lt=cutoff) | Q(retired_at__lt=cutoff)
    ).delete()
    return deleted


# ---------------------------------------------------------------------------------------
# Delivery
# ---------------------------------------------------------------------------------------


class DeliveryError(Exception):
    """A send failed; `permanent` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # "sent", "failed", "retry", "busy", "skipped"
    retry_in: float = 0.0


def retry_delay(attempts: int) -> float:
    """Exponential backoff with full jitter, capped below CELERY_MAX_RETRY_DELAY so the broker's
    visibility timeout always outlasts a scheduled retry."""
    cap = max(1.0, float(settings.CELERY_MAX_RETRY_DELAY) - 1.0)
    ceiling = min(cap, 2.0 * (2 ** max(0, attempts - 1)))
    return max(0.5, random.uniform(ceiling / 2, ceiling))


def _claim(message_id: int) -> OutboxMessage | None:
    """Atomically move the message to "sending" (from queued, or from a stale claim whose
    worker vanished). Returns the claimed row, or None if someone else holds or finished it."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)
    claimable = Q(status=OutboxMessage.QUEUED, available_at__lte=now) | Q(
        status=OutboxMessage.SENDING, claimed_at__lt=stale
    )
    claimed = OutboxMessage.objects.filter(claimable, pk=message_id).update(
        status=OutboxMessage.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return OutboxMessage.objects.select_related("token", "account", "tenant").get(pk=message_id)


def _finish(message: OutboxMessage, **fields) -> None:
    fields.setdefault("claimed_at", None)
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.SENDING).update(
        modified=timezone.now(), **fields
    )


def message_deliver(*, message_id: int) -> DeliveryOutcome:
    """Send one outbox message at most once per claim: claim it, refuse expired or
    superseded tokens, send through the channel's backend, record the outcome."""
    message = _claim(message_id)
    if message is None:
        row = OutboxMessage.objects.filter(pk=message_id).values("status", "claimed_at", "available_at").first()
        if row is None or row["status"] in (OutboxMessage.SENT, OutboxMessage.FAILED):
            return DeliveryOutcome("skipped")
        now = timezone.now()
        if row["status"] == OutboxMessage.SENDING:
            lease_end = row["claimed_at"] + timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)
            return DeliveryOutcome("busy", max(1.0, (lease_end - now).total_seconds() + 1))
        return DeliveryOutcome("busy", max(1.0, (row["available_at"] - now).total_seconds()))

    now = timezone.now()
    if message.expires_at is not None and message.expires_at <= now:
        _finish(message, status=OutboxMessage.FAILED, last_error="expired before delivery", context_encrypted="")
        return DeliveryOutcome("failed")
    if message.token is not None and not message.token.is_live:
        _finish(message, status=OutboxMessage.FAILED, last_error="token no longer valid", context_encrypted="")
        return DeliveryOutcome("failed")

    try:
        provider_id = _send(message)
    except DeliveryError as exc:
        error = str(exc)[:500]
        if exc.permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _finish(message, status=OutboxMessage.FAILED, last_error=error, context_encrypted="")
            logger.warning("message %s failed for good after %s attempts: %s", message.pk, message.attempts, error)
            return DeliveryOutcome("failed")
        delay = retry_delay(message.attempts)
        _finish(
            message, status=OutboxMessage.QUEUED, last_error=error,
            available_at=timezone.now() + timedelta(seconds=delay),
        )
        logger.info("message %s attempt %s failed (%s); retrying in %.1fs", message.pk, message.attempts, error, delay)
        return DeliveryOutcome("retry", delay)
    _finish(
        message, status=OutboxMessage.SENT, sent_at=timezone.now(), provider_message_id=provider_id[:200],
        last_error="", context_encrypted="",
    )
    return DeliveryOutcome("sent")


def _send(message: OutboxMessage) -> str:
    context = message_context(message)
    if message.channel == OutboxMessage.CHANNEL_SMS:
        from tokens import sms

        body = render_sms(message.template, context)
        return sms.sms_send(
            to=message.recipient, body=body, voice=bool(context.get("voice")),
            idempotency_key=str(message.idempotency_key),
        )
    from tokens import mail

    return mail.email_send(
        to=message.recipient, template=message.template, context=context,
        idempotency_key=str(message.idempotency_key),
    )


def render_sms(template: str, context: dict) -> str:
    return get_template(f"sms/{template}.txt").render(context).strip()


def outbox_relay(*, limit: int = 500) -> int:
    """Hand queued messages that nobody scheduled (broker down at commit, retry lost) and
    stale claims back to the broker. Returns how many were re-enqueued."""
    now = timezone.now()
    queued_before = now - timedelta(seconds=settings.OUTBOX_RELAY_AFTER_SECONDS)
    stale = now - timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)
    ids = list(
        OutboxMessage.objects.filter(
            Q(status=OutboxMessage.QUEUED, available_at__lte=now, modified__lte=queued_before)
            | Q(status=OutboxMessage.SENDING, claimed_at__lt=stale)
        )
        .order_by("available_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in ids:
        _schedule_delivery(message_id)
    if ids:
        # Touch them so the next relay run does not re-enqueue them again straight away.
        OutboxMessage.objects.filter(pk__in=ids, status=OutboxMessage.QUEUED).update(modified=now)
    return len(ids)

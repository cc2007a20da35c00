"""Guided recovery of an account whose holder lost access: before support resets a second
factor or changes the primary email, the checks the tenant asks for (`recovery_checks`)
must pass, each recorded on the case and as an event.

- code: a code sent to an address the account still has verified; stored as a hash, used
  once (the case row is locked while it is checked), a limited number of wrong tries;
- answers: the account's security answers (security_answers_verify, throttled);
- document, callback: the agent's word, with the document check's reference or the number
  called back.

Then the reset or change runs through its own service, as whoever opened the case, and
through the approval gate (portal.approval_gate): recovery never skips a second person.
With a cooling-off period (`recovery_cooling_off_hours`) it is scheduled instead, the
holder is told at once with a link to cancel it, and `recovery_case_run` (a beat task)
runs it when due if the case is still scheduled. The cancel token is stored as a hash and
works once, before the change is due.
"""

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.commands import EmailAddress, EmailUpsert
from accounts.models import Account
from accounts.notices import notice_send
from portal import approval_gate, audit, events, slots, staff
from portal.audit import Actor
from portal.crypto import constant_time_equals, token_hash
from portal.errors import DomainError, FieldError, FieldRequired, InvalidInput
from portal.models import AuditEvent, Tenant
from security.commands import (
    FactorReset,
    RecoveryAttest,
    RecoveryCaseClose,
    RecoveryCaseOpen,
    RecoveryCodeSend,
    RecoveryProceed,
    RecoveryRun,
)
from security.errors import (
    RecoveryAttemptsSpent,
    RecoveryCancelRefused,
    RecoveryCaseNotFound,
    RecoveryCaseNotOpen,
    RecoveryChannelUnavailable,
    RecoveryChecksMissing,
    RecoveryCheckUnknown,
    RecoveryOpenerNotAllowed,
)
from security.models import OtpFactor, RecoveryCase
from security.services.factors import FACTORS, mfa_factor_reset
from security.services.otp import otp_code_new
from security.services.security_questions import security_answers_verify

CHECKS = ("code", "answers", "document", "callback")
ATTESTED = ("document", "callback")
CHANNELS = (OtpFactor.CHANNEL_EMAIL, OtpFactor.CHANNEL_SMS)
CODE_LENGTH = 6
CANCEL_PATH = "/recovery/cancel/"
# The console action the opener needs, per purpose, when the case opens and when it runs.
PURPOSE_ACTIONS = {
    RecoveryCase.FACTOR_RESET: "security.reset",
    RecoveryCase.EMAIL_CHANGE: "account.edit",
}


def _locked(tenant: Tenant, case_id: int) -> RecoveryCase:
    case = (
        RecoveryCase.objects.select_for_update()
        .select_related("account")
        .filter(tenant=tenant, pk=case_id)
        .first()
    )
    if case is None:
        raise RecoveryCaseNotFound()
    return case


def _open(case: RecoveryCase) -> None:
    if case.status != RecoveryCase.OPEN:
        raise RecoveryCaseNotOpen()


def _asked(case: RecoveryCase, check: str) -> None:
    if check not in case.checks_required:
        raise RecoveryCheckUnknown()
    if check in case.checks_passed:
        raise RecoveryCaseNotOpen("This check already passed.")


def _record(case: RecoveryCase, action: str, actor: Actor, changes: dict[str, Any]) -> AuditEvent:
    return audit.record(
        tenant=case.tenant,
        actor=actor,
        action=action,
        subject_uid=case.account.uid,
        reason=case.reason,
        ticket=case.ticket,
        changes={"case": case.pk, **changes},
    )


def _opener(case: RecoveryCase) -> Actor:
    return Actor(case.opened_by_type, case.opened_by_id, case.opened_by_label)


def _opener_may(case: RecoveryCase) -> None:
    """Whoever opened the case must still be allowed to make its change when it runs."""
    if case.opened_by_type != AuditEvent.ACTOR_STAFF:
        raise RecoveryOpenerNotAllowed()
    user = get_user_model().objects.filter(pk=case.opened_by_id).first()
    if user is None or not staff.staff_may(
        user=user, tenant=case.tenant, action=PURPOSE_ACTIONS[case.purpose]
    ):
        raise RecoveryOpenerNotAllowed()


def _passed(case: RecoveryCase, check: str, note: dict[str, Any], actor: Actor) -> None:
    case.checks_passed = {
        **case.checks_passed,
        check: {"at": timezone.now().isoformat(), "by": actor.label, **note},
    }


@events.reads
def recovery_channels(*, account: Account) -> dict[str, str]:
    """channel -> address the account still has verified: a verified email (the primary
    first), a verified phone or a confirmed SMS factor's number."""
    found: dict[str, str] = {}
    emails = sorted(
        (e for e in account.emails.all() if e.verified), key=lambda e: e.type.lower() != "primary"
    )
    if emails:
        found[OtpFactor.CHANNEL_EMAIL] = emails[0].value
    if account.phone_id and account.phone_id_verified:
        found[OtpFactor.CHANNEL_SMS] = account.phone_id
    else:
        factor = OtpFactor.objects.filter(
            account=account, channel=OtpFactor.CHANNEL_SMS, confirmed=True
        ).first()
        if factor is not None:
            found[OtpFactor.CHANNEL_SMS] = factor.destination
    return found


@events.reads
def recovery_case_get(*, tenant: Tenant, case_id: Any) -> RecoveryCase:
    try:
        number = int(case_id)
    except (TypeError, ValueError):
        raise RecoveryCaseNotFound() from None
    case = RecoveryCase.objects.select_related("account").filter(tenant=tenant, pk=number).first()
    if case is None:
        raise RecoveryCaseNotFound()
    return case


@events.reads
def recovery_case_events(case: RecoveryCase) -> list[AuditEvent]:
    """The case's history, oldest first."""
    found = AuditEvent.objects.filter(
        tenant=case.tenant, subject_uid=case.account.uid, action__startswith="recovery_case."
    ).order_by("id")
    return [event for event in found if (event.diff or {}).get("case") == case.pk]


@events.reads
def recovery_case_by_cancel_token(token: str) -> RecoveryCase | None:
    """The scheduled case a cancel link names, still cancellable (a read: GET never cancels)."""
    if not token:
        return None
    case = (
        RecoveryCase.objects.select_related("account", "tenant")
        .filter(cancel_token_hash=token_hash(token), status=RecoveryCase.SCHEDULED)
        .first()
    )
    if case is None or case.due_at is None or case.due_at <= timezone.now():
        return None
    return case


@events.reads
def recovery_change_text(case: RecoveryCase) -> str:
    """The change in words the holder reads."""
    if case.purpose == RecoveryCase.FACTOR_RESET:
        return f"one of your sign-in methods ({case.factor}) will be removed"
    return "the primary email address of your account will change"


@transaction.atomic
@events.emits("recovery_case.opened")
def recovery_case_open(
    command: RecoveryCaseOpen, *, tenant: Tenant, actor: Actor, account: Account
) -> RecoveryCase:
    """Open a case with the checks the tenant asks for now (a later settings change leaves
    open cases as they were)."""
    if command.purpose not in PURPOSE_ACTIONS:
        raise InvalidInput(field_errors=[FieldError("purpose", "Choose what the recovery is for.")])
    if not command.reason.strip():
        raise FieldRequired("reason")
    factor, new_email = "", ""
    if command.purpose == RecoveryCase.FACTOR_RESET:
        factor = command.factor.strip()
        if factor not in FACTORS:
            raise InvalidInput(field_errors=[FieldError("factor", "Choose a second factor.")])
    else:
        new_email = command.new_email.strip()
        try:
            validate_email(new_email)
        except ValidationError:
            raise InvalidInput(
                field_errors=[FieldError("new_email", "Enter a valid email address.")]
            ) from None
    chosen = tenant.setting("recovery_checks")
    required = [c for c in CHECKS if isinstance(chosen, list) and c in chosen] or ["code"]
    case = RecoveryCase.objects.create(
        tenant=tenant,
        account=account,
        purpose=command.purpose,
        factor=factor,
        new_email=new_email,
        checks_required=required,
        reason=command.reason.strip()[:500],
        ticket=command.ticket.strip()[:200],
        opened_by_type=actor.type,
        opened_by_id=actor.id,
        opened_by_label=actor.label[:200],
    )
    _record(case, "recovery_case.opened", actor, {"purpose": case.purpose, "checks": required})
    return case


@transaction.atomic
@events.emits("recovery_case.code_sent")
def recovery_code_send(command: RecoveryCodeSend, *, tenant: Tenant, actor: Actor) -> RecoveryCase:
    """Send a new code (the last one stops working) through the outbox."""
    case = _locked(tenant, command.case_id)
    _open(case)
    _asked(case, "code")
    if case.code_attempts >= int(tenant.setting("recovery_check_attempts")):
        raise RecoveryAttemptsSpent()
    address = recovery_channels(account=case.account).get(command.channel)
    if address is None:
        raise RecoveryChannelUnavailable()
    length = (
        int(tenant.setting("sms_otp_length"))
        if command.channel == OtpFactor.CHANNEL_SMS
        else CODE_LENGTH
    )
    code = otp_code_new(length)
    expires_at = timezone.now() + timedelta(minutes=int(tenant.setting("sms_otp_lifetime_minutes")))
    case.code_channel, case.code_destination = command.channel, address
    case.code_hash, case.code_expires_at = token_hash(code), expires_at
    case.save()
    slots.message_queue(
        tenant=tenant,
        account=case.account,
        channel=command.channel,
        recipient=address,
        template="generic",
        expires_at=expires_at,
        context={
            "subject": f"Your {tenant.name} support code",
            "body": f"Support is checking your identity. Read them this code: {code}. "
            "If you are not talking to support now, do not share it.",
            "code": code,
        },
    )
    _record(case, "recovery_case.code_sent", actor, {"channel": command.channel})
    return case


def _wrong(case: RecoveryCase, check: str, actor: Actor, field: str) -> bool:
    setattr(case, field, getattr(case, field) + 1)
    if field == "code_attempts" and case.code_attempts >= int(
        case.tenant.setting("recovery_check_attempts")
    ):
        case.code_hash = ""  # spent: no code of this case works any more
    case.save()
    _record(case, "recovery_case.check_failed", actor, {"check": check})
    return False


@transaction.atomic
@events.emits("recovery_case.check_passed", "recovery_case.check_failed", proof=True)
def recovery_code_verify(*, tenant: Tenant, actor: Actor, case_id: int, code: str) -> bool:
    """The code the holder read back: right once, before it expires. The locked row makes
    it single-use when two checks race."""
    case = _locked(tenant, case_id)
    _open(case)
    _asked(case, "code")
    if case.code_attempts >= int(tenant.setting("recovery_check_attempts")):
        raise RecoveryAttemptsSpent()
    given = token_hash("".join(str(code or "").split()))
    live = bool(case.code_hash) and (
        case.code_expires_at is not None and case.code_expires_at > timezone.now()
    )
    if not live or not constant_time_equals(case.code_hash, given):
        return _wrong(case, "code", actor, "code_attempts")
    _passed(case, "code", {"channel": case.code_channel}, actor)
    case.code_hash = ""
    case.save()
    _record(case, "recovery_case.check_passed", actor, {"check": "code"})
    return True


@transaction.atomic
@events.emits("recovery_case.check_passed", "recovery_case.check_failed", proof=True)
def recovery_answers_verify(
    *, tenant: Tenant, actor: Actor, case_id: int, answers: dict[str, str]
) -> bool:
    """The holder's security answers, every one given right."""
    case = _locked(tenant, case_id)
    _open(case)
    _asked(case, "answers")
    if case.answer_attempts >= int(tenant.setting("recovery_check_attempts")):
        raise RecoveryAttemptsSpent()
    given = {str(q): str(a) for q, a in (answers or {}).items() if str(a or "").strip()}
    if not given or not security_answers_verify(account=case.account, answers=given):
        return _wrong(case, "answers", actor, "answer_attempts")
    _passed(case, "answers", {"questions": sorted(given)}, actor)
    case.save()
    _record(case, "recovery_case.check_passed", actor, {"check": "answers"})
    return True


@transaction.atomic
@events.emits("recovery_case.check_passed")
def recovery_attest(command: RecoveryAttest, *, tenant: Tenant, actor: Actor) -> RecoveryCase:
    """The agent attests a document check (with its reference) or a callback (with the
    number called)."""
    case = _locked(tenant, command.case_id)
    _open(case)
    if command.check not in ATTESTED:
        raise RecoveryCheckUnknown()
    _asked(case, command.check)
    if not command.confirmed:
        raise InvalidInput(
            field_errors=[FieldError("confirmed", "Tick the box to attest the check was made.")]
        )
    note: dict[str, Any]
    if command.check == "document":
        reference = command.reference.strip()
        if not reference:
            raise FieldRequired("reference")
        note = {"reference": reference[:200]}
    else:
        phone = command.phone.strip()
        if not phone:
            raise FieldRequired("phone")
        note = {"phone": phone[:40]}
    _passed(case, command.check, note, actor)
    case.save()
    _record(case, "recovery_case.check_passed", actor, {"check": command.check})
    return case


def _carry_out(case: RecoveryCase, *, cause: AuditEvent) -> None:
    """Run the case's change as its opener, through the approval gate; a refusal leaves the
    case failed with the reason, and changes nothing else."""
    account = case.account
    command: FactorReset | EmailUpsert
    if case.purpose == RecoveryCase.FACTOR_RESET:
        command = FactorReset(factor=case.factor, reason=case.reason, ticket=case.ticket)
    else:
        command = EmailUpsert(
            emails=(EmailAddress(type="Primary", value=case.new_email),),
            reason=case.reason,
            ticket=case.ticket,
        )
    opener = _opener(case)
    with events.caused_by(cause.pk):
        try:
            with transaction.atomic():
                _opener_may(case)
                held = approval_gate.hold(
                    command=command,
                    tenant=case.tenant,
                    actor=opener,
                    account_uid=account.uid,
                    summary=f"Recovery case {case.pk}: {recovery_change_text(case)}",
                )
                if held is not None:
                    case.status, case.approval_id = RecoveryCase.HELD, int(held["id"])
                elif isinstance(command, FactorReset):
                    mfa_factor_reset(command, tenant=case.tenant, actor=opener, account=account)
                    case.status = RecoveryCase.DONE
                else:
                    account_services.account_email_upsert(
                        command, tenant=case.tenant, actor=opener, account=account
                    )
                    case.status = RecoveryCase.DONE
        except DomainError as refused:
            case.status, case.outcome = RecoveryCase.FAILED, refused.sentence()[:1000]
            _record(case, "recovery_case.failed", _cause_actor(cause), {"error": refused.code})
    case.finished_at = timezone.now()
    case.cancel_token_hash = ""
    case.save()


def _cause_actor(event: AuditEvent) -> Actor:
    return Actor(event.actor_type, event.actor_id, event.actor_label)


@transaction.atomic
@events.emits(
    "recovery_case.scheduled", "recovery_case.completed", effects=("recovery_case.failed",)
)
def recovery_case_proceed(
    command: RecoveryProceed, *, tenant: Tenant, actor: Actor
) -> RecoveryCase:
    """Every check passed: with a cooling-off period the change is scheduled and the holder
    told at once, with a link to cancel it; without one it runs now."""
    case = _locked(tenant, command.case_id)
    _open(case)
    missing = [check for check in case.checks_required if check not in case.checks_passed]
    if missing:
        raise RecoveryChecksMissing(f"These checks have not passed yet: {', '.join(missing)}.")
    hours = int(tenant.setting("recovery_cooling_off_hours"))
    if hours <= 0:
        done = _record(case, "recovery_case.completed", actor, {"purpose": case.purpose})
        _carry_out(case, cause=done)
        return case
    token = secrets.token_urlsafe(32)
    case.status = RecoveryCase.SCHEDULED
    case.due_at = timezone.now() + timedelta(hours=hours)
    case.cancel_token_hash = token_hash(token)
    case.save()
    _record(
        case,
        "recovery_case.scheduled",
        actor,
        {"purpose": case.purpose, "due_at": case.due_at.isoformat()},
    )
    link = f"{settings.PUBLIC_BASE_URL.rstrip('/')}{CANCEL_PATH}?{urlencode({'token': token})}"
    notice_send(
        "recovery.scheduled",
        tenant=tenant,
        account=case.account,
        staff_label=actor.label,
        extra={
            "cancel_link": link,
            "due": case.due_at.strftime("%Y-%m-%d %H:%M UTC"),
            "change": recovery_change_text(case),
        },
    )
    return case


@transaction.atomic
@events.emits("recovery_case.completed", effects=("recovery_case.failed",))
def recovery_case_run(command: RecoveryRun, *, tenant: Tenant) -> RecoveryCase | None:
    """Run a scheduled case whose cooling-off ended; None when it is not (or no longer)
    scheduled, or not due: the locked row makes it run once."""
    case = _locked(tenant, command.case_id)
    if case.status != RecoveryCase.SCHEDULED or case.due_at is None or case.due_at > timezone.now():
        return None
    done = _record(
        case,
        "recovery_case.completed",
        Actor.system("recovery cooling-off"),
        {"purpose": case.purpose},
    )
    _carry_out(case, cause=done)
    return case


@transaction.atomic
@events.emits("recovery_case.cancelled", proof=True)
def recovery_case_cancel(*, token: str) -> RecoveryCase:
    """The holder stops a scheduled change with the link of their notice: once, and only
    before it is due."""
    case = (
        RecoveryCase.objects.select_for_update()
        .select_related("account", "tenant")
        .filter(cancel_token_hash=token_hash(token or ""))
        .first()
        if token
        else None
    )
    if (
        case is None
        or case.status != RecoveryCase.SCHEDULED
        or case.due_at is None
        or case.due_at <= timezone.now()
    ):
        raise RecoveryCancelRefused()
    case.status, case.finished_at, case.cancel_token_hash = (
        RecoveryCase.CANCELLED,
        timezone.now(),
        "",
    )
    case.outcome = "Cancelled by the account holder."
    case.save()
    _record(case, "recovery_case.cancelled", Actor.account(case.account.uid), {"by": "holder"})
    return case


@transaction.atomic
@events.emits("recovery_case.cancelled")
def recovery_case_close(
    command: RecoveryCaseClose, *, tenant: Tenant, actor: Actor
) -> RecoveryCase:
    """Staff end an open or scheduled case; nothing runs."""
    case = _locked(tenant, command.case_id)
    if case.status not in (RecoveryCase.OPEN, RecoveryCase.SCHEDULED):
        raise RecoveryCaseNotOpen()
    case.status, case.finished_at, case.cancel_token_hash = (
        RecoveryCase.CANCELLED,
        timezone.now(),
        "",
    )
    case.outcome = command.reason.strip()[:1000] or "Closed by support."
    case.save()
    _record(case, "recovery_case.cancelled", actor, {"by": "staff"})
    return case

"""Writes of account security: factors, reauthentication, login failures and lockout.

Verifiers (TOTP, backup codes, one-time codes, security answers) run through `_verify`,
which locks the verifier's throttle row of the account, refuses any attempt during the
delay that follows a failure (the delay doubles with each consecutive failure), and
counts every refused attempt, so parallel guesses are serialised and each one is counted.
"""

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account
from portal import audit
from portal.audit import Actor
from portal.crypto import constant_time_equals, decrypt, encrypt, token_hash
from portal.lrapi.errors import LRError
from portal.models import Tenant
from security.models import (
    BackupCode,
    DuoConfig,
    DuoEnrollment,
    DuoState,
    LoginFailureCounter,
    OtpCode,
    OtpFactor,
    PasskeyChallenge,
    PasskeyCredential,
    PushChallenge,
    PushDevice,
    SecondFactorToken,
    SecurityAnswer,
    SecurityAnswerChange,
    TotpFactor,
    VerifierThrottle,
)

logger = logging.getLogger("security")

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
BACKUP_CODE_COUNT = 10
THROTTLE_MAX_DELAY_SECONDS = 15 * 60
LOGIN_CHALLENGE_SECONDS = 10 * 60
LOCKED_TYPE_FAILED_LOGINS = "FailedLoginAttemptsExceeded"

# The factors an admin can reset, and the rows each one owns.
FACTORS = ("totp", "sms", "email", "securityquestion", "passkey", "push", "duo")


# --------------------------------------------------------------------------- throttling


def throttle_delay_seconds(failure_count: int) -> int:
    """The wait after `failure_count` consecutive failures: 0, 1, 2, 4, ... capped."""
    if failure_count <= 0:
        return 0
    return min(2 ** (failure_count - 1), THROTTLE_MAX_DELAY_SECONDS)


def _throttle_row(*, account: Account, verifier: str) -> VerifierThrottle:
    """The verifier's throttle row, locked until the caller's transaction ends."""
    try:
        with transaction.atomic():
            VerifierThrottle.objects.get_or_create(
                account=account, verifier=verifier, defaults={"tenant_id": account.tenant_id}
            )
    except IntegrityError:  # created by a parallel attempt
        pass
    return VerifierThrottle.objects.select_for_update().get(account=account, verifier=verifier)


def _verify(*, account: Account, verifier: str, check: Callable[[], bool]) -> bool:
    """Run `check` (which may consume what it matched) unless the verifier is throttled.

    A refused attempt (wrong, or made during the delay) adds one failure; an accepted one
    clears the count. The row lock makes check-and-count atomic under concurrency.
    """
    with transaction.atomic():
        row = _throttle_row(account=account, verifier=verifier)
        now = timezone.now()
        waiting = row.last_failure_at is not None and now < row.last_failure_at + timedelta(
            seconds=throttle_delay_seconds(row.failure_count)
        )
        if not waiting and check():
            if row.failure_count:
                VerifierThrottle.objects.filter(pk=row.pk).update(failure_count=0, last_failure_at=None)
            return True
        VerifierThrottle.objects.filter(pk=row.pk).update(
            failure_count=F("failure_count") + 1, last_failure_at=now
        )
        return False


def verifier_throttle_clear(*, account: Account, verifier: str | None = None) -> None:
    """Forget failures (after an admin reset of the factor)."""
    rows = VerifierThrottle.objects.filter(account=account)
    if verifier:
        rows = rows.filter(verifier=verifier)
    rows.update(failure_count=0, last_failure_at=None)


# --------------------------------------------------------------------------- notices

FACTOR_NOTICE_TEMPLATE = "factoradded"
FACTOR_NOTICE_NAMES = {
    "totp": "an authenticator app",
    "sms": "a phone number for sign-in codes",
    "email": "an email address for sign-in codes",
    "securityquestion": "security question answers",
    "passkey": "a passkey",
    "push": "a device that approves sign-ins",
}


def _notice_address(account: Account, fallback_phone: str) -> tuple[str, str] | None:
    """(channel, address) of the account holder: the primary email (any email when none is
    primary), else the account's phone, else `fallback_phone`, else the 2FA phone."""
    emails = list(account.emails.all())
    primary = next((e for e in emails if e.type.lower() == "primary"), emails[0] if emails else None)
    if primary is not None:
        return OtpFactor.CHANNEL_EMAIL, primary.value
    phone = account.phone_id or fallback_phone or OtpFactor.objects.filter(
        account=account, channel=OtpFactor.CHANNEL_SMS, confirmed=True
    ).values_list("destination", flat=True).first()
    return (OtpFactor.CHANNEL_SMS, phone) if phone else None


def factor_notice_send(*, tenant: Tenant, account: Account, factor: str, fallback_phone: str = "") -> None:
    """Tell the account holder that a sign-in factor was added or replaced, by email (by SMS
    when the account has no email), through the outbox in the caller's transaction. The
    notice names the kind of factor only, never its secret or address. When the tenant's
    daily cap is spent the change still stands; the miss is logged."""
    from tokens.services.multipurpose import message_enqueue

    address = _notice_address(account, fallback_phone)
    if address is None:
        return
    channel, recipient = address
    what = FACTOR_NOTICE_NAMES.get(factor, "a sign-in method")
    context = {
        "subject": f"A sign-in method was added to your {tenant.name} account",
        "body": f"{what[:1].upper()}{what[1:]} was added to your {tenant.name} account. If this was not you, "
                "secure your account now.",
        "factor": what, "application": tenant.name, "when": timezone.now().isoformat(),
    }
    try:
        with transaction.atomic():
            message_enqueue(tenant=tenant, account=account, channel=channel, template=FACTOR_NOTICE_TEMPLATE,
                            recipient=recipient, context=context, check_limits=False)
    except LRError as exc:
        logger.warning("factor notice for account %s not queued (%s)", account.uid, exc.error_code)


# --------------------------------------------------------------------------- TOTP


def totp_code(secret_b32: str, *, for_time: float, digits: int = TOTP_DIGITS, digest=hashlib.sha1) -> str:
    """The RFC 6238 code of a base32 secret at `for_time` (seconds since the epoch)."""
    return pyotp.TOTP(secret_b32, digits=digits, digest=digest).generate_otp(int(for_time) // TOTP_STEP_SECONDS)


def totp_matching_step(secret_b32: str, code: str, *, for_time: float) -> int | None:
    """The step (current, previous or next) whose code equals `code`, if any."""
    code = (code or "").strip()
    if not code.isdigit() or len(code) != TOTP_DIGITS:
        return None
    otp = pyotp.TOTP(secret_b32, digits=TOTP_DIGITS)
    current = int(for_time) // TOTP_STEP_SECONDS
    found = None
    for step in (current - 1, current, current + 1):
        if constant_time_equals(otp.generate_otp(step), code):
            found = step
    return found


def totp_provisioning_uri(*, tenant: Tenant, account: Account, secret_b32: str) -> str:
    label = account.username or account.uid
    return pyotp.TOTP(secret_b32).provisioning_uri(name=label, issuer_name=tenant.name)


@transaction.atomic
def totp_enroll(*, tenant: Tenant, actor: Actor, account: Account) -> str | None:
    """Start (or restart) an authenticator enrollment; the seed is shown until confirmed and
    stored encrypted. A confirmed authenticator is never shown again (None)."""
    existing = TotpFactor.objects.select_for_update().filter(account=account).first()
    if existing is not None and existing.confirmed:
        return None
    secret = pyotp.random_base32()
    if existing is None:
        TotpFactor.objects.create(tenant=tenant, account=account, secret_encrypted=encrypt(secret))
    else:
        existing.secret_encrypted = encrypt(secret)
        existing.last_used_step = None
        existing.save(update_fields=["secret_encrypted", "last_used_step"])
    audit.record(tenant=tenant, actor=actor, action="totp.enrolled", subject_uid=account.uid)
    return secret


def totp_verify(*, account: Account, code: str, confirm: bool = False, now: float | None = None) -> bool:
    """Accept a code of the enrolled authenticator once per step (replays are refused).

    With `confirm`, an unconfirmed enrollment becomes confirmed by its first good code.
    """
    moment = time.time() if now is None else now
    confirmed_now = []

    def check() -> bool:
        factor = TotpFactor.objects.filter(account=account).first()
        if factor is None or not (factor.confirmed or confirm):
            return False
        step = totp_matching_step(decrypt(factor.secret_encrypted), code, for_time=moment)
        if step is None:
            return False
        updated = TotpFactor.objects.filter(pk=factor.pk).filter(
            Q(last_used_step__isnull=True) | Q(last_used_step__lt=step)
        ).update(last_used_step=step, confirmed=True)
        if updated and not factor.confirmed:
            confirmed_now.append(factor)
        return bool(updated)

    ok = _verify(account=account, verifier="totp", check=check)
    if confirmed_now:
        with transaction.atomic():
            audit.record(
                tenant=account.tenant, actor=Actor.account(account.uid), action="totp.confirmed",
                subject_uid=account.uid, changes={"confirmed": [False, True]},
            )
            factor_notice_send(tenant=account.tenant, account=account, factor="totp")
    return ok


# --------------------------------------------------------------------------- backup codes


def _backup_code_new() -> str:
    raw = secrets.token_hex(5)
    return f"{raw[:5]}-{raw[5:]}"


def _backup_code_normal(code: str) -> str:
    return "".join((code or "").split()).lower()


@transaction.atomic
def backup_codes_generate(
    *, tenant: Tenant, actor: Actor, account: Account, reset: bool = False, reason: str = "", ticket: str = ""
) -> list[str]:
    """Issue ten single-use codes; without `reset`, refuse (1127) when codes already exist."""
    Account.objects.select_for_update().filter(pk=account.pk).first()
    existing = BackupCode.objects.filter(account=account)
    had = existing.count()
    if had and not reset:
        raise LRError(1127)
    existing.delete()
    codes: list[str] = []
    while len(codes) < BACKUP_CODE_COUNT:
        code = _backup_code_new()
        if code not in codes:
            codes.append(code)
    BackupCode.objects.bulk_create(
        [BackupCode(tenant=tenant, account=account, code_hash=token_hash(code)) for code in codes]
    )
    audit.record(
        tenant=tenant, actor=actor, subject_uid=account.uid,
        action="backup_codes.reset" if reset else "backup_codes.generated", reason=reason, ticket=ticket,
        changes={"backup_code_count": [had, BACKUP_CODE_COUNT]},
    )
    return codes


def backup_code_verify(*, account: Account, code: str) -> bool:
    """Consume one unused backup code; a used or unknown code is refused."""
    digest = token_hash(_backup_code_normal(code))

    def check() -> bool:
        return bool(
            BackupCode.objects.filter(account=account, code_hash=digest, used_at__isnull=True).update(
                used_at=timezone.now()
            )
        )

    return _verify(account=account, verifier="backupcode", check=check)


@transaction.atomic
def backup_codes_remove(*, tenant: Tenant, actor: Actor, account: Account, reason: str = "", ticket: str = "") -> int:
    """Withdraw every backup code (codes someone else may hold); none is issued in their place."""
    removed = BackupCode.objects.filter(account=account).delete()[0]
    verifier_throttle_clear(account=account, verifier="backupcode")
    audit.record(tenant=tenant, actor=actor, action="backup_codes.removed", subject_uid=account.uid,
                 reason=reason, ticket=ticket, changes={"backup_code_count": [removed, 0]})
    return removed


# --------------------------------------------------------------------------- email and SMS codes


def _otp_new(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


@transaction.atomic
def otp_factor_set(*, tenant: Tenant, actor: Actor, account: Account, channel: str, destination: str) -> OtpFactor:
    """Point the account's email or SMS factor at a destination. A factor not confirmed yet
    simply moves there. A confirmed factor keeps its destination (sign-in codes still go
    there) and holds the new one as pending until a code sent to it confirms it
    (`otp_factor_confirm`); naming the current destination again drops the pending one."""
    if channel not in (OtpFactor.CHANNEL_EMAIL, OtpFactor.CHANNEL_SMS) or not destination:
        raise ValueError("an email or sms channel and a destination are required")
    factor = OtpFactor.objects.select_for_update().filter(account=account, channel=channel).first()
    before = _otp_factor_fields(factor) if factor else {}
    if factor is None:
        factor = OtpFactor(tenant=tenant, account=account, channel=channel, destination=destination)
    elif factor.confirmed:
        same = _same_destination(channel, factor.destination, destination)
        factor.pending_destination = "" if same else destination
    elif not _same_destination(channel, factor.destination, destination):
        factor.destination = destination
        factor.pending_destination = ""
    factor.save()
    audit.record(
        tenant=tenant, actor=actor, action="otp_factor.enrolled", subject_uid=account.uid,
        changes={"channel": [None, channel], **audit.diff(before, _otp_factor_fields(factor))},
    )
    return factor


def _same_destination(channel: str, a: str, b: str) -> bool:
    return a.lower() == b.lower() if channel == OtpFactor.CHANNEL_EMAIL else a == b


def _otp_factor_fields(factor: OtpFactor) -> dict:
    return {"destination": factor.destination, "confirmed": factor.confirmed,
            "pending_destination": factor.pending_destination or None}


def _otp_code_issue(*, tenant: Tenant, account: Account, channel: str, destination: str, template: str) -> OtpCode:
    """A fresh code for `destination`, sent through the outbox; earlier unused codes sent
    there stop working."""
    from tokens.services.multipurpose import message_enqueue

    length = int(tenant.setting("sms_otp_length")) if channel == OtpFactor.CHANNEL_SMS else 6
    code = _otp_new(length)
    expires_at = timezone.now() + timedelta(minutes=int(tenant.setting("sms_otp_lifetime_minutes")))
    OtpCode.objects.filter(account=account, channel=channel, destination=destination, used_at__isnull=True).delete()
    row = OtpCode.objects.create(
        tenant=tenant, account=account, channel=channel, destination=destination, code_hash=token_hash(code),
        expires_at=expires_at,
    )
    message_enqueue(
        tenant=tenant, account=account, channel=channel, template=template or "mfa_otp",
        recipient=destination, expires_at=expires_at,
        context={"subject": "Your verification code", "body": "Your verification code is", "code": code,
                 "expires_at": expires_at.isoformat()},
    )
    return row


def _not_set_up(channel: str) -> LRError:
    return LRError(1134, errors=[{"FieldName": channel, "ErrorMessage": "This second factor is not set up."}])


@transaction.atomic
def otp_send(*, tenant: Tenant, account: Account, channel: str, template: str = "") -> OtpCode:
    """Send a sign-in (or reauthentication) code to the confirmed destination of the
    factor; a factor that is not confirmed sends nothing (1134)."""
    factor = OtpFactor.objects.filter(account=account, channel=channel, confirmed=True).first()
    if factor is None:
        raise _not_set_up(channel)
    return _otp_code_issue(tenant=tenant, account=account, channel=channel, destination=factor.destination,
                           template=template)


@transaction.atomic
def otp_factor_code_send(*, tenant: Tenant, account: Account, channel: str, template: str = "") -> OtpCode:
    """Send the code that confirms the factor's new destination: the pending one, or the
    destination of a factor not confirmed yet."""
    factor = OtpFactor.objects.filter(account=account, channel=channel).first()
    if factor is None:
        raise _not_set_up(channel)
    return _otp_code_issue(tenant=tenant, account=account, channel=channel,
                           destination=factor.pending_destination or factor.destination, template=template)


def _otp_code_use(*, account: Account, channel: str, destination: str, code: str) -> bool:
    digest = token_hash("".join(str(code or "").split()))
    return bool(
        OtpCode.objects.filter(
            account=account, channel=channel, destination=destination, code_hash=digest, used_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).update(used_at=timezone.now())
    )


def otp_verify(*, account: Account, channel: str, code: str) -> bool:
    """A sign-in or reauthentication code: only a code sent to the confirmed destination
    of a confirmed factor is accepted, once. It never confirms anything."""

    def check() -> bool:
        factor = OtpFactor.objects.filter(account=account, channel=channel, confirmed=True).first()
        if factor is None:
            return False
        return _otp_code_use(account=account, channel=channel, destination=factor.destination, code=code)

    return _verify(account=account, verifier=f"otp_{channel}", check=check)


def otp_factor_confirm(*, tenant: Tenant, actor: Actor, account: Account, channel: str, code: str) -> bool:
    """Confirm the factor's new destination with the code sent to it: a pending destination
    then replaces the old one, a new factor becomes confirmed, and the account holder is
    told. A code sent anywhere else (a sign-in code to the old destination) is refused."""

    def check() -> bool:
        factor = OtpFactor.objects.select_for_update().filter(account=account, channel=channel).first()
        if factor is None:
            return False
        target = factor.pending_destination or factor.destination
        if not _otp_code_use(account=account, channel=channel, destination=target, code=code):
            return False
        if factor.confirmed and not factor.pending_destination:
            return True  # the confirmed destination verified again: nothing changes
        before = _otp_factor_fields(factor)
        old = factor.destination if factor.confirmed else ""
        factor.destination, factor.pending_destination, factor.confirmed = target, "", True
        factor.save(update_fields=["destination", "pending_destination", "confirmed"])
        OtpCode.objects.filter(account=account, channel=channel, used_at__isnull=True).exclude(destination=target).delete()
        audit.record(
            tenant=tenant, actor=actor, action="otp_factor.confirmed", subject_uid=account.uid,
            changes={"channel": [None, channel], **audit.diff(before, _otp_factor_fields(factor))},
        )
        factor_notice_send(tenant=tenant, account=account, factor=channel,
                           fallback_phone=old if channel == OtpFactor.CHANNEL_SMS else "")
        return True

    return _verify(account=account, verifier=f"otp_{channel}", check=check)


# --------------------------------------------------------------------------- security questions


def _answer_normal(answer: str) -> str:
    return "".join(str(answer or "").split()).casefold()


def _answers_cleaned(answers: dict[str, str]) -> dict[str, str]:
    """Question id -> answer hash; 1134 when a question has no answer."""
    cleaned = {str(q).strip(): a for q, a in answers.items() if str(q).strip()}
    if not cleaned or any(not _answer_normal(a) for a in cleaned.values()):
        raise LRError(1134, errors=[{"FieldName": "securityquestionanswer", "ErrorMessage": "Every question needs an answer."}])
    return {question: token_hash(_answer_normal(answer)) for question, answer in cleaned.items()}


def _answers_apply(*, tenant: Tenant, account: Account, hashes: dict[str, str]) -> None:
    for question, answer_hash in hashes.items():
        SecurityAnswer.objects.update_or_create(
            account=account, question_id=question, defaults={"tenant": tenant, "answer_hash": answer_hash},
        )


@transaction.atomic
def security_answers_set(*, tenant: Tenant, actor: Actor, account: Account, answers: dict[str, str]) -> None:
    """Set the answers to the given questions (others are kept); stored only as hashes.
    Takes effect at once: back ends (account create/update), and an account's own first
    answers while it has no second factor. A pending change of the account is dropped."""
    hashes = _answers_cleaned(answers)
    _answers_apply(tenant=tenant, account=account, hashes=hashes)
    SecurityAnswerChange.objects.filter(account=account).delete()
    audit.record(
        tenant=tenant, actor=actor, action="security_answers.updated", subject_uid=account.uid,
        changes={"questions": [None, sorted(hashes)]},
    )
    factor_notice_send(tenant=tenant, account=account, factor="securityquestion")


def _confirmation_address(account: Account) -> tuple[str, str] | None:
    """(channel, address) a confirmation code goes to: the primary email (any email when
    none is primary), else the confirmed 2FA phone."""
    emails = list(account.emails.all())
    primary = next((e for e in emails if e.type.lower() == "primary"), emails[0] if emails else None)
    if primary is not None:
        return OtpFactor.CHANNEL_EMAIL, primary.value
    phone = OtpFactor.objects.filter(account=account, channel=OtpFactor.CHANNEL_SMS, confirmed=True).first()
    if phone is not None:
        return OtpFactor.CHANNEL_SMS, phone.destination
    return None


@transaction.atomic
def security_answers_request(
    *, tenant: Tenant, actor: Actor, account: Account, answers: dict[str, str], email_template: str = "",
    sms_template: str = "",
) -> bool:
    """The account's own change of its answers. Without a second factor they take effect at
    once. With one (answers already, an authenticator, a code factor, a push device) they
    would be a new way past it, so they are held until the code sent to the primary email
    (or the 2FA phone when there is no email) confirms them (`security_answers_confirm`).
    Returns whether they are pending. A newer change replaces a pending one."""
    from tokens.services.multipurpose import message_enqueue

    hashes = _answers_cleaned(answers)
    if not account_has_mfa(account=account):
        security_answers_set(tenant=tenant, actor=actor, account=account, answers=answers)
        return False
    address = _confirmation_address(account)
    if address is None:
        raise LRError(1134, errors=[{"FieldName": "securityquestionanswer",
                                     "ErrorMessage": "The account has no email or 2FA phone to confirm new answers with."}])
    channel, recipient = address
    length = int(tenant.setting("sms_otp_length")) if channel == OtpFactor.CHANNEL_SMS else 6
    code = _otp_new(length)
    expires_at = timezone.now() + timedelta(minutes=int(tenant.setting("sms_otp_lifetime_minutes")))
    SecurityAnswerChange.objects.update_or_create(
        account=account,
        defaults={"tenant": tenant, "answers": hashes, "code_hash": token_hash(code), "expires_at": expires_at},
    )
    message_enqueue(
        tenant=tenant, account=account, channel=channel, recipient=recipient,
        template=(sms_template if channel == OtpFactor.CHANNEL_SMS else email_template) or "mfa_otp",
        expires_at=expires_at,
        context={"subject": "Confirm your new security answers",
                 "body": f"Someone asked to change the security answers of your account. If it was you, confirm with the code {code}. If not, ignore this message and keep your answers.",
                 "code": code, "expires_at": expires_at.isoformat()},
    )
    audit.record(
        tenant=tenant, actor=actor, action="security_answers.change_requested", subject_uid=account.uid,
        changes={"questions": [None, sorted(hashes)], "confirm_by": [None, channel]},
    )
    return True


def security_answers_confirm(*, tenant: Tenant, actor: Actor, account: Account, code: str) -> bool:
    """Put the pending answers in force with the code sent for them, once, before it
    expires; the account holder is told."""
    digest = token_hash("".join(str(code or "").split()))

    def check() -> bool:
        change = SecurityAnswerChange.objects.select_for_update().filter(
            account=account, expires_at__gt=timezone.now()
        ).first()
        if change is None or not constant_time_equals(change.code_hash, digest):
            return False
        _answers_apply(tenant=tenant, account=account, hashes=change.answers)
        change.delete()
        audit.record(
            tenant=tenant, actor=actor, action="security_answers.updated", subject_uid=account.uid,
            changes={"questions": [None, sorted(change.answers)], "confirmed": [False, True]},
        )
        factor_notice_send(tenant=tenant, account=account, factor="securityquestion")
        return True

    return _verify(account=account, verifier="securityquestion_change", check=check)


def security_answers_verify(*, account: Account, answers: dict[str, str]) -> bool:
    """Every given answer must match (case and spaces ignored) and at least one be given."""

    def check() -> bool:
        stored = {row.question_id: row.answer_hash for row in SecurityAnswer.objects.filter(account=account)}
        if not answers or not stored:
            return False
        ok = True
        for question, answer in answers.items():
            expected = stored.get(str(question).strip())
            given = token_hash(_answer_normal(answer))
            if expected is None or not constant_time_equals(expected, given):
                ok = False
        return ok

    return _verify(account=account, verifier="securityquestion", check=check)


# --------------------------------------------------------------------------- factor resets


def account_mfa_state(*, account: Account) -> dict[str, bool]:
    """Which second factors the account has (what a sign-in must ask for)."""
    channels = set(OtpFactor.objects.filter(account=account, confirmed=True).values_list("channel", flat=True))
    return {
        "totp": TotpFactor.objects.filter(account=account, confirmed=True).exists(),
        "sms": OtpFactor.CHANNEL_SMS in channels,
        "email": OtpFactor.CHANNEL_EMAIL in channels,
        "securityquestion": SecurityAnswer.objects.filter(account=account).exists(),
        "passkey": PasskeyCredential.objects.filter(account=account).exists(),
        "push": PushDevice.objects.filter(account=account).exists(),
        "duo": DuoEnrollment.objects.filter(account=account).exists(),
    }


def account_has_mfa(*, account: Account) -> bool:
    state = account_mfa_state(account=account)
    if any(state[name] for name in ("totp", "sms", "email", "securityquestion", "push")):
        return True
    return duo_required(tenant=account.tenant)


def factor_rows(account: Account, factor: str):
    """The rows that make up one kind of factor of the account."""
    if factor == "totp":
        return TotpFactor.objects.filter(account=account)
    if factor in ("sms", "email"):
        return OtpFactor.objects.filter(account=account, channel=factor)
    if factor == "securityquestion":
        return SecurityAnswer.objects.filter(account=account)
    if factor == "passkey":
        return PasskeyCredential.objects.filter(account=account)
    if factor == "push":
        return PushDevice.objects.filter(account=account)
    if factor == "duo":
        return DuoEnrollment.objects.filter(account=account)
    raise ValueError(f"unknown factor {factor!r}")


@transaction.atomic
def mfa_factor_reset(
    *, tenant: Tenant, actor: Actor, account: Account, factor: str, reason: str = "", ticket: str = ""
) -> int:
    """Remove one factor of the account (support: lost phone, new device) and end its
    sessions, since they may have been opened with the factor being withdrawn."""
    from tokens.services.sessions import account_sessions_revoke

    rows = factor_rows(account, factor)
    removed = rows.count()
    rows.delete()
    if factor in ("sms", "email"):
        OtpCode.objects.filter(account=account, channel=factor, used_at__isnull=True).delete()
    if factor == "securityquestion":
        SecurityAnswerChange.objects.filter(account=account).delete()
    verifier_throttle_clear(account=account, verifier=factor)
    revoked = account_sessions_revoke(tenant=tenant, account=account, actor=actor, reason=f"mfa reset: {factor}")
    audit.record(
        tenant=tenant, actor=actor, action="mfa_factor.reset", subject_uid=account.uid, reason=reason, ticket=ticket,
        changes={"factor": [factor, None], "removed": [removed, 0], "sessions_revoked": [revoked, 0]},
    )
    return removed


# --------------------------------------------------------------------------- one-time tokens


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def _second_factor_token_issue(*, tenant: Tenant, account: Account, purpose: str, method: str, seconds: int) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(seconds=seconds)
    SecondFactorToken.objects.create(
        tenant=tenant, account=account, purpose=purpose, method=method,
        token_hash=token_hash(token), expires_at=expires_at,
    )
    return IssuedToken(token, expires_at)


def _second_factor_token_find(*, tenant: Tenant, token: str, purpose: str) -> SecondFactorToken | None:
    if not token:
        return None
    return (
        SecondFactorToken.objects.select_related("account")
        .filter(tenant=tenant, purpose=purpose, token_hash=token_hash(token), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


def _second_factor_token_consume(row: SecondFactorToken) -> bool:
    return bool(
        SecondFactorToken.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=timezone.now()).update(
            used_at=timezone.now()
        )
    )


# --------------------------------------------------------------------------- reauthentication

REAUTH_GROUPS = {"password": "password", "pin": "pin", "otp": "2fa", "backupcode": "2fa", "authenticatorcode": "2fa",
                 "emailotp": "2fa", "securityquestion": "2fa", "duo": "2fa"}


@transaction.atomic
def reauth_token_issue(*, tenant: Tenant, account: Account, method: str) -> IssuedToken:
    """A short-lived proof that the account just re-entered a credential, for a back end to check."""
    issued = _second_factor_token_issue(
        tenant=tenant, account=account, purpose=SecondFactorToken.PURPOSE_REAUTH,
        method=REAUTH_GROUPS[method], seconds=int(tenant.setting("reauth_token_lifetime_seconds")),
    )
    audit.record(
        tenant=tenant, actor=Actor.account(account.uid), action="reauth_token.issued",
        subject_uid=account.uid, changes={"method": [None, method]},
    )
    return issued


def reauth_token_validate(*, tenant: Tenant, account: Account, token: str, group: str) -> bool:
    """Consume a reauthentication token of this account and kind; single use."""
    row = _second_factor_token_find(tenant=tenant, token=token, purpose=SecondFactorToken.PURPOSE_REAUTH)
    if row is None or row.account_id != account.pk or row.method != group:
        return False
    return _second_factor_token_consume(row)


def reauth_password(*, tenant: Tenant, account: Account, password: str) -> IssuedToken:
    if not _verify(account=account, verifier="password_reauth",
                   check=lambda: _password_matches(account=account, password=password)):
        raise LRError(966)
    return reauth_token_issue(tenant=tenant, account=account, method="password")


def reauth_pin(*, tenant: Tenant, account: Account, pin: str) -> IssuedToken:
    """Reauthenticate with the account's PIN (accounts keep its hash with the other secrets)."""

    def check() -> bool:
        stored = (account.secret_hashes or {}).get("pin")
        if not stored:
            check_password(pin, _dummy_hash())
            return False
        return check_password(pin, stored)

    if not _verify(account=account, verifier="pin_reauth", check=check):
        raise LRError(966)
    return reauth_token_issue(tenant=tenant, account=account, method="pin")


# --------------------------------------------------------------------------- sign-in and lockout

_DUMMY_HASH: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash made with the current default hasher, so checking it costs what a real check costs."""
    from django.contrib.auth.hashers import get_hasher

    algorithm = get_hasher().algorithm
    if algorithm not in _DUMMY_HASH:
        _DUMMY_HASH[algorithm] = make_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH[algorithm]


def _password_matches(*, account: Account, password: str) -> bool:
    if not account.password:
        check_password(password, _dummy_hash())
        return False
    try:
        from accounts.services import account_password_verify as verify
    except ImportError:
        verify = None
    if verify is not None:
        return bool(verify(account=account, password=password))
    return check_password(password, account.password)


def _lock_active(account: Account, now: datetime) -> bool:
    return account.is_login_locked and (account.login_locked_until is None or account.login_locked_until > now)


def login_failures_clear(*, account) -> None:
    """Forget the account's consecutive login failures (unlock, successful sign-in)."""
    LoginFailureCounter.objects.filter(account=account).update(failure_count=0, last_failure_at=None)


def _login_failure_record(*, tenant: Tenant, account: Account) -> None:
    """Count a wrong password; at the tenant's threshold lock the account for its period."""
    from accounts.services import account_lock

    with transaction.atomic():
        try:
            with transaction.atomic():
                LoginFailureCounter.objects.get_or_create(account=account, defaults={"tenant": tenant})
        except IntegrityError:
            pass
        counter = LoginFailureCounter.objects.select_for_update().get(account=account)
        now = timezone.now()
        if _lock_active(Account.objects.get(pk=account.pk), now):
            return  # locked meanwhile by a parallel attempt: attempts during a lock do not count
        count = counter.failure_count + 1
        threshold = int(tenant.setting("lockout_threshold"))
        if threshold > 0 and count >= threshold:
            minutes = int(tenant.setting("lockout_minutes"))
            until = now + timedelta(minutes=minutes) if minutes > 0 else None
            account_lock(
                tenant=tenant, actor=Actor.system("lockout policy"), account=account,
                locked_type=LOCKED_TYPE_FAILED_LOGINS, until=until,
                reason=f"{count} consecutive failed sign-ins",
            )
        LoginFailureCounter.objects.filter(pk=counter.pk).update(failure_count=count, last_failure_at=now)


def login_failure_count(*, account: Account) -> int:
    counter = LoginFailureCounter.objects.filter(account=account).first()
    return counter.failure_count if counter else 0


@dataclass(frozen=True)
class LoginOutcome:
    account: Account
    challenge: IssuedToken | None  # set when a second factor must follow


def login_password(*, tenant: Tenant, account: Account | None, password: str) -> LoginOutcome:
    """Check a password sign-in. Unknown account, wrong password and a locked account all
    answer 966 after the same amount of hashing work; only a wrong password of an unlocked
    account counts towards the lockout."""
    if account is None:
        check_password(password or "", _dummy_hash())
        raise LRError(966)
    now = timezone.now()
    matches = _password_matches(account=account, password=password or "")
    if account.is_login_locked:
        if _lock_active(account, now):
            raise LRError(966)
        from accounts.services import account_unlock  # the lock period is over

        account_unlock(tenant=tenant, actor=Actor.system("lockout policy"), account=account, reason="lock period over")
        login_failures_clear(account=account)
        account.refresh_from_db()
    if not matches:
        _login_failure_record(tenant=tenant, account=account)
        raise LRError(966)
    if not account.is_active:
        raise LRError(991)
    login_failures_clear(account=account)
    if account.password_change_required:  # staff secured the account: this password is known to others
        raise LRError(1317)
    if account_has_mfa(account=account):
        with transaction.atomic():
            challenge = _second_factor_token_issue(
                tenant=tenant, account=account, purpose=SecondFactorToken.PURPOSE_LOGIN,
                method="", seconds=LOGIN_CHALLENGE_SECONDS,
            )
        return LoginOutcome(account, challenge)
    return LoginOutcome(account, None)


def login_challenge_get(*, tenant: Tenant, token: str) -> SecondFactorToken:
    row = _second_factor_token_find(tenant=tenant, token=token, purpose=SecondFactorToken.PURPOSE_LOGIN)
    if row is None:
        raise LRError(1193 if token else 908, None if token else "The secondfactorauthenticationtoken is a required parameter.")
    return row


def login_challenge_complete(*, row: SecondFactorToken) -> bool:
    """Spend the sign-in challenge once its second factor verified."""
    return _second_factor_token_consume(row)


def session_for(*, tenant: Tenant, account: Account, reason: str):
    """The access/refresh pair of a completed sign-in."""
    from tokens.services.sessions import session_issue

    with transaction.atomic():
        try:
            from accounts.services import account_login_record
        except ImportError:
            account_login_record = None
        if account_login_record is not None:
            account_login_record(tenant=tenant, account=account)
        return session_issue(tenant=tenant, account=account, actor=Actor.account(account.uid), reason=reason)


# --------------------------------------------------------------------------- passkeys (WebAuthn)

PASSKEY_CHALLENGE_SECONDS = 300


def passkey_relying_party() -> tuple[str, str]:
    """(RP ID, origin) from PUBLIC_BASE_URL: the host the browser sees."""
    from urllib.parse import urlsplit

    from django.conf import settings

    parts = urlsplit(settings.PUBLIC_BASE_URL)
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def _passkey_error(message: str) -> LRError:
    return LRError(1134, errors=[{"FieldName": "PasskeyCredential", "ErrorMessage": message}])


def _passkey_challenge_new(*, tenant: Tenant, account: Account, purpose: str, identifier: str = "") -> bytes:
    from webauthn.helpers import bytes_to_base64url, generate_challenge

    challenge = generate_challenge()
    PasskeyChallenge.objects.create(
        tenant=tenant, account=account, purpose=purpose, challenge=bytes_to_base64url(challenge),
        identifier=identifier, expires_at=timezone.now() + timedelta(seconds=PASSKEY_CHALLENGE_SECONDS),
    )
    return challenge


def _passkey_challenge_take(*, account: Account, purpose: str, credential: dict) -> PasskeyChallenge:
    """Spend the challenge the client signed; a challenge works for one ceremony only."""
    import json

    from webauthn.helpers import base64url_to_bytes

    try:
        client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        challenge = str(client_data["challenge"])
    except (KeyError, TypeError, ValueError):
        raise _passkey_error("The credential is malformed.") from None
    row = PasskeyChallenge.objects.filter(
        account=account, purpose=purpose, challenge=challenge, used_at__isnull=True, expires_at__gt=timezone.now()
    ).first()
    if row is None or not PasskeyChallenge.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise _passkey_error("The challenge is unknown, used or expired.")
    return row


def passkey_registration_begin(*, tenant: Tenant, account: Account, identifier: str = "") -> dict:
    """Creation options for a new passkey of the account (excluding the ones it has)."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
    )

    rp_id, _ = passkey_relying_party()
    challenge = _passkey_challenge_new(tenant=tenant, account=account, purpose=PasskeyChallenge.PURPOSE_REGISTER, identifier=identifier)
    options = generate_registration_options(
        rp_id=rp_id, rp_name=tenant.name, user_id=account.uid.encode(), user_name=identifier or account.uid,
        challenge=challenge, timeout=PASSKEY_CHALLENGE_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(resident_key=ResidentKeyRequirement.PREFERRED),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c))
            for c in PasskeyCredential.objects.filter(account=account).values_list("credential_id", flat=True)
        ],
    )
    import json

    return json.loads(options_to_json(options))


def passkey_register(*, tenant: Tenant, actor: Actor, account: Account, credential: dict) -> PasskeyCredential:
    """Verify an attestation against the challenge handed out and keep the credential.
    A credential id already registered in the tenant is refused."""
    from webauthn import verify_registration_response
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
    from webauthn.helpers.exceptions import WebAuthnException

    rp_id, origin = passkey_relying_party()
    with transaction.atomic():
        challenge = _passkey_challenge_take(account=account, purpose=PasskeyChallenge.PURPOSE_REGISTER, credential=credential)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=base64url_to_bytes(challenge.challenge),
            expected_rp_id=rp_id, expected_origin=origin,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError) as exc:
        raise _passkey_error(f"The attestation is not valid: {exc}") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    try:
        with transaction.atomic():
            row = PasskeyCredential.objects.create(
                tenant=tenant, account=account, credential_id=credential_id,
                public_key=bytes_to_base64url(verified.credential_public_key), sign_count=verified.sign_count,
                aaguid=verified.aaguid, authenticator=verified.aaguid if verified.aaguid.strip("0-") else "Passkey",
                identifier=challenge.identifier or account.uid,
            )
            audit.record(
                tenant=tenant, actor=actor, action="passkey.registered", subject_uid=account.uid,
                changes={"passkey": [None, row.pk], "aaguid": [None, verified.aaguid]},
            )
            factor_notice_send(tenant=tenant, account=account, factor="passkey")
    except IntegrityError:
        raise _passkey_error("This passkey is already registered.") from None
    return row


def passkey_authentication_begin(*, tenant: Tenant, account: Account) -> dict:
    import json

    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

    rp_id, _ = passkey_relying_party()
    challenge = _passkey_challenge_new(tenant=tenant, account=account, purpose=PasskeyChallenge.PURPOSE_LOGIN)
    options = generate_authentication_options(
        rp_id=rp_id, challenge=challenge, timeout=PASSKEY_CHALLENGE_SECONDS * 1000,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c))
            for c in PasskeyCredential.objects.filter(account=account).values_list("credential_id", flat=True)
        ],
    )
    return json.loads(options_to_json(options))


def passkey_authenticate(*, account: Account, credential: dict) -> PasskeyCredential:
    """Verify an assertion of one of the account's passkeys; the sign count must grow (when
    the authenticator counts) and is stored under a row lock, so a cloned key is caught."""
    from webauthn import verify_authentication_response
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.exceptions import WebAuthnException

    rp_id, origin = passkey_relying_party()
    with transaction.atomic():
        challenge = _passkey_challenge_take(account=account, purpose=PasskeyChallenge.PURPOSE_LOGIN, credential=credential)
    credential_id = credential.get("id") if isinstance(credential, dict) else None
    with transaction.atomic():
        row = PasskeyCredential.objects.select_for_update().filter(account=account, credential_id=credential_id).first()
        if row is None:
            raise _passkey_error("This passkey is not registered for the account.")
        try:
            verified = verify_authentication_response(
                credential=credential, expected_challenge=base64url_to_bytes(challenge.challenge),
                expected_rp_id=rp_id, expected_origin=origin,
                credential_public_key=base64url_to_bytes(row.public_key), credential_current_sign_count=row.sign_count,
            )
        except (WebAuthnException, KeyError, TypeError, ValueError) as exc:
            raise _passkey_error(f"The assertion is not valid: {exc}") from None
        PasskeyCredential.objects.filter(pk=row.pk).update(sign_count=verified.new_sign_count)
        row.sign_count = verified.new_sign_count
    return row


@transaction.atomic
def passkey_delete(
    *, tenant: Tenant, actor: Actor, account: Account, passkey_id: str, reason: str = "", ticket: str = ""
) -> None:
    """Remove one passkey (its `Id` in the list is the credential id)."""
    row = PasskeyCredential.objects.filter(account=account, credential_id=passkey_id).first()
    if row is None:
        raise LRError(1134, errors=[{"FieldName": "passkeyId", "ErrorMessage": "No such passkey for this account."}])
    row.delete()
    audit.record(tenant=tenant, actor=actor, action="passkey.deleted", subject_uid=account.uid, reason=reason,
                 ticket=ticket, changes={"passkey": [row.credential_id[:16], None]})


def passkey_decoy_options() -> dict:
    """Request options for an identifier that names no account: they look like real ones."""
    import json

    from webauthn import generate_authentication_options, options_to_json

    rp_id, _ = passkey_relying_party()
    return json.loads(options_to_json(generate_authentication_options(rp_id=rp_id, timeout=PASSKEY_CHALLENGE_SECONDS * 1000)))


PASSKEY_LOGIN_REFUSED = "The passkey could not be verified."


def passkey_login(*, tenant: Tenant, identifier: str, account: Account | None, credential: dict) -> PasskeyCredential:
    """A passkey sign-in for the account `identifier` names (None: it names none).

    Attempts are counted per identifier, known or not (the tenant's
    `rate_limit_passkey_login` in the sensitive-operation window; beyond it 429). An unknown
    identifier and every failed verification of a known one (malformed credential, unknown
    or spent challenge, foreign key, bad signature) get the same answer, so the answer does
    not tell whether the identifier exists. A locked or blocked account is refused after
    verification."""
    from portal import ratelimit

    ratelimit.rate_limit_hit(
        tenant=tenant, scope="op:passkey_login", key=identifier.strip().lower(),
        limit=int(tenant.setting("rate_limit_passkey_login")),
        window_seconds=int(tenant.setting("rate_limit_sensitive_window_seconds")),
    )
    if account is None:
        raise _passkey_error(PASSKEY_LOGIN_REFUSED)
    try:
        row = passkey_authenticate(account=account, credential=credential)
    except LRError as exc:
        if exc.error_code != 1134:
            raise
        raise _passkey_error(PASSKEY_LOGIN_REFUSED) from None
    account.refresh_from_db()
    if _lock_active(account, timezone.now()):
        raise LRError(1132)
    if not account.is_active:
        raise LRError(991)
    login_failures_clear(account=account)
    return row


# --------------------------------------------------------------------------- push approval

PUSH_CHALLENGE_SECONDS = 120


@dataclass(frozen=True)
class RegisteredDevice:
    device: PushDevice
    device_secret: str


@transaction.atomic
def push_device_register(*, tenant: Tenant, actor: Actor, account: Account, device_address: str, name: str = "") -> RegisteredDevice:
    """Register a device that approves sign-ins; its secret is shown once, stored hashed."""
    secret = secrets.token_urlsafe(32)
    device = PushDevice.objects.create(
        tenant=tenant, account=account, device_token_encrypted=encrypt(device_address),
        device_secret_hash=token_hash(secret), name=name[:200],
    )
    audit.record(tenant=tenant, actor=actor, action="push_device.registered", subject_uid=account.uid,
                 changes={"device": [None, device.pk], "name": [None, device.name]})
    factor_notice_send(tenant=tenant, account=account, factor="push")
    return RegisteredDevice(device, secret)


@transaction.atomic
def push_device_delete(
    *, tenant: Tenant, actor: Actor, account: Account, device_id: int, reason: str = "", ticket: str = ""
) -> None:
    """Remove one push-approval device; challenges sent to it can no longer be answered."""
    row = PushDevice.objects.filter(account=account, pk=device_id).first()
    if row is None:
        raise LRError(1134, errors=[{"FieldName": "deviceId", "ErrorMessage": "No such device for this account."}])
    pk, name = row.pk, row.name
    row.delete()
    audit.record(tenant=tenant, actor=actor, action="push_device.deleted", subject_uid=account.uid, reason=reason,
                 ticket=ticket, changes={"device": [pk, None], "name": [name, None]})


def push_challenge_start(*, tenant: Tenant, login: SecondFactorToken) -> PushChallenge:
    """Ask the account's newest device to approve this pending sign-in."""
    from security.push import notifier

    device = PushDevice.objects.filter(account=login.account).order_by("-created", "-pk").first()
    if device is None:
        raise LRError(1134, errors=[{"FieldName": "push", "ErrorMessage": "No device is registered for push approval."}])
    with transaction.atomic():
        challenge = PushChallenge.objects.create(
            tenant=tenant, account=login.account, device=device, login=login, public_id=secrets.token_urlsafe(24),
            expires_at=min(login.expires_at, timezone.now() + timedelta(seconds=PUSH_CHALLENGE_SECONDS)),
        )
        payload = {"ChallengeId": challenge.public_id, "Uid": login.account.uid, "Application": tenant.name,
                   "ExpireIn": challenge.expires_at.isoformat()}
        address = decrypt(device.device_token_encrypted)
        transaction.on_commit(lambda: notifier().send(device_address=address, payload=payload))
    return challenge


def push_challenge_decide(*, tenant: Tenant, challenge_id: str, device_secret: str, approve: bool) -> PushChallenge:
    """The device's answer. Only the device the challenge went to can answer, once, in time."""
    with transaction.atomic():
        challenge = (
            PushChallenge.objects.select_for_update().select_related("device")
            .filter(tenant=tenant, public_id=challenge_id or "").first()
        )
        if challenge is None or not device_secret or not constant_time_equals(
            challenge.device.device_secret_hash, token_hash(device_secret)
        ):
            raise LRError(1134, errors=[{"FieldName": "ChallengeId", "ErrorMessage": "Unknown challenge or device."}])
        if challenge.status != PushChallenge.PENDING or challenge.expires_at <= timezone.now():
            raise LRError(1193)
        challenge.status = PushChallenge.APPROVED if approve else PushChallenge.DENIED
        challenge.decided_at = timezone.now()
        challenge.save(update_fields=["status", "decided_at"])
    return challenge


def push_challenge_status(*, login: SecondFactorToken, challenge_id: str) -> str:
    """`pending`, `approved`, `denied` or `expired` for a challenge of this sign-in."""
    challenge = PushChallenge.objects.filter(login=login, public_id=challenge_id or "").first()
    if challenge is None:
        raise LRError(1134, errors=[{"FieldName": "ChallengeId", "ErrorMessage": "Unknown challenge."}])
    if challenge.status == PushChallenge.PENDING and challenge.expires_at <= timezone.now():
        return "expired"
    return challenge.status


# --------------------------------------------------------------------------- Duo Universal Prompt

DUO_STATE_SECONDS = 300


def _duo_config_fields(config: DuoConfig | None) -> dict:
    if config is None:
        return {}
    return {"client_id": config.client_id, "api_host": config.api_host, "enabled": config.enabled}


@transaction.atomic
def duo_config_set(*, tenant: Tenant, actor: Actor, client_id: str, client_secret: str | None, api_host: str,
                   enabled: bool = True) -> DuoConfig:
    """Configure the tenant's Duo application (checked by the Duo client's own rules).
    A `client_secret` of None keeps the stored one, so the secret never has to leave the
    operator who set it to change anything else. Only a Duo API host is accepted: the
    server sends signed requests there (security.duo)."""
    from duo_universal.client import Client, DuoException

    from security import duo

    api_host = api_host.strip().lower()
    if not duo.api_host_permitted(api_host):
        raise LRError(1134, errors=[{"FieldName": "api_host", "ErrorMessage": duo.API_HOST_RULE}])
    config = DuoConfig.objects.select_for_update().filter(tenant=tenant).first()
    if client_secret is None:
        if config is None:
            raise LRError(1134, errors=[{"FieldName": "client_secret", "ErrorMessage": "The client secret is required."}])
        client_secret = decrypt(config.client_secret_encrypted)
        secret_changed = False
    else:
        secret_changed = config is None or not constant_time_equals(decrypt(config.client_secret_encrypted), client_secret)
    try:
        Client(client_id, client_secret, api_host, "https://placeholder.invalid/")
    except DuoException as exc:
        raise LRError(1134, errors=[{"FieldName": "duo", "ErrorMessage": str(exc)}]) from None
    before = _duo_config_fields(config)
    config = config or DuoConfig(tenant=tenant)
    config.client_id, config.api_host, config.enabled = client_id, api_host, enabled
    config.client_secret_encrypted = encrypt(client_secret)
    config.save()
    changes = audit.diff(before, _duo_config_fields(config))
    if secret_changed:
        changes["credential_replaced"] = [False, True]
    audit.record(tenant=tenant, actor=actor, action="duo.configured", changes=changes)
    return config


@transaction.atomic
def duo_config_delete(*, tenant: Tenant, actor: Actor, reason: str = "") -> None:
    """Remove the tenant's Duo application: sign-ins stop asking for Duo and prompts
    still open can no longer complete."""
    config = DuoConfig.objects.select_for_update().filter(tenant=tenant).first()
    if config is None:
        raise LRError(404, "Duo is not configured for this tenant.")
    before = _duo_config_fields(config)
    pending = DuoState.objects.filter(tenant=tenant, used_at__isnull=True).delete()[0]
    config.delete()
    audit.record(tenant=tenant, actor=actor, action="duo.removed", reason=reason,
                 changes={**audit.diff(before, {}), "open_prompts": [pending, 0]})


def duo_required(*, tenant: Tenant) -> bool:
    return DuoConfig.objects.filter(tenant=tenant, enabled=True).exists()


def duo_callback_url(*, tenant: Tenant) -> str:
    from django.conf import settings

    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/identity/v2/auth/login/2fa/duo/callback?apikey={tenant.api_key}"


def _duo_config(tenant: Tenant) -> DuoConfig:
    config = DuoConfig.objects.filter(tenant=tenant, enabled=True).first()
    if config is None:
        raise LRError(1134, errors=[{"FieldName": "duo", "ErrorMessage": "Duo is not configured."}])
    return config


def _duo_prompt_begin(*, tenant: Tenant, subject: Account, redirect_uri: str, **state_fields) -> str:
    """Check Duo is up, remember a fresh state and return the prompt URL carrying it.
    Network calls go through security.duo (portal.outbound); duo_universal only builds the
    prompt URL."""
    from duo_universal.client import Client, DuoException

    from security import duo

    config = _duo_config(tenant)
    secret = decrypt(config.client_secret_encrypted)
    try:
        duo.health_check(client_id=config.client_id, client_secret=secret, api_host=config.api_host)
        client = Client(config.client_id, secret, config.api_host, redirect_uri or duo_callback_url(tenant=tenant))
    except (duo.DuoError, DuoException):
        raise LRError(950, "Duo is unavailable.") from None
    state = client.generate_state()
    DuoState.objects.create(tenant=tenant, state_hash=token_hash(state), redirect_uri=redirect_uri,
                            expires_at=timezone.now() + timedelta(seconds=DUO_STATE_SECONDS), **state_fields)
    return client.create_auth_url(subject.uid, state)


def _duo_prompt_finish(*, tenant: Tenant, state: str, duo_code: str, purpose: str, account: Account | None = None) -> DuoState:
    """Spend the state (once, even when Duo then refuses), exchange Duo's code with the
    redirect address the prompt used, and require Duo's approval. The first approval
    ties the account to Duo."""
    from security import duo

    rows = DuoState.objects.select_related("login__account", "account").filter(
        tenant=tenant, purpose=purpose, state_hash=token_hash(state or ""), used_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    if account is not None:
        rows = rows.filter(account=account)
    row = rows.first()
    if row is None or not DuoState.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise LRError(1193)
    subject = row.login.account if row.login_id else row.account
    config = _duo_config(tenant)
    try:
        result = duo.exchange_code(
            client_id=config.client_id, client_secret=decrypt(config.client_secret_encrypted), api_host=config.api_host,
            redirect_uri=row.redirect_uri or duo_callback_url(tenant=tenant), code=duo_code or "", username=subject.uid,
        )
    except duo.DuoError:
        raise LRError(1193, "Duo did not approve the request.") from None
    if (result.get("auth_result") or {}).get("status") != "allow":
        raise LRError(1193, "Duo did not approve the request.")
    with transaction.atomic():
        _, created = DuoEnrollment.objects.get_or_create(account=subject, defaults={"tenant": tenant, "duo_username": subject.uid})
        if created:
            audit.record(tenant=tenant, actor=Actor.account(subject.uid), action="duo.enrolled", subject_uid=subject.uid)
    return row


def duo_prompt_start(*, tenant: Tenant, login: SecondFactorToken) -> str:
    """The Duo prompt URL for this pending sign-in (after Duo's health check)."""
    return _duo_prompt_begin(tenant=tenant, subject=login.account, redirect_uri=duo_callback_url(tenant=tenant),
                             purpose=DuoState.PURPOSE_LOGIN, login=login)


def duo_prompt_complete(*, tenant: Tenant, state: str, duo_code: str) -> SecondFactorToken:
    """Spend the state, exchange Duo's code and return the sign-in it approves."""
    return _duo_prompt_finish(tenant=tenant, state=state, duo_code=duo_code, purpose=DuoState.PURPOSE_LOGIN).login


def duo_reauth_start(*, tenant: Tenant, account: Account, redirect_uri: str) -> str:
    """The Duo prompt URL with which the account reauthenticates; Duo sends the browser
    back to `redirect_uri` with the `state` and `duo_code` for `reauth_duo`."""
    return _duo_prompt_begin(tenant=tenant, subject=account, redirect_uri=redirect_uri,
                             purpose=DuoState.PURPOSE_REAUTH, account=account)


def reauth_duo(*, tenant: Tenant, account: Account, state: str, duo_code: str) -> IssuedToken:
    """Reauthenticate with the Duo prompt this account started: a state of another
    account, of a sign-in, used or expired is refused (1193)."""
    _duo_prompt_finish(tenant=tenant, state=state, duo_code=duo_code, purpose=DuoState.PURPOSE_REAUTH, account=account)
    return reauth_token_issue(tenant=tenant, account=account, method="duo")

"""Security questions: answers stored as hashes, held for confirmation by a code while the
account has a second factor, and verified."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal import audit, events, slots
from portal.audit import Actor
from portal.crypto import constant_time_equals, token_hash
from portal.models import Tenant
from security.commands import SecurityAnswersRequest, SecurityAnswersSet
from security.errors import SecurityAnswersMissing, SecurityAnswersUnconfirmable
from security.models import OtpFactor, SecurityAnswer, SecurityAnswerChange
from security.services.factors import account_has_mfa, factor_notice_send
from security.services.otp import otp_code_new
from security.services.throttling import throttled_verify


def _answer_normal(answer: str) -> str:
    return "".join(str(answer or "").split()).casefold()


def _answers_cleaned(answers: dict[str, str]) -> dict[str, str]:
    """Question id -> answer hash; refused when a question has no answer."""
    cleaned = {str(q).strip(): a for q, a in answers.items() if str(q).strip()}
    if not cleaned or any(not _answer_normal(a) for a in cleaned.values()):
        raise SecurityAnswersMissing()
    return {question: token_hash(_answer_normal(answer)) for question, answer in cleaned.items()}


def _answers_apply(*, tenant: Tenant, account: Account, hashes: dict[str, str]) -> None:
    for question, answer_hash in hashes.items():
        SecurityAnswer.objects.update_or_create(
            account=account,
            question_id=question,
            defaults={"tenant": tenant, "answer_hash": answer_hash},
        )


@transaction.atomic
@events.emits("security_answers.updated")
def security_answers_set(
    command: SecurityAnswersSet, *, tenant: Tenant, actor: Actor, account: Account
) -> None:
    """Set the answers to the given questions (others are kept); stored only as hashes.
    Takes effect at once: back ends (account create/update), and an account's own first
    answers while it has no second factor. A pending change of the account is dropped."""
    hashes = _answers_cleaned(command.answers or {})
    _answers_apply(tenant=tenant, account=account, hashes=hashes)
    SecurityAnswerChange.objects.filter(account=account).delete()
    audit.record(
        tenant=tenant,
        actor=actor,
        action="security_answers.updated",
        subject_uid=account.uid,
        reason=command.reason,
        ticket=command.ticket,
        changes={"questions": [None, sorted(hashes)]},
    )
    factor_notice_send(tenant=tenant, account=account, factor="securityquestion")


def _confirmation_address(account: Account) -> tuple[str, str] | None:
    """(channel, address) a confirmation code goes to: the primary email (any email when
    none is primary), else the confirmed 2FA phone."""
    emails = list(account.emails.all())
    primary = next(
        (e for e in emails if e.type.lower() == "primary"), emails[0] if emails else None
    )
    if primary is not None:
        return OtpFactor.CHANNEL_EMAIL, primary.value
    phone = OtpFactor.objects.filter(
        account=account, channel=OtpFactor.CHANNEL_SMS, confirmed=True
    ).first()
    if phone is not None:
        return OtpFactor.CHANNEL_SMS, phone.destination
    return None


@transaction.atomic
@events.emits("security_answers.change_requested", "security_answers.updated")
def security_answers_request(
    command: SecurityAnswersRequest, *, tenant: Tenant, actor: Actor, account: Account
) -> bool:
    """The account's own change of its answers. Without a second factor they take effect at
    once. With one (answers already, an authenticator, a code factor, a push device) they
    would be a new way past it, so they are held until the code sent to the primary email
    (or the 2FA phone when there is no email) confirms them (`security_answers_confirm`).
    Returns whether they are pending. A newer change replaces a pending one."""
    hashes = _answers_cleaned(command.answers or {})
    if not account_has_mfa(account=account):
        now = SecurityAnswersSet(
            answers=command.answers, reason=command.reason, ticket=command.ticket
        )
        security_answers_set(now, tenant=tenant, actor=actor, account=account)
        return False
    address = _confirmation_address(account)
    if address is None:
        raise SecurityAnswersUnconfirmable()
    channel, recipient = address
    length = int(tenant.setting("sms_otp_length")) if channel == OtpFactor.CHANNEL_SMS else 6
    code = otp_code_new(length)
    expires_at = timezone.now() + timedelta(minutes=int(tenant.setting("sms_otp_lifetime_minutes")))
    SecurityAnswerChange.objects.update_or_create(
        account=account,
        defaults={
            "tenant": tenant,
            "answers": hashes,
            "code_hash": token_hash(code),
            "expires_at": expires_at,
        },
    )
    slots.message_queue(
        tenant=tenant,
        account=account,
        channel=channel,
        recipient=recipient,
        template=(
            command.sms_template if channel == OtpFactor.CHANNEL_SMS else command.email_template
        )
        or "mfa_otp",
        expires_at=expires_at,
        context={
            "subject": "Confirm your new security answers",
            "body": f"Someone asked to change the security answers of your account. If it was you, confirm with the code {code}. If not, ignore this message and keep your answers.",
            "code": code,
            "expires_at": expires_at.isoformat(),
        },
    )
    audit.record(
        tenant=tenant,
        actor=actor,
        action="security_answers.change_requested",
        subject_uid=account.uid,
        reason=command.reason,
        ticket=command.ticket,
        changes={"questions": [None, sorted(hashes)], "confirm_by": [None, channel]},
    )
    return True


@events.emits("security_answers.updated", proof=True)
def security_answers_confirm(*, tenant: Tenant, actor: Actor, account: Account, code: str) -> bool:
    """Put the pending answers in force with the code sent for them, once, before it
    expires; the account holder is told."""
    digest = token_hash("".join(str(code or "").split()))

    def check() -> bool:
        change = (
            SecurityAnswerChange.objects.select_for_update()
            .filter(account=account, expires_at__gt=timezone.now())
            .first()
        )
        if change is None or not constant_time_equals(change.code_hash, digest):
            return False
        _answers_apply(tenant=tenant, account=account, hashes=change.answers)
        change.delete()
        audit.record(
            tenant=tenant,
            actor=actor,
            action="security_answers.updated",
            subject_uid=account.uid,
            changes={"questions": [None, sorted(change.answers)], "confirmed": [False, True]},
        )
        factor_notice_send(tenant=tenant, account=account, factor="securityquestion")
        return True

    return throttled_verify(account=account, verifier="securityquestion_change", check=check)


@events.reads
def security_answers_verify(*, account: Account, answers: dict[str, str]) -> bool:
    """Every given answer must match (case and spaces ignored) and at least one be given."""

    def check() -> bool:
        stored = {
            row.question_id: row.answer_hash
            for row in SecurityAnswer.objects.filter(account=account)
        }
        if not answers or not stored:
            return False
        ok = True
        for question, answer in answers.items():
            expected = stored.get(str(question).strip())
            given = token_hash(_answer_normal(answer))
            if expected is None or not constant_time_equals(expected, given):
                ok = False
        return ok

    return throttled_verify(account=account, verifier="securityquestion", check=check)

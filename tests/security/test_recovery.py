"""Guided recovery: the tenant's identity checks before a factor reset or an email change,
the approval gate it still passes, and the cooling-off the holder can cancel from the
notice (security.services.recovery)."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import AccountEmail
from approvals.models import ApprovalRequest
from portal import crypto
from portal.audit import Actor
from portal.errors import FieldRequired, InvalidInput
from portal.models import AuditEvent
from security.commands import (
    RecoveryAttest,
    RecoveryCaseClose,
    RecoveryCaseOpen,
    RecoveryCodeSend,
    RecoveryProceed,
    RecoveryRun,
    SecurityAnswersSet,
)
from security.errors import (
    RecoveryAttemptsSpent,
    RecoveryCancelRefused,
    RecoveryCaseNotOpen,
    RecoveryChannelUnavailable,
    RecoveryChecksMissing,
)
from security.models import RecoveryCase, TotpFactor
from security.services import security_answers_set
from security.services.recovery import (
    recovery_answers_verify,
    recovery_attest,
    recovery_case_cancel,
    recovery_case_close,
    recovery_case_open,
    recovery_case_proceed,
    recovery_case_run,
    recovery_code_send,
    recovery_code_verify,
)
from security.tasks import recovery_cases_run_task
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory, TenantFactory
from tests.messages.conftest import smtp_mail, smtp_server  # noqa: F401
from tokens.models import OutboxMessage
from tokens.services.multipurpose.outbox import message_context

pytestmark = pytest.mark.django_db


def _setup(tenant, make_staff, *, checks=("code",), cooling=0, gates=()):
    tenant.settings = {
        **tenant.settings,
        "recovery_checks": list(checks),
        "recovery_cooling_off_hours": cooling,
        "recovery_check_attempts": 3,
        "approval_gates": list(gates),
    }
    tenant.save()
    account = AccountFactory(tenant=tenant, email="maria@example.com")
    AccountEmail.objects.filter(account=account).update(verified=True)
    TotpFactor.objects.create(
        tenant=tenant, account=account, secret_encrypted=crypto.encrypt("S" * 32), confirmed=True
    )
    agent = make_staff("Agent", tenant, username="ada.agent")
    return account, Actor.staff(agent), agent


def _open(tenant, account, actor, **kw):
    kw.setdefault("purpose", "factor.reset")
    kw.setdefault("factor", "totp")
    kw.setdefault("reason", "lost phone")
    return recovery_case_open(RecoveryCaseOpen(**kw), tenant=tenant, actor=actor, account=account)


def _code_sent(tenant, case, actor, channel="email") -> str:
    recovery_code_send(
        RecoveryCodeSend(case_id=case.pk, channel=channel), tenant=tenant, actor=actor
    )
    message = OutboxMessage.objects.filter(template="generic").order_by("-id").first()
    return message_context(message)["code"]


def _events(account, action):
    return AuditEvent.objects.filter(subject_uid=account.uid, action=action).count()


def test_a_case_takes_the_checks_the_tenant_asks_for(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff, checks=("callback", "code"))
    case = _open(tenant, account, actor, ticket="SUP-1")
    assert case.checks_required == ["code", "callback"]
    assert case.status == RecoveryCase.OPEN and case.checks_passed == {}
    assert _events(account, "recovery_case.opened") == 1


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"purpose": "unlock"}, InvalidInput),
        ({"factor": "carrier-pigeon"}, InvalidInput),
        ({"purpose": "email.change", "new_email": "not an address"}, InvalidInput),
        ({"reason": "  "}, FieldRequired),
    ],
)
def test_bad_input_opens_nothing(tenant, make_staff, fields, error):
    account, actor, _ = _setup(tenant, make_staff)
    with pytest.raises(error):
        _open(tenant, account, actor, **fields)
    assert not RecoveryCase.objects.exists()


def test_the_code_goes_to_a_verified_address_and_is_stored_hashed(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff)
    case = _open(tenant, account, actor)
    code = _code_sent(tenant, case, actor)
    message = OutboxMessage.objects.get(template="generic")
    assert (message.recipient, message.channel) == ("maria@example.com", "email")
    case.refresh_from_db()
    assert case.code_hash == crypto.token_hash(code) and code not in case.code_hash
    assert _events(account, "recovery_case.code_sent") == 1


def test_no_code_to_an_unverified_channel(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff)
    AccountEmail.objects.filter(account=account).update(verified=False)
    case = _open(tenant, account, actor)
    with pytest.raises(RecoveryChannelUnavailable):
        recovery_code_send(
            RecoveryCodeSend(case_id=case.pk, channel="email"), tenant=tenant, actor=actor
        )
    with pytest.raises(RecoveryChannelUnavailable):
        recovery_code_send(
            RecoveryCodeSend(case_id=case.pk, channel="sms"), tenant=tenant, actor=actor
        )
    assert not OutboxMessage.objects.exists()


def test_the_right_code_passes_once(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff)
    case = _open(tenant, account, actor)
    code = _code_sent(tenant, case, actor)
    assert (
        recovery_code_verify(tenant=tenant, actor=actor, case_id=case.pk, code="000000x") is False
    )
    assert recovery_code_verify(tenant=tenant, actor=actor, case_id=case.pk, code=code) is True
    case.refresh_from_db()
    assert set(case.checks_passed) == {"code"} and case.code_hash == ""
    assert case.checks_passed["code"]["by"] == "ada.agent"
    with pytest.raises(RecoveryCaseNotOpen):
        recovery_code_verify(tenant=tenant, actor=actor, case_id=case.pk, code=code)
    assert _events(account, "recovery_case.check_failed") == 1
    assert _events(account, "recovery_case.check_passed") == 1


def test_wrong_codes_spend_the_attempts_and_then_even_the_right_one_fails(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff)
    case = _open(tenant, account, actor)
    code = _code_sent(tenant, case, actor)
    for _ in range(3):
        assert recovery_code_verify(tenant=tenant, actor=actor, case_id=case.pk, code="1") is False
    with pytest.raises(RecoveryAttemptsSpent):
        recovery_code_verify(tenant=tenant, actor=actor, case_id=case.pk, code=code)
    with pytest.raises(RecoveryAttemptsSpent):  # a new code does not buy new tries
        recovery_code_send(
            RecoveryCodeSend(case_id=case.pk, channel="email"), tenant=tenant, actor=actor
        )
    case.refresh_from_db()
    assert case.checks_passed == {} and case.code_attempts == 3


def test_an_expired_code_fails(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff)
    case = _open(tenant, account, actor)
    code = _code_sent(tenant, case, actor)
    RecoveryCase.objects.filter(pk=case.pk).update(code_expires_at=timezone.now())
    assert recovery_code_verify(tenant=tenant, actor=actor, case_id=case.pk, code=code) is False


def test_security_answers_check(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff, checks=("answers",))
    security_answers_set(
        SecurityAnswersSet(answers={"pet": "Rex", "city": "Lyon"}),
        tenant=tenant,
        actor=Actor.system("setup"),
        account=account,
    )
    case = _open(tenant, account, actor)
    wrong = {"pet": "Rex", "city": "Paris"}
    assert (
        recovery_answers_verify(tenant=tenant, actor=actor, case_id=case.pk, answers=wrong) is False
    )
    right = {"pet": " rex ", "city": "LYON"}
    with freeze_time(timezone.now() + timedelta(seconds=2)):  # past the answers' throttle
        assert (
            recovery_answers_verify(tenant=tenant, actor=actor, case_id=case.pk, answers=right)
            is True
        )
    case.refresh_from_db()
    assert case.checks_passed["answers"]["questions"] == ["city", "pet"]
    assert case.answer_attempts == 1


def test_attestations_need_the_tick_and_their_detail(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff, checks=("document", "callback"))
    case = _open(tenant, account, actor)
    with pytest.raises(InvalidInput):
        recovery_attest(
            RecoveryAttest(case_id=case.pk, check="document", reference="DOC-1"),
            tenant=tenant,
            actor=actor,
        )
    with pytest.raises(FieldRequired):
        recovery_attest(
            RecoveryAttest(case_id=case.pk, check="callback", confirmed=True),
            tenant=tenant,
            actor=actor,
        )
    case.refresh_from_db()
    assert case.checks_passed == {}
    recovery_attest(
        RecoveryAttest(case_id=case.pk, check="document", reference="DOC-1", confirmed=True),
        tenant=tenant,
        actor=actor,
    )
    recovery_attest(
        RecoveryAttest(case_id=case.pk, check="callback", phone="+14155550100", confirmed=True),
        tenant=tenant,
        actor=actor,
    )
    case.refresh_from_db()
    assert case.checks_passed["document"]["reference"] == "DOC-1"
    assert case.checks_passed["callback"]["phone"] == "+14155550100"


def _passed(tenant, case, actor):
    recovery_attest(
        RecoveryAttest(case_id=case.pk, check="document", reference="DOC-1", confirmed=True),
        tenant=tenant,
        actor=actor,
    )


def test_nothing_runs_before_every_check_passed(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff, checks=("code", "document"))
    case = _open(tenant, account, actor)
    _passed(tenant, case, actor)
    with pytest.raises(RecoveryChecksMissing):
        recovery_case_proceed(RecoveryProceed(case_id=case.pk), tenant=tenant, actor=actor)
    assert TotpFactor.objects.filter(account=account).exists()


def test_without_a_gate_the_reset_runs_through_its_own_service(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff, checks=("document",))
    case = _open(tenant, account, actor)
    _passed(tenant, case, actor)
    case = recovery_case_proceed(RecoveryProceed(case_id=case.pk), tenant=tenant, actor=actor)
    assert case.status == RecoveryCase.DONE
    assert not TotpFactor.objects.filter(account=account).exists()
    completed = AuditEvent.objects.get(action="recovery_case.completed")
    reset = AuditEvent.objects.get(action="mfa_factor.reset")
    assert reset.caused_by == completed.pk and reset.actor_label == "ada.agent"


def test_recovery_does_not_skip_four_eyes_approval(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff, checks=("document",), gates=("factor.reset",))
    case = _open(tenant, account, actor)
    _passed(tenant, case, actor)
    case = recovery_case_proceed(RecoveryProceed(case_id=case.pk), tenant=tenant, actor=actor)
    assert case.status == RecoveryCase.HELD
    request = ApprovalRequest.objects.get(pk=case.approval_id)
    assert request.status == ApprovalRequest.PENDING and request.requested_by_label == "ada.agent"
    assert TotpFactor.objects.filter(account=account).exists()


def test_an_email_change_makes_the_new_address_primary(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff, checks=("document",))
    case = _open(tenant, account, actor, purpose="email.change", new_email="maria@new.example")
    _passed(tenant, case, actor)
    recovery_case_proceed(RecoveryProceed(case_id=case.pk), tenant=tenant, actor=actor)
    primary = AccountEmail.objects.get(account=account, type__iexact="primary")
    assert primary.value == "maria@new.example"


def test_an_agent_who_lost_the_permission_sees_the_change_fail(tenant, make_staff):
    account, actor, agent = _setup(tenant, make_staff, checks=("document",))
    case = _open(tenant, account, actor)
    _passed(tenant, case, actor)
    agent.groups.clear()
    case = recovery_case_proceed(RecoveryProceed(case_id=case.pk), tenant=tenant, actor=actor)
    assert case.status == RecoveryCase.FAILED and "may no longer" in case.outcome
    assert TotpFactor.objects.filter(account=account).exists()
    assert _events(account, "recovery_case.failed") == 1


def _scheduled(tenant, make_staff, hours=24, *, read_notice=True):
    account, actor, _ = _setup(tenant, make_staff, checks=("document",), cooling=hours)
    case = _open(tenant, account, actor)
    _passed(tenant, case, actor)
    case = recovery_case_proceed(RecoveryProceed(case_id=case.pk), tenant=tenant, actor=actor)
    if not read_notice:  # delivered already: the outbox keeps no context once sent
        return account, actor, case, None, None
    notice = OutboxMessage.objects.get(template="recoveryscheduled")
    link = message_context(notice)["cancel_link"]
    token = parse_qs(urlparse(link).query)["token"][0]
    return account, actor, case, notice, token


def test_cooling_off_schedules_the_reset_and_tells_the_holder_at_once(tenant, make_staff):
    account, _, case, notice, token = _scheduled(tenant, make_staff)
    assert case.status == RecoveryCase.SCHEDULED
    assert case.due_at > timezone.now() + timedelta(hours=23)
    assert TotpFactor.objects.filter(account=account).exists()
    assert notice.recipient == "maria@example.com"
    assert urlparse(message_context(notice)["cancel_link"]).path == "/recovery/cancel/"
    case.refresh_from_db()
    assert (
        case.cancel_token_hash == crypto.token_hash(token) and token not in case.cancel_token_hash
    )


def test_the_notice_is_sent_even_when_the_tenant_turned_notices_off(tenant, make_staff):
    tenant.settings = {**tenant.settings, "notices_enabled": []}
    tenant.save()
    _scheduled(tenant, make_staff)


def test_a_scheduled_reset_runs_once_when_due(tenant, make_staff):
    account, _, case, _, _ = _scheduled(tenant, make_staff)
    assert recovery_case_run(RecoveryRun(case_id=case.pk), tenant=tenant) is None  # not due
    assert TotpFactor.objects.filter(account=account).exists()
    RecoveryCase.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert recovery_cases_run_task() == 1
    assert recovery_cases_run_task() == 0
    case.refresh_from_db()
    assert case.status == RecoveryCase.DONE and case.cancel_token_hash == ""
    assert not TotpFactor.objects.filter(account=account).exists()
    assert _events(account, "mfa_factor.reset") == 1


def test_the_holder_cancels_with_a_post_once(tenant, make_staff):
    account, _, case, _, token = _scheduled(tenant, make_staff)
    client = Client()
    page = client.get("/recovery/cancel/", {"token": token})
    assert page.status_code == 200 and b"Cancel this change" in page.content
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "same-origin"
    case.refresh_from_db()
    assert case.status == RecoveryCase.SCHEDULED  # opening the link changes nothing
    done = client.post("/recovery/cancel/", {"token": token})
    assert done.status_code == 200 and b"The change is cancelled" in done.content
    again = client.post("/recovery/cancel/", {"token": token})
    assert again.status_code == 409
    case.refresh_from_db()
    assert case.status == RecoveryCase.CANCELLED
    assert client.get("/recovery/cancel/", {"token": token}).status_code == 404
    RecoveryCase.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert recovery_cases_run_task() == 0
    assert TotpFactor.objects.filter(account=account).exists()
    cancelled = AuditEvent.objects.get(action="recovery_case.cancelled")
    assert cancelled.actor_type == "account" and cancelled.diff["by"] == "holder"


def test_a_cancel_after_the_due_time_is_refused(tenant, make_staff):
    _account, _, case, _, token = _scheduled(tenant, make_staff)
    RecoveryCase.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(RecoveryCancelRefused):
        recovery_case_cancel(token=token)
    assert Client().post("/recovery/cancel/", {"token": token}).status_code == 409
    case.refresh_from_db()
    assert case.status == RecoveryCase.SCHEDULED
    assert recovery_cases_run_task() == 1


def test_a_wrong_or_empty_token_cancels_nothing(tenant, make_staff):
    _, _, case, _, token = _scheduled(tenant, make_staff)
    for bad in ("", token[:-1], "x" * 43):
        with pytest.raises(RecoveryCancelRefused):
            recovery_case_cancel(token=bad)
    case.refresh_from_db()
    assert case.status == RecoveryCase.SCHEDULED


def test_staff_close_a_case_and_nothing_runs(tenant, make_staff):
    _account, actor, case, _, _ = _scheduled(tenant, make_staff)
    recovery_case_close(
        RecoveryCaseClose(case_id=case.pk, reason="wrong account"), tenant=tenant, actor=actor
    )
    with pytest.raises(RecoveryCaseNotOpen):
        recovery_case_close(RecoveryCaseClose(case_id=case.pk), tenant=tenant, actor=actor)
    case.refresh_from_db()
    assert case.status == RecoveryCase.CANCELLED and case.outcome == "wrong account"


def test_a_case_of_another_tenant_is_not_found(tenant, make_staff):
    account, actor, _ = _setup(tenant, make_staff)
    case = _open(tenant, account, actor)
    other = TenantFactory()
    with pytest.raises(Exception, match="no such recovery case"):
        recovery_code_send(
            RecoveryCodeSend(case_id=case.pk, channel="email"), tenant=other, actor=actor
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_tasks")
def test_the_cancel_notice_reaches_a_real_smtp_server(make_staff, request):
    server = request.getfixturevalue("smtp_mail")
    tenant = TenantFactory()
    _scheduled(tenant, make_staff, read_notice=False)
    [received] = server.handler.wait_for(1)
    assert received["To"] == "maria@example.com"
    text = received.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/recovery/cancel/\?token=\S+", text)
    assert link is not None and "It runs at" in text and "ada.agent" not in text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_code_is_single_use_when_checks_race(make_staff):
    tenant = TenantFactory()
    account, actor, _ = _setup(tenant, make_staff)
    case = _open(tenant, account, actor)
    code = _code_sent(tenant, case, actor)
    outcomes = run_concurrently(
        lambda: recovery_code_verify(tenant=tenant, actor=actor, case_id=case.pk, code=code), 4
    )
    assert sorted(outcomes, key=str) == sorted([True] + ["recovery.not_open"] * 3, key=str)
    assert _events(account, "recovery_case.check_passed") == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_cancel_token_is_single_use_when_posts_race(make_staff):
    tenant = TenantFactory()
    _, _, _case, _, token = _scheduled(tenant, make_staff)
    outcomes = run_concurrently(lambda: recovery_case_cancel(token=token).status, 4)
    assert sorted(outcomes) == sorted(["cancelled"] + ["recovery.cancel_refused"] * 3)
    assert AuditEvent.objects.filter(action="recovery_case.cancelled").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_due_reset_runs_once_when_workers_race(make_staff):
    tenant = TenantFactory()
    account, _, case, _, _ = _scheduled(tenant, make_staff)
    RecoveryCase.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    outcomes = run_concurrently(
        lambda: recovery_case_run(RecoveryRun(case_id=case.pk), tenant=tenant) is not None, 4
    )
    assert sorted(outcomes) == [False, False, False, True]
    assert _events(account, "mfa_factor.reset") == 1

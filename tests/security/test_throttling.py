import time
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from portal.audit import Actor
from portal.crypto import encrypt
from security import services
from security.commands import BackupCodesGenerate, SecurityAnswersSet
from security.models import BackupCode, TotpFactor, VerifierThrottle
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory, TenantFactory

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def throttle(account, verifier):
    return VerifierThrottle.objects.get(account=account, verifier=verifier)


def test_delay_doubles_and_is_capped():
    assert [services.throttle_delay_seconds(n) for n in range(0, 5)] == [0, 1, 2, 4, 8]
    assert services.throttle_delay_seconds(100) == services.THROTTLE_MAX_DELAY_SECONDS


def test_right_totp_during_delay_is_refused_and_counted(tenant, account):
    TotpFactor.objects.create(
        tenant=tenant, account=account, secret_encrypted=encrypt(SECRET), confirmed=True
    )
    start = timezone.now()
    with freeze_time(start) as clock:
        assert not services.totp_code_check(account=account, code="000000", now=time.time())
        assert not services.totp_code_check(account=account, code="111111", now=time.time())
        assert throttle(account, "totp").failure_count == 2
        # 2 failures: a 2 second wait; a right code 1 second later is refused and counted
        clock.tick(1)
        good = services.totp_code(SECRET, for_time=time.time())
        assert not services.totp_code_check(account=account, code=good, now=time.time())
        assert throttle(account, "totp").failure_count == 3
        assert TotpFactor.objects.get(account=account).last_used_step is None
        # 3 failures: a 4 second wait from the last failure
        clock.tick(4)
        assert services.totp_code_check(account=account, code=good, now=time.time())
        assert throttle(account, "totp").failure_count == 0


def test_backup_code_during_delay_is_not_consumed(tenant, account):
    code = services.backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=Actor.system("t"), account=account
    )[0]
    with freeze_time(timezone.now()) as clock:
        assert not services.backup_code_verify(account=account, code="00000-00000")
        assert not services.backup_code_verify(account=account, code=code)
        assert not BackupCode.objects.filter(used_at__isnull=False).exists()
        clock.tick(services.throttle_delay_seconds(2) + 1)
        assert services.backup_code_verify(account=account, code=code)


def test_verifiers_are_throttled_separately(tenant, account):
    code = services.backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=Actor.system("t"), account=account
    )[0]
    assert not services.totp_code_check(account=account, code="000000")
    assert services.backup_code_verify(account=account, code=code)


def test_accounts_are_throttled_separately(tenant, account):
    other = AccountFactory(tenant=tenant)
    code = services.backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=Actor.system("t"), account=other
    )[0]
    assert not services.backup_code_verify(account=account, code="00000-00000")
    assert services.backup_code_verify(account=other, code=code)


def test_security_answers_are_throttled(tenant, account):
    services.security_answers_set(
        SecurityAnswersSet(answers={"q1": "Blue Sky"}),
        tenant=tenant,
        actor=Actor.system("t"),
        account=account,
    )
    with freeze_time(timezone.now()) as clock:
        assert not services.security_answers_verify(account=account, answers={"q1": "red"})
        assert not services.security_answers_verify(account=account, answers={"q1": "blue sky"})
        clock.tick(2)
        assert services.security_answers_verify(account=account, answers={"q1": " bluesky "})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_wrong_codes_record_fifty_failures():
    tenant = TenantFactory()
    account = AccountFactory(tenant=tenant)
    TotpFactor.objects.create(
        tenant=tenant, account=account, secret_encrypted=encrypt(SECRET), confirmed=True
    )
    now = time.time()
    valid = {services.totp_code(SECRET, for_time=now + d) for d in (-60, -30, 0, 30, 60)}
    wrong = [c for c in (f"{i:06d}" for i in range(100)) if c not in valid][:50]

    results = run_concurrently(
        lambda i: services.totp_code_check(account=account, code=wrong[i]), 50, pass_index=True
    )
    assert results == [False] * 50
    row = throttle(account, "totp")
    assert row.failure_count == 50
    # and now the right code is refused: the account waits
    good = services.totp_code(SECRET, for_time=time.time())
    assert not services.totp_code_check(account=account, code=good)
    assert throttle(account, "totp").failure_count == row.failure_count + 1
    assert timezone.now() - row.last_failure_at < timedelta(minutes=1)

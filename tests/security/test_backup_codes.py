import re

import pytest

from portal.crypto import token_hash
from portal.models import AuditEvent
from security import services
from security.commands import BackupCodesGenerate
from security.models import BackupCode, VerifierThrottle
from tests.concurrency import run_concurrently
from tests.factories import AccountFactory, TenantFactory

CODE = re.compile(r"^[0-9a-f]{5}-[0-9a-f]{5}$")
PATH = "/identity/v2/manage/account/2fa/backupcode"


def test_generate_returns_ten_distinct_codes_stored_hashed(lr, account):
    response = lr.get(PATH, {"uid": account.uid})
    assert response.status_code == 200, response.json()
    codes = response.json()["BackUpCodes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(CODE.match(c) for c in codes)
    stored = set(BackupCode.objects.filter(account=account).values_list("code_hash", flat=True))
    assert stored == {token_hash(c) for c in codes}
    event = AuditEvent.objects.get(action="backup_codes.generated", subject_uid=account.uid)
    assert not any(c in str(event.diff) for c in codes)


def test_generate_twice_gives_1127_and_keeps_codes(lr, account):
    lr.get(PATH, {"uid": account.uid})
    before = set(BackupCode.objects.values_list("code_hash", flat=True))
    response = lr.get(PATH, {"uid": account.uid})
    assert response.status_code == 400
    assert response.json()["ErrorCode"] == 1127
    assert set(BackupCode.objects.values_list("code_hash", flat=True)) == before


def test_reset_replaces_the_set(lr, account):
    old = lr.get(PATH, {"uid": account.uid}).json()["BackUpCodes"]
    response = lr.get(PATH + "/reset", {"uid": account.uid})
    assert response.status_code == 200
    new = response.json()["BackUpCodes"]
    assert len(new) == 10 and not set(old) & set(new)
    assert not services.backup_code_verify(account=account, code=old[0])
    VerifierThrottle.objects.all().delete()
    assert services.backup_code_verify(account=account, code=new[0])
    assert (
        AuditEvent.objects.filter(action="backup_codes.reset", subject_uid=account.uid).count() == 1
    )


def test_reset_without_existing_codes_generates(lr, account):
    response = lr.get(PATH + "/reset", {"uid": account.uid})
    assert response.status_code == 200 and len(response.json()["BackUpCodes"]) == 10


@pytest.mark.parametrize("suffix", ["", "/reset"])
def test_errors_missing_unknown_and_foreign_uid(lr, lr_other, account, suffix):
    assert lr.get(PATH + suffix).json()["ErrorCode"] == 908
    assert lr.get(PATH + suffix, {"uid": "nope"}).json()["ErrorCode"] == 938
    assert lr_other.get(PATH + suffix, {"uid": account.uid}).json()["ErrorCode"] == 938
    assert not BackupCode.objects.exists()


def test_each_code_works_once_case_and_spaces_ignored(tenant, account, lr):
    codes = lr.get(PATH, {"uid": account.uid}).json()["BackUpCodes"]
    assert services.backup_code_verify(account=account, code=" " + codes[0].upper() + " ")
    assert not services.backup_code_verify(account=account, code=codes[0])
    assert BackupCode.objects.filter(account=account, used_at__isnull=False).count() == 1


def test_codes_of_another_account_do_not_work(tenant, account, lr):
    codes = lr.get(PATH, {"uid": account.uid}).json()["BackUpCodes"]
    other = AccountFactory(tenant=tenant)
    assert not services.backup_code_verify(account=other, code=codes[0])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_code_ten_parallel_attempts_succeeds_once():
    tenant = TenantFactory()
    account = AccountFactory(tenant=tenant)
    from portal.audit import Actor

    code = services.backup_codes_generate(
        BackupCodesGenerate(), tenant=tenant, actor=Actor.system("t"), account=account
    )[0]
    results = run_concurrently(lambda: services.backup_code_verify(account=account, code=code), 10)
    assert sorted(results) == [False] * 9 + [True]
    assert BackupCode.objects.filter(account=account, used_at__isnull=False).count() == 1

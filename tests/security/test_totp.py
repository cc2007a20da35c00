import base64
import hashlib
import time

import pytest

from portal.audit import Actor
from portal.crypto import decrypt
from portal.models import AuditEvent
from security import services
from security.commands import TotpEnroll
from security.models import TotpFactor, VerifierThrottle

# RFC 6238 Appendix B: seeds are the ASCII strings below; codes have 8 digits.
SEEDS = {
    hashlib.sha1: b"12345678901234567890",
    hashlib.sha256: b"12345678901234567890123456789012",
    hashlib.sha512: b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize("moment,sha1,sha256,sha512", VECTORS)
def test_rfc6238_vectors(moment, sha1, sha256, sha512):
    for digest, expected in (
        (hashlib.sha1, sha1),
        (hashlib.sha256, sha256),
        (hashlib.sha512, sha512),
    ):
        secret = base64.b32encode(SEEDS[digest]).decode()
        assert services.totp_code(secret, for_time=moment, digits=8, digest=digest) == expected


def enrolled(tenant, account, confirm=True):
    secret = services.totp_enroll(
        TotpEnroll(), tenant=tenant, actor=Actor.system("test"), account=account
    )
    if confirm:
        TotpFactor.objects.filter(account=account).update(confirmed=True)
    return secret


def test_enroll_stores_seed_encrypted_and_audits(tenant, account):
    secret = services.totp_enroll(
        TotpEnroll(), tenant=tenant, actor=Actor.system("test"), account=account
    )
    factor = TotpFactor.objects.get(account=account)
    assert secret not in factor.secret_encrypted
    assert decrypt(factor.secret_encrypted) == secret
    assert not factor.confirmed
    assert AuditEvent.objects.filter(action="totp.enrolled", subject_uid=account.uid).count() == 1
    uri = services.totp_provisioning_uri(tenant=tenant, account=account, secret_b32=secret)
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri


def test_unconfirmed_factor_accepts_only_when_confirming(tenant, account):
    secret = enrolled(tenant, account, confirm=False)
    now = time.time()
    code = services.totp_code(secret, for_time=now)
    assert services.totp_code_check(account=account, code=code, now=now) is False
    VerifierThrottle.objects.filter(account=account).update(failure_count=0, last_failure_at=None)
    assert services.totp_confirm(account=account, code=code, now=now) is True
    assert TotpFactor.objects.get(account=account).confirmed
    assert AuditEvent.objects.filter(action="totp.confirmed", subject_uid=account.uid).count() == 1


@pytest.mark.parametrize("offset", [-30, 0, 30])
def test_adjacent_steps_are_accepted(tenant, account, offset):
    secret = enrolled(tenant, account)
    now = 1_700_000_015.0
    assert services.totp_code_check(
        account=account, code=services.totp_code(secret, for_time=now + offset), now=now
    )


@pytest.mark.parametrize("offset", [-60, 60])
def test_steps_two_away_are_refused(tenant, account, offset):
    secret = enrolled(tenant, account)
    now = 1_700_000_015.0
    assert not services.totp_code_check(
        account=account, code=services.totp_code(secret, for_time=now + offset), now=now
    )


def test_a_step_cannot_be_replayed_nor_an_older_step_used(tenant, account):
    secret = enrolled(tenant, account)
    now = 1_700_000_015.0
    code = services.totp_code(secret, for_time=now)
    assert services.totp_code_check(account=account, code=code, now=now)
    VerifierThrottle.objects.all().delete()
    assert not services.totp_code_check(account=account, code=code, now=now)
    VerifierThrottle.objects.all().delete()
    older = services.totp_code(secret, for_time=now - 30)
    assert not services.totp_code_check(account=account, code=older, now=now)
    VerifierThrottle.objects.all().delete()
    assert services.totp_code_check(
        account=account, code=services.totp_code(secret, for_time=now + 30), now=now
    )
    assert TotpFactor.objects.get(account=account).last_used_step == int(now + 30) // 30


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", None])
def test_malformed_codes_are_refused(tenant, account, code):
    enrolled(tenant, account)
    assert not services.totp_code_check(account=account, code=code)


def test_no_factor_refuses(account):
    assert not services.totp_code_check(account=account, code="123456")


def test_a_confirmation_and_its_event_commit_together(tenant, account):
    """If recording `totp.confirmed` fails (here an in-transaction subscriber refuses it),
    the enrollment stays unconfirmed: the change and its event are one transaction."""
    from portal import events

    secret = enrolled(tenant, account, confirm=False)
    now = time.time()

    def refuse(event):
        raise RuntimeError("subscriber refused")

    events.subscribe("totp.confirmed", refuse, phase=events.IN_TRANSACTION)
    try:
        with pytest.raises(RuntimeError, match="subscriber refused"):
            services.totp_confirm(
                account=account, code=services.totp_code(secret, for_time=now), now=now
            )
    finally:
        events.unsubscribe("totp.confirmed", refuse)
    factor = TotpFactor.objects.get(account=account)
    assert not factor.confirmed and factor.last_used_step is None
    assert not AuditEvent.objects.filter(action="totp.confirmed").exists()


def test_a_sign_in_code_records_no_event(tenant, account):
    secret = enrolled(tenant, account)
    now = time.time()
    before = AuditEvent.objects.count()
    assert services.totp_code_check(
        account=account, code=services.totp_code(secret, for_time=now), now=now
    )
    assert AuditEvent.objects.count() == before

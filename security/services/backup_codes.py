"""Backup codes: ten single-use codes an account keeps for when its other factors are lost."""

import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal import audit, events
from portal.audit import Actor
from portal.crypto import token_hash
from portal.models import Tenant
from security.commands import BackupCodesGenerate, BackupCodesRemove
from security.errors import BackupCodesExist
from security.models import BackupCode
from security.services.throttling import throttled_verify, verifier_throttle_clear

BACKUP_CODE_COUNT = 10


def _backup_code_new() -> str:
    raw = secrets.token_hex(5)
    return f"{raw[:5]}-{raw[5:]}"


def _backup_code_normal(code: str) -> str:
    return "".join((code or "").split()).lower()


@transaction.atomic
@events.emits("backup_codes.generated", "backup_codes.reset")
def backup_codes_generate(
    command: BackupCodesGenerate, *, tenant: Tenant, actor: Actor, account: Account
) -> list[str]:
    """Issue ten single-use codes; without `reset`, refuse when codes already exist."""
    reset, reason, ticket = command.reset, command.reason, command.ticket
    Account.objects.select_for_update().filter(pk=account.pk).first()
    existing = BackupCode.objects.filter(account=account)
    had = existing.count()
    if had and not reset:
        raise BackupCodesExist()
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
        tenant=tenant,
        actor=actor,
        subject_uid=account.uid,
        action="backup_codes.reset" if reset else "backup_codes.generated",
        reason=reason,
        ticket=ticket,
        changes={"backup_code_count": [had, BACKUP_CODE_COUNT]},
    )
    return codes


@events.upkeep
def backup_code_verify(*, account: Account, code: str) -> bool:
    """Consume one unused backup code; a used or unknown code is refused."""
    digest = token_hash(_backup_code_normal(code))

    def check() -> bool:
        return bool(
            BackupCode.objects.filter(
                account=account, code_hash=digest, used_at__isnull=True
            ).update(used_at=timezone.now())
        )

    return throttled_verify(account=account, verifier="backupcode", check=check)


@transaction.atomic
@events.emits("backup_codes.removed")
def backup_codes_remove(
    command: BackupCodesRemove, *, tenant: Tenant, actor: Actor, account: Account
) -> int:
    """Withdraw every backup code (codes someone else may hold); none is issued in their place."""
    reason, ticket = command.reason, command.ticket
    removed = BackupCode.objects.filter(account=account).delete()[0]
    verifier_throttle_clear(account=account, verifier="backupcode")
    audit.record(
        tenant=tenant,
        actor=actor,
        action="backup_codes.removed",
        subject_uid=account.uid,
        reason=reason,
        ticket=ticket,
        changes={"backup_code_count": [removed, 0]},
    )
    return removed

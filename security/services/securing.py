"""Securing a compromised account, security's part: what the request may ask, and the
withdrawal of the account's pending sign-ins, passkeys, push devices, second factors and
backup codes.

The whole operation is the flow `flows.securing.account_secure`: it also ends the sessions
(tokens) and requires a new password (accounts), in one transaction, and records the
umbrella event `account.secured`. Each step here is the service that already does it
(removing a passkey or a push device, resetting a factor, withdrawing backup codes), so each
records its own event as well.
"""

from dataclasses import dataclass
from typing import TypedDict

from django.utils import timezone

from accounts.models import Account
from portal import events
from portal.audit import Actor
from portal.models import Tenant
from security.commands import (
    AccountSecure,
    BackupCodesRemove,
    FactorReset,
    PasskeyRemove,
    PushDeviceRemove,
)
from security.errors import (
    NothingToSecure,
    SecureAccountNotFound,
    SecureReasonRequired,
    SecureTextTooLong,
)
from security.models import BackupCode, PasskeyCredential, PushDevice, SecondFactorToken
from security.services.backup_codes import backup_codes_remove
from security.services.factors import factor_rows, mfa_factor_reset
from security.services.passkeys import passkey_delete
from security.services.push_approval import push_device_delete

# The second factors `reset_second_factors` removes (passkeys and push devices have their own
# options), in the order they are reset; backup codes are withdrawn with them.
SECOND_FACTORS = ("totp", "sms", "email", "securityquestion", "duo")
REASON_MAX_LENGTH = 1000
TICKET_MAX_LENGTH = 100


class SecureWhy(TypedDict):
    """The reason and ticket every step and the umbrella event carry."""

    reason: str
    ticket: str


class _Who(TypedDict):
    """The tenant, actor and account every step acts as and on."""

    tenant: Tenant
    actor: Actor
    account: Account


@dataclass(frozen=True)
class SecureRequest:
    """A securing request that may go ahead: its reason and ticket (trimmed) and the
    measures chosen, as the umbrella event names them."""

    why: SecureWhy
    options: dict[str, bool]


@dataclass(frozen=True)
class FactorsWithdrawn:
    """What security withdrew while securing an account (counts of rows)."""

    pending_sign_ins_cancelled: int
    passkeys_removed: int
    push_devices_removed: int
    factors_reset: tuple[str, ...]
    backup_codes_removed: int


@events.reads
def account_secure_check(
    command: AccountSecure, *, tenant: Tenant, account: Account
) -> SecureRequest:
    """Refused (nothing changes) without a reason, with an overlong reason or ticket, with
    nothing chosen, or for another tenant's account."""
    reason = command.reason.strip() if isinstance(command.reason, str) else ""
    ticket = command.ticket.strip() if isinstance(command.ticket, str) else ""
    if not reason:
        raise SecureReasonRequired()
    if len(reason) > REASON_MAX_LENGTH:
        raise SecureTextTooLong("reason", REASON_MAX_LENGTH)
    if len(ticket) > TICKET_MAX_LENGTH:
        raise SecureTextTooLong("ticket", TICKET_MAX_LENGTH)
    options = {
        "revoke_sessions": bool(command.revoke_sessions),
        "remove_passkeys": bool(command.remove_passkeys),
        "remove_push_devices": bool(command.remove_push_devices),
        "reset_second_factors": bool(command.reset_second_factors),
        # Not "password": audit diffs redact every key naming one.
        "require_reset": bool(command.require_password_change),
    }
    if not any(options.values()):
        raise NothingToSecure()
    if account.tenant_id != tenant.pk:
        raise SecureAccountNotFound()
    return SecureRequest(why={"reason": reason, "ticket": ticket}, options=options)


@events.step
def account_factors_withdraw(
    command: AccountSecure, *, tenant: Tenant, actor: Actor, account: Account, why: SecureWhy
) -> FactorsWithdrawn:
    """Security's steps of securing, in the caller's transaction: cancel half-finished
    sign-ins, remove passkeys and push devices (all, or those added since
    `devices_added_since`), reset the second factors and withdraw the backup codes. A whole
    passkey or push removal and every factor reset end the sessions too, as a factor reset
    always does."""
    since = command.devices_added_since
    who: _Who = {"tenant": tenant, "actor": actor, "account": account}
    now = timezone.now()

    pending = 0
    if command.revoke_sessions or command.require_password_change:
        # A sign-in waiting for its second factor, or a reauthentication proof, would
        # otherwise outlive the sessions it came from.
        pending = SecondFactorToken.objects.filter(
            account=account, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)

    passkeys = 0
    if command.remove_passkeys:
        if since is None:
            passkeys = PasskeyCredential.objects.filter(account=account).count()
            if passkeys:
                mfa_factor_reset(FactorReset(factor="passkey", **why), **who)
        else:
            newer = PasskeyCredential.objects.filter(account=account, created__gte=since).order_by(
                "pk"
            )
            for credential_id in newer.values_list("credential_id", flat=True):
                passkey_delete(PasskeyRemove(passkey_id=credential_id, **why), **who)
                passkeys += 1

    devices = 0
    if command.remove_push_devices:
        if since is None:
            devices = PushDevice.objects.filter(account=account).count()
            if devices:
                mfa_factor_reset(FactorReset(factor="push", **why), **who)
        else:
            newer_devices = PushDevice.objects.filter(account=account, created__gte=since).order_by(
                "pk"
            )
            for device_id in newer_devices.values_list("pk", flat=True):
                push_device_delete(PushDeviceRemove(device_id=device_id, **why), **who)
                devices += 1

    factors: list[str] = []
    codes = 0
    if command.reset_second_factors:
        for factor in SECOND_FACTORS:
            if factor_rows(account, factor).exists():
                mfa_factor_reset(FactorReset(factor=factor, **why), **who)
                factors.append(factor)
        if BackupCode.objects.filter(account=account).exists():
            codes = backup_codes_remove(BackupCodesRemove(**why), **who)

    return FactorsWithdrawn(
        pending_sign_ins_cancelled=pending,
        passkeys_removed=passkeys,
        push_devices_removed=devices,
        factors_reset=tuple(factors),
        backup_codes_removed=codes,
    )

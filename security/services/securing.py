"""Securing a compromised account: one staff operation, one transaction, one umbrella event.

Each step is the section service that already does it (ending sessions, removing a passkey or
a push device, resetting a factor, withdrawing backup codes, requiring a new password), so
each records its own event as well; `account.secured` ties them together with the reason,
the options chosen and what was removed. Either every step happens or none does.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Account
from portal import audit
from portal.audit import Actor
from portal.models import Tenant
from security.commands import AccountSecure, FactorReset
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


@dataclass(frozen=True)
class SecuredAccount:
    """What securing removed (counts of rows; `sessions_revoked` counts live tokens)."""

    sessions_revoked: int
    pending_sign_ins_cancelled: int
    passkeys_removed: int
    push_devices_removed: int
    factors_reset: tuple[str, ...]
    backup_codes_removed: int
    password_change_required: bool


def account_secure(
    command: AccountSecure, *, tenant: Tenant, actor: Actor, account: Account
) -> SecuredAccount:
    """Take a compromised account back: end its sessions (and half-finished sign-ins), remove
    its passkeys and push devices (all, or those added since `devices_added_since`), reset
    its second factors and require a new password before the next password sign-in.

    A whole passkey or push removal and every factor reset end the sessions too, as a factor
    reset always does. Refused (nothing changes) without a reason or with nothing chosen."""
    from tokens.services.sessions import account_sessions_revoke

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
    since = command.devices_added_since
    why = {"reason": reason, "ticket": ticket}
    who = {"tenant": tenant, "actor": actor, "account": account}

    with transaction.atomic():
        # One securing (or other write of the account) at a time.
        Account.objects.select_for_update().filter(pk=account.pk).first()
        now = timezone.now()

        sessions = account_sessions_revoke(**who, **why) if command.revoke_sessions else 0
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
                newer = PasskeyCredential.objects.filter(
                    account=account, created__gte=since
                ).order_by("pk")
                for credential_id in newer.values_list("credential_id", flat=True):
                    passkey_delete(**who, passkey_id=credential_id, **why)
                    passkeys += 1

        devices = 0
        if command.remove_push_devices:
            if since is None:
                devices = PushDevice.objects.filter(account=account).count()
                if devices:
                    mfa_factor_reset(FactorReset(factor="push", **why), **who)
            else:
                newer = PushDevice.objects.filter(account=account, created__gte=since).order_by(
                    "pk"
                )
                for device_id in newer.values_list("pk", flat=True):
                    push_device_delete(**who, device_id=device_id, **why)
                    devices += 1

        factors: list[str] = []
        codes = 0
        if command.reset_second_factors:
            for factor in SECOND_FACTORS:
                if factor_rows(account, factor).exists():
                    mfa_factor_reset(FactorReset(factor=factor, **why), **who)
                    factors.append(factor)
            if BackupCode.objects.filter(account=account).exists():
                codes = backup_codes_remove(**who, **why)

        if command.require_password_change:
            account_services.account_password_change_require(**who, **why)

        result = SecuredAccount(
            sessions_revoked=sessions,
            pending_sign_ins_cancelled=pending,
            passkeys_removed=passkeys,
            push_devices_removed=devices,
            factors_reset=tuple(factors),
            backup_codes_removed=codes,
            password_change_required=bool(command.require_password_change),
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="account.secured",
            subject_uid=account.uid,
            **why,
            changes={
                **{name: [None, value] for name, value in options.items()},
                "devices_added_since": [None, since.isoformat() if since else None],
                "sessions_revoked": [None, sessions],
                "pending_sign_ins_cancelled": [None, pending],
                "passkeys_removed": [None, passkeys],
                "push_devices_removed": [None, devices],
                "factors_reset": [None, list(factors)],
                "backup_codes_removed": [None, codes],
            },
        )
    return result

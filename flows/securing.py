"""Securing a compromised account: one staff operation, one transaction, one umbrella event.

Tokens ends the sessions, security withdraws the pending sign-ins, passkeys, push devices,
second factors and backup codes (`security.services.account_factors_withdraw`), and the
account is required to set a new password. Each step is the service that already does it,
so each records its own event as well; `account.secured` ties them together with the
reason, the options chosen and what was removed. Either every step happens or none does.

The sessions end first and their count is part of the umbrella event and of the answer, so
this is a flow rather than a subscriber of `account.secured`.
"""

from dataclasses import dataclass

from django.db import transaction

from accounts import services as account_services
from accounts.commands import PasswordChangeRequire
from accounts.models import Account
from portal import audit, events
from portal.audit import Actor
from portal.models import Tenant
from security import services as security_services
from security.commands import AccountSecure
from tokens.commands import AccountSessionsRevoke
from tokens.services.sessions import account_sessions_revoke


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


@events.flow("account.secured")
def account_secure(
    command: AccountSecure, *, tenant: Tenant, actor: Actor, account: Account
) -> SecuredAccount:
    """Take a compromised account back: end its sessions (and half-finished sign-ins), remove
    its passkeys and push devices (all, or those added since `devices_added_since`), reset
    its second factors and require a new password before the next password sign-in.

    A whole passkey or push removal and every factor reset end the sessions too, as a factor
    reset always does. Refused (nothing changes) without a reason or with nothing chosen."""
    request = security_services.account_secure_check(command, tenant=tenant, account=account)
    why = request.why
    since = command.devices_added_since

    with transaction.atomic():
        # One securing (or other write of the account) at a time.
        Account.objects.select_for_update().filter(pk=account.pk).first()

        sessions = (
            account_sessions_revoke(
                AccountSessionsRevoke(**why), tenant=tenant, actor=actor, account=account
            )
            if command.revoke_sessions
            else 0
        )
        withdrawn = security_services.account_factors_withdraw(
            command, tenant=tenant, actor=actor, account=account, why=why
        )
        if command.require_password_change:
            account_services.account_password_change_require(
                PasswordChangeRequire(**why), tenant=tenant, actor=actor, account=account
            )

        result = SecuredAccount(
            sessions_revoked=sessions,
            pending_sign_ins_cancelled=withdrawn.pending_sign_ins_cancelled,
            passkeys_removed=withdrawn.passkeys_removed,
            push_devices_removed=withdrawn.push_devices_removed,
            factors_reset=withdrawn.factors_reset,
            backup_codes_removed=withdrawn.backup_codes_removed,
            password_change_required=bool(command.require_password_change),
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="account.secured",
            subject_uid=account.uid,
            **why,
            changes={
                **{name: [None, value] for name, value in request.options.items()},
                "devices_added_since": [None, since.isoformat() if since else None],
                "sessions_revoked": [None, sessions],
                "pending_sign_ins_cancelled": [None, result.pending_sign_ins_cancelled],
                "passkeys_removed": [None, result.passkeys_removed],
                "push_devices_removed": [None, result.push_devices_removed],
                "factors_reset": [None, list(result.factors_reset)],
                "backup_codes_removed": [None, result.backup_codes_removed],
            },
        )
    return result

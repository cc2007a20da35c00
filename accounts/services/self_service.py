"""Changes a person makes to their own account with the proof they carry: a new password
given the old one."""

from django.db import transaction

from accounts.commands import PasswordChange, PasswordSet
from accounts.errors import OldPasswordWrong
from accounts.models import Account
from accounts.services.password import account_password_set, account_password_verify
from accounts.services.shared import account_locked
from portal import events
from portal.audit import Actor
from portal.errors import FieldRequired
from portal.models import Tenant


@events.emits("account_password.set")
def account_password_change(
    command: PasswordChange, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Replace the password when the old one is right (OldPasswordWrong otherwise, nothing
    changes). The new password goes through the same checks and policy as every password
    set, and the change records the same `account_password.set` event, so sessions end and
    reset tokens stop working as for any new password."""
    if not isinstance(command.old_password, str) or not command.old_password:
        raise FieldRequired("oldpassword")
    if not isinstance(command.new_password, str) or not command.new_password:
        raise FieldRequired("newpassword")
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        if not account_password_verify(account=account, password=command.old_password):
            raise OldPasswordWrong()
        return account_password_set(
            PasswordSet(
                password=command.new_password,
                reason=command.reason or "changed with the old password",
                ticket=command.ticket,
            ),
            tenant=tenant,
            actor=actor,
            account=account,
        )

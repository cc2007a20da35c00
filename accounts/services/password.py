"""Writes of the account's password: set (judged by the tenant's password policy), require
a change, check (upgrading old hashes)."""

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from accounts.commands import PasswordChangeRequire, PasswordSet
from accounts.models import Account
from accounts.password_policy import SETTINGS as POLICY_SETTINGS
from accounts.password_policy import password_judge
from accounts.services.shared import account_locked, event_record, password_check
from portal import events
from portal.audit import Actor
from portal.errors import FieldRequired
from portal.models import Tenant


@events.reads
def password_policy_check(*, tenant: Tenant, password: str) -> None:
    """Refuse (PasswordPolicyRefused) a new password `tenant`'s password policy does not
    accept. Every service that sets a password given in clear calls this; a hash (an
    import) is never judged."""
    password_judge(password, settings={name: tenant.setting(name) for name in POLICY_SETTINGS})


@events.emits("account_password.set")
def account_password_set(
    command: PasswordSet, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Set a new password: judged by the tenant's password policy, hashed with the default
    hasher; every session ends and pending reset tokens stop working (tokens does both when
    it hears account_password.set)."""
    password = command.password
    if password is None or (isinstance(password, str) and not password):
        raise FieldRequired("password")
    password_check(password)
    password_policy_check(tenant=tenant, password=password)
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        had = bool(account.password)
        was_required = account.password_change_required
        account.password = make_password(password)
        account.last_password_change_date = timezone.now()
        account.password_change_required = False
        account.save(
            update_fields=[
                "password",
                "last_password_change_date",
                "password_change_required",
                "modified",
            ]
        )
        changes = {"HasPassword": [had, True]}
        if was_required:
            changes["ResetRequired"] = [True, False]  # a key naming "password" would be redacted
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_password.set",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes=changes,
        )
    return account


@events.emits("account_password.change_required")
def account_password_change_require(
    command: PasswordChangeRequire, *, tenant: Tenant, actor: Actor, account: Account
) -> bool:
    """Refuse password sign-in (1317) until a new password is set, for an account whose
    password is known to someone else. Factors and sessions are left to the caller.
    Returns whether the flag was newly set."""
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        was = account.password_change_required
        if not was:
            account.password_change_required = True
            account.save(update_fields=["password_change_required", "modified"])
        event_record(
            tenant=tenant,
            actor=actor,
            action="account_password.change_required",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={} if was else {"ResetRequired": [False, True]},
        )
    return not was


@events.reads
def account_password_verify(*, account: Account, password: str) -> bool:
    """Whether `password` is the account's; a hash made with an older hasher or parameters
    is replaced by one from the current default on success."""
    if not account.password or not isinstance(password, str):
        return False

    def upgrade(raw: str) -> None:
        account.password = make_password(raw)
        Account.objects.filter(pk=account.pk).update(password=account.password)

    return check_password(password, account.password, setter=upgrade)

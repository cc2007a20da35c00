"""The account's life: creation, block and unblock, lock and unlock, deletion, and the
count of successful sign-ins."""

from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Account, AccountEmail, new_uid
from accounts.services.profile import (
    consents_record,
    privacy_policy_record,
    profile_apply,
    profile_changes_read,
)
from accounts.services.shared import (
    MANUAL_LOCK,
    account_search_text,
    event_record,
    identifiers_check_free,
    integrity_error,
    snapshot,
)
from portal import audit, context
from portal.audit import Actor
from portal.errors import AccountNotFound, FieldRequired
from portal.models import Tenant


def account_create(*, tenant: Tenant, actor: Actor, data: Any) -> Account:
    """Create an account from a ManageRegisterModel body, without the verification flow
    (a back end vouches for it). Needs an email, a phone id or a username. A
    SecurityQuestionAnswer is checked with the body but stored by the caller
    (`profile_fields.security_answers`, security.services.security_answers_set)."""
    changes = profile_changes_read(data, creating=True, null_support=False)
    if (
        not changes.emails
        and not (changes.phone and changes.phone[0])
        and not (changes.username and changes.username[0])
    ):
        raise FieldRequired("Email")
    now = timezone.now()
    with transaction.atomic():
        identifiers_check_free(tenant=tenant, account=None, changes=changes)
        account = Account(
            tenant=tenant, uid=changes.uid or new_uid(), is_custom_uid=bool(changes.uid)
        )
        profile_apply(account, changes, creating=True)
        flags = changes.flags
        account.email_verified = bool(flags.get("EmailVerified", False)) and bool(changes.emails)
        account.is_active = flags.get("IsActive", True)
        if flags.get("IsLoginLocked"):
            account.is_login_locked, account.login_locked_type = True, MANUAL_LOCK
        if changes.password:
            account.password = make_password(changes.password)
            account.last_password_change_date = now
        emails = changes.emails or []
        account.search_text = account_search_text(account, [e["Value"] for e in emails])
        try:
            with transaction.atomic():
                account.save()
                rows = [
                    AccountEmail.objects.create(
                        tenant=tenant,
                        account=account,
                        type=e["Type"],
                        value=e["Value"],
                        verified=account.email_verified,
                    )
                    for e in emails
                ]
        except IntegrityError as exc:
            raise integrity_error(exc) from exc
        if changes.privacy_policy:
            privacy_policy_record(
                tenant=tenant, account=account, version=changes.privacy_policy, now=now
            )
            account.save(update_fields=["profile"])
        if changes.consents:
            consents_record(
                tenant=tenant,
                account=account,
                consents=changes.consents,
                update_type="Register",
                now=now,
            )
        event_record(
            tenant=tenant,
            actor=actor,
            action="account.created",
            account=account,
            changes=audit.diff({}, snapshot(account, rows)),
        )
    return account


def account_block(
    *, tenant: Tenant, actor: Actor, account: Account, reason: str = "", ticket: str = ""
) -> Account:
    """Stop every sign-in: the account is inactive and its sessions end now."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        was = account.is_active
        account.is_active = False
        account.save(update_fields=["is_active", "modified"])
        # The sessions end through the event (tokens subscribes to account.blocked).
        event_record(
            tenant=tenant,
            actor=actor,
            action="account.blocked",
            account=account,
            reason=reason,
            ticket=ticket,
            changes={"IsActive": [was, False]} if was else {},
        )
    return account


def account_unblock(
    *, tenant: Tenant, actor: Actor, account: Account, reason: str = "", ticket: str = ""
) -> Account:
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        was = account.is_active
        account.is_active = True
        account.save(update_fields=["is_active", "modified"])
        event_record(
            tenant=tenant,
            actor=actor,
            action="account.unblocked",
            account=account,
            reason=reason,
            ticket=ticket,
            changes={"IsActive": [was, True]} if not was else {},
        )
    return account


def account_lock(
    *,
    tenant: Tenant,
    actor: Actor,
    account: Account,
    locked_type: str,
    until: datetime | None = None,
    reason: str = "",
) -> Account:
    """Lock sign-in (too many failures, or by hand) until `until` (None: until unlocked)."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        before = {
            "IsLoginLocked": account.is_login_locked,
            "LoginLockedType": account.login_locked_type,
            "LoginLockedUntil": account.login_locked_until.isoformat()
            if account.login_locked_until
            else None,
        }
        account.is_login_locked = True
        account.login_locked_type = (locked_type or MANUAL_LOCK)[:40]
        account.login_locked_until = until
        account.save(
            update_fields=["is_login_locked", "login_locked_type", "login_locked_until", "modified"]
        )
        after = {
            "IsLoginLocked": True,
            "LoginLockedType": account.login_locked_type,
            "LoginLockedUntil": until.isoformat() if until else None,
        }
        event_record(
            tenant=tenant,
            actor=actor,
            action="account.locked",
            account=account,
            before=before,
            after=after,
            reason=reason,
        )
    return account


def account_unlock(
    *, tenant: Tenant, actor: Actor, account: Account, reason: str = "", ticket: str = ""
) -> Account:
    """Let the account sign in again now: clear the lock (security clears the failure
    counter when it hears account.unlocked)."""
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        before = {
            "IsLoginLocked": account.is_login_locked,
            "LoginLockedType": account.login_locked_type,
        }
        account.is_login_locked, account.login_locked_type, account.login_locked_until = (
            False,
            "",
            None,
        )
        account.save(
            update_fields=["is_login_locked", "login_locked_type", "login_locked_until", "modified"]
        )
        event_record(
            tenant=tenant,
            actor=actor,
            action="account.unlocked",
            account=account,
            reason=reason,
            ticket=ticket,
            before=before,
            after={"IsLoginLocked": False, "LoginLockedType": ""},
        )
    return account


def account_delete(
    *, tenant: Tenant, actor: Actor, account: Account, reason: str = "", ticket: str = ""
) -> None:
    """Delete the account and everything hanging on it (sessions end first; other sections'
    rows go by cascade). The audit keeps a tombstone: who, when, which UID; no profile data.
    The event comes first: its subscribers (tokens ending the sessions) still find the rows."""
    with transaction.atomic():
        audit.record(
            tenant=tenant,
            actor=actor,
            action="account.deleted",
            subject_uid=account.uid,
            reason=reason,
            ticket=ticket,
        )
        Account.objects.filter(pk=account.pk, tenant=tenant).delete()


def accounts_delete_by_email(*, tenant: Tenant, actor: Actor, email: str, reason: str = "") -> int:
    """Delete every account that uses `email` (its own or a linked identity's); 938 if none."""
    from accounts.selectors import accounts_by_email

    with transaction.atomic():
        accounts = accounts_by_email(tenant=tenant, email=email)
        if not accounts:
            raise AccountNotFound()
        for account in accounts:
            account_delete(tenant=tenant, actor=actor, account=account, reason=reason)
    return len(accounts)


def account_login_record(*, tenant: Tenant, account: Account) -> Account:
    """Count a successful sign-in (NoOfLogins, LastLoginDate)."""
    now = timezone.now()
    ctx = context.current()
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(
            no_of_logins=F("no_of_logins") + 1, last_login_date=now
        )
        account.refresh_from_db(fields=["no_of_logins", "last_login_date"])
        audit.record(
            tenant=tenant,
            actor=Actor.account(account.uid),
            action="account.login_recorded",
            subject_uid=account.uid,
            changes={
                "NoOfLogins": [account.no_of_logins - 1, account.no_of_logins],
                "LastLoginIP": [None, ctx.ip],
            },
        )
    return account

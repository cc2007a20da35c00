"""The account's life: creation, block and unblock, deletion, and the count of successful
sign-ins. Sign-in locks are security's (security.services.lockout)."""

from collections.abc import Sequence

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.commands import (
    AccountBlock,
    AccountCreate,
    AccountDelete,
    AccountsDeleteByEmail,
    AccountUnblock,
)
from accounts.models import Account, AccountEmail, new_uid
from accounts.services.password import password_policy_check
from accounts.services.profile import (
    consents_record,
    privacy_policy_record,
    profile_apply,
    profile_changes,
)
from accounts.services.shared import (
    account_locked,
    account_search_text,
    account_version_matches,
    event_record,
    identifiers_check_free,
    integrity_error,
    snapshot,
)
from portal import audit, context, events
from portal.audit import Actor
from portal.errors import AccountNotFound, FieldRequired
from portal.models import Tenant


@events.emits("account.created")
def account_create(command: AccountCreate, *, tenant: Tenant, actor: Actor) -> Account:
    """Create an account without the verification flow (a back end vouches for it). Needs
    an email, a phone id or a username. Security answers sent with a LoginRadius body are
    stored by the front door (security.services.security_answers_set), and so is
    `IsLoginLocked: true` (security.services.account_lock_set). A password is judged by
    the tenant's password policy."""
    changes = profile_changes(command, creating=True)
    if (
        not changes.emails
        and not (changes.phone and changes.phone[0])
        and not (changes.username and changes.username[0])
    ):
        raise FieldRequired("Email")
    if changes.password:
        password_policy_check(tenant=tenant, password=changes.password)
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
        if changes.password:
            account.password = make_password(changes.password)
            account.last_password_change_date = now
        emails = changes.emails or []
        account.search_text = account_search_text(account, [e.value for e in emails])
        try:
            with transaction.atomic():
                account.save()
                rows = [
                    AccountEmail.objects.create(
                        tenant=tenant,
                        account=account,
                        type=e.type,
                        value=e.value,
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
            reason=command.reason,
            ticket=command.ticket,
            changes=audit.diff({}, snapshot(account, rows)),
        )
    return account


@events.emits("account.blocked")
def account_block(
    command: AccountBlock, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Stop every sign-in: the account is inactive and its sessions end now."""
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        was = account.is_active
        account.is_active = False
        account.save(update_fields=["is_active", "modified"])
        # The sessions end through the event (tokens subscribes to account.blocked).
        event_record(
            tenant=tenant,
            actor=actor,
            action="account.blocked",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"IsActive": [was, False]} if was else {},
        )
    return account


@events.emits("account.unblocked")
def account_unblock(
    command: AccountUnblock, *, tenant: Tenant, actor: Actor, account: Account
) -> Account:
    """Let a blocked account sign in again."""
    with transaction.atomic():
        account = account_locked(account, expected_version=command.expected_version)
        was = account.is_active
        account.is_active = True
        account.save(update_fields=["is_active", "modified"])
        event_record(
            tenant=tenant,
            actor=actor,
            action="account.unblocked",
            account=account,
            reason=command.reason,
            ticket=command.ticket,
            changes={"IsActive": [was, True]} if not was else {},
        )
    return account


# --- Set forms: a bulk job's batch ----------------------------------------------------


# What a set command reads of each account (the rest of a wide row loads only if asked for).
SET_FIELDS = ("pk", "tenant_id", "uid", "is_active", "modified")


@events.reads
def accounts_locked(*, tenant: Tenant, uids: Sequence[str]) -> dict[str, Account]:
    """The tenant's accounts named by `uids` (those that exist) by UID, their rows locked
    until the caller's transaction ends. Locked in primary-key order, so two sets that
    overlap never wait on each other in a cycle."""
    return {
        account.uid: account
        for account in Account.objects.select_for_update()
        .filter(tenant=tenant, uid__in=list(uids))
        .only(*SET_FIELDS)
        .order_by("pk")
    }


@events.emits("account.blocked")
def accounts_block(
    command: AccountBlock, *, tenant: Tenant, actor: Actor, accounts: Sequence[Account]
) -> list[Account]:
    """`account_block` for a set of accounts (a bulk job's batch): each blocked, its
    sessions ended and its own `account.blocked` event recorded as `account_block` does,
    with a few statements for the whole set. Returns the accounts as stored now."""
    return _accounts_activity_set(
        command, tenant=tenant, actor=actor, accounts=accounts, active=False
    )


@events.emits("account.unblocked")
def accounts_unblock(
    command: AccountUnblock, *, tenant: Tenant, actor: Actor, accounts: Sequence[Account]
) -> list[Account]:
    """`account_unblock` for a set of accounts, one `account.unblocked` event each."""
    return _accounts_activity_set(
        command, tenant=tenant, actor=actor, accounts=accounts, active=True
    )


def _accounts_activity_set(
    command: AccountBlock | AccountUnblock,
    *,
    tenant: Tenant,
    actor: Actor,
    accounts: Sequence[Account],
    active: bool,
) -> list[Account]:
    wanted = sorted({account.pk for account in accounts})
    with transaction.atomic():
        locked = list(
            Account.objects.select_for_update()
            .filter(tenant=tenant, pk__in=wanted)
            .only(*SET_FIELDS)
            .order_by("pk")
        )
        if len(locked) != len(wanted):
            raise AccountNotFound()
        if command.expected_version is not None:
            for account in locked:
                account_version_matches(account, expected_version=command.expected_version)
        if not locked:
            return []
        now = timezone.now()
        Account.objects.filter(pk__in=wanted).update(is_active=active, modified=now)
        subjects = []
        for account in locked:
            was = account.is_active
            account.is_active, account.modified = active, now
            subjects.append((account.uid, {"IsActive": [was, active]} if was != active else {}))
        # The sessions of blocked accounts end through the events (tokens subscribes to
        # account.blocked, with a set form for these).
        audit.record_many(
            tenant=tenant,
            actor=actor,
            action="account.unblocked" if active else "account.blocked",
            subjects=subjects,
            reason=command.reason,
            ticket=command.ticket,
        )
    return locked


@events.emits("account.deleted")
def account_delete(
    command: AccountDelete, *, tenant: Tenant, actor: Actor, account: Account
) -> None:
    """Delete the account and everything hanging on it (sessions end first; other sections'
    rows go by cascade). The audit keeps a tombstone: who, when, which UID; no profile data.
    The event comes first: its subscribers (tokens ending the sessions) still find the rows."""
    with transaction.atomic():
        if command.expected_version is not None:
            account_locked(account, expected_version=command.expected_version)
        audit.record(
            tenant=tenant,
            actor=actor,
            action="account.deleted",
            subject_uid=account.uid,
            reason=command.reason,
            ticket=command.ticket,
        )
        Account.objects.filter(pk=account.pk, tenant=tenant).delete()


@events.flow()
def accounts_delete_by_email(
    command: AccountsDeleteByEmail, *, tenant: Tenant, actor: Actor
) -> int:
    """Delete every account that uses `email` (its own or a linked identity's); 938 if none."""
    from accounts.selectors import accounts_by_email

    each = AccountDelete(reason=command.reason, ticket=command.ticket)
    with transaction.atomic():
        accounts = accounts_by_email(tenant=tenant, email=command.email)
        if not accounts:
            raise AccountNotFound()
        for account in accounts:
            account_delete(each, tenant=tenant, actor=actor, account=account)
    return len(accounts)


@events.emits("account.login_recorded", proof=True)
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

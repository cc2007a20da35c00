"""What the tokens app does when the accounts app or a section reports a change
(portal/events.py).

The base app records what happened (`account.blocked`, `account_password.set`, ...) and
never imports tokens, nor does security (`mfa_factor.reset`); these in-transaction
subscribers end the account's sessions, retire its reset tokens and queue the notices,
atomically with the change that caused them. The events they record themselves point to
that change (`caused_by`).
"""

from django.db import transaction

from accounts.models import Account
from portal import events
from portal.audit import Actor
from portal.models import Tenant
from tokens.commands import AccountSessionsRevoke
from tokens.errors import DailyCapReached
from tokens.services.multipurpose import account_tokens_retire, message_enqueue
from tokens.services.sessions import account_sessions_revoke, accounts_sessions_revoke

# Why the sessions end, by the event that ends them.
SESSION_ENDING_EVENTS = {
    "account.blocked": "account blocked",
    "account.deleted": "account deleted",
    "account_password.set": "password changed",
    "account.updated": "account blocked",  # only when the update blocks the account
}
EMAIL_CHANGING_EVENTS = ("account_email.upserted", "account.updated")


def _account(event: events.DomainEvent) -> Account | None:
    if event.tenant_id is None:  # a platform event: no account of a tenant
        return None
    return (
        Account.objects.select_related("tenant")
        .filter(tenant_id=event.tenant_id, uid=event.subject_uid)
        .first()
    )


def _actor(event: events.DomainEvent) -> Actor:
    return Actor(event.actor_type, event.actor_id, event.actor_label)


def sessions_end(event: events.DomainEvent) -> None:
    """A blocked or deleted account, or a new password: every session ends now."""
    if event.type == "account.updated" and event.diff.get("IsActive") != [True, False]:
        return
    account = _account(event)
    if account is None:
        return
    account_sessions_revoke(
        AccountSessionsRevoke(reason=event.reason or SESSION_ENDING_EVENTS[event.type]),
        tenant=account.tenant,
        account=account,
        actor=_actor(event),
    )
    if event.type == "account_password.set":
        account_tokens_retire(account=account, purposes=["forgotpassword"])


def sessions_end_many(batch: list[events.DomainEvent]) -> None:
    """`sessions_end` for the events of one set-based command (a bulk job's batch of
    blocks): the same revocations and events, each pointing to its own account's event,
    with a few statements for the set."""
    groups: dict[tuple[int, str, str, str, str, str], list[events.DomainEvent]] = {}
    for event in batch:
        if event.type == "account.updated" and event.diff.get("IsActive") != [True, False]:
            continue
        if event.tenant_id is None:
            continue
        why = event.reason or SESSION_ENDING_EVENTS[event.type]
        key = (
            event.tenant_id,
            event.actor_type,
            event.actor_id,
            event.actor_label,
            why,
            event.type,
        )
        groups.setdefault(key, []).append(event)
    for (tenant_id, actor_type, actor_id, actor_label, why, event_type), group in groups.items():
        found = {
            account.uid: account
            for account in Account.objects.filter(
                tenant_id=tenant_id, uid__in=[event.subject_uid for event in group]
            ).only("pk", "tenant_id", "uid")
        }
        present = [event for event in group if event.subject_uid in found]
        if not present:
            continue
        accounts = [found[event.subject_uid] for event in present]
        accounts_sessions_revoke(
            AccountSessionsRevoke(reason=why),
            tenant=Tenant.objects.get(pk=tenant_id),
            accounts=accounts,
            actor=Actor(actor_type, actor_id, actor_label),
            causes=[event.id for event in present],
        )
        if event_type == "account_password.set":
            for event, account in zip(present, accounts, strict=True):
                with events.caused_by(event.id):
                    account_tokens_retire(account=account, purposes=["forgotpassword"])


def sessions_end_after_factor_reset(event: events.DomainEvent) -> None:
    """A second factor withdrawn by support: the sessions it may have opened end with it."""
    account = _account(event)
    if account is None:
        return
    factor = event.diff["factor"][0]
    account_sessions_revoke(
        AccountSessionsRevoke(reason=f"mfa reset: {factor}"),
        tenant=account.tenant,
        account=account,
        actor=_actor(event),
    )


def email_added_notice(event: events.DomainEvent) -> None:
    """Tell the account's primary address (as it was before the change) that another
    address was added; the notice names the new address only partly."""
    change = event.diff.get("Email")
    if not isinstance(change, list) or len(change) != 2:
        return
    before, after = ([str(item).partition(":")[::2] for item in side or []] for side in change)
    old_values = {value.lower() for _, value in before}
    added = [value for _, value in after if value.lower() not in old_values]
    primary = next(
        (value for kind, value in before if kind.lower() == "primary"),
        before[0][1] if before else None,
    )
    if not added or primary is None:
        return
    account = _account(event)
    if account is None:
        return
    tenant = account.tenant
    masked = ", ".join(_masked_email(value) for value in added)
    hold_hours = tenant.setting("new_email_recovery_hold_hours")
    context = {
        "subject": f"An email address was added to your {tenant.name} account",
        "body": f"The address {masked} was added to your {tenant.name} account. If this was not you, "
        f"secure your account now: it cannot be used to reset your password for {hold_hours} hours.",
        "application": tenant.name,
        "added": masked,
        "hold_hours": hold_hours,
    }
    try:
        with transaction.atomic():
            message_enqueue(
                tenant=tenant,
                account=account,
                channel="email",
                template="emailadded",
                recipient=primary,
                context=context,
                check_limits=False,
            )
    except DailyCapReached:  # the tenant's daily cap is spent: the change still stands
        pass


def _masked_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:2]}***@{domain}"


def subscribe() -> None:
    for event_type in SESSION_ENDING_EVENTS:
        events.subscribe(
            event_type, sessions_end, phase=events.IN_TRANSACTION, many=sessions_end_many
        )
    events.subscribe(
        "mfa_factor.reset", sessions_end_after_factor_reset, phase=events.IN_TRANSACTION
    )
    for event_type in EMAIL_CHANGING_EVENTS:
        events.subscribe(event_type, email_added_notice, phase=events.IN_TRANSACTION)

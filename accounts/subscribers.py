"""What the accounts app does when one of its own events is recorded (portal/events.py).

`account.deleted`: the account's events lose their personal values in the same transaction
(portal/erasure.py), so the deletion never commits with them left in the history."""

from portal import events
from portal.audit import Actor
from portal.erasure import AccountEventsErase, account_events_erase
from portal.models import Tenant


def events_erase(event: events.DomainEvent) -> None:
    """Erase the deleted account's events, on behalf of whoever deleted it."""
    if event.tenant_id is None:  # a platform event: no account of a tenant
        return
    tenant = Tenant.objects.get(pk=event.tenant_id)
    account_events_erase(
        AccountEventsErase(uid=event.subject_uid, deleted_event_id=event.id),
        tenant=tenant,
        actor=Actor(event.actor_type, event.actor_id, event.actor_label),
    )


def subscribe() -> None:
    from accounts import notice_subscribers

    # The deletion notice is queued before the account's events lose their values.
    notice_subscribers.subscribe()
    events.subscribe("account.deleted", events_erase, phase=events.IN_TRANSACTION)

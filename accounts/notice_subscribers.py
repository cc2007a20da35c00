"""The holder is told when staff act on the account (accounts/notices.py): each event type
below, recorded by a staff member in the console, queues its notice in the same
transaction, so the notice and the change commit together. Back ends acting through API
credentials and the holder acting themselves are not staff: no notice."""

from typing import Any

from accounts.models import Account
from accounts.notices import EMAIL, SMS, Contact, notice_send
from portal import events
from portal.models import AuditEvent, Tenant

# Event type -> notice key (accounts.notices.NOTICES). The events come from several
# sections; subscribing by name needs no import of them.
STAFF_NOTICES: dict[str, str] = {
    "mfa_factor.reset": "factor.reset",
    "account_email.upserted": "contact.changed",
    "account_email.removed": "contact.changed",
    "account_email.made_primary": "contact.changed",
    "account_phone.updated": "contact.changed",
    "account.updated": "contact.changed",  # only when its diff names Email or PhoneId
    "account_password.set": "password.set",
    "account.blocked": "account.blocked",
    "account.unblocked": "account.unblocked",
    "account.unlocked": "account.unlocked",
    "session.impersonated": "impersonation",
    "account.deleted": "account.deleted",
}


def _emails(side: Any) -> dict[str, str]:
    """address -> type of one side of an Email diff ("Type:value" items, or plain values)."""
    found: dict[str, str] = {}
    for item in side if isinstance(side, list) else [side]:
        text = str(item or "")
        if not text:
            continue
        kind, _, address = (
            text.partition(":") if "@" not in text.split(":", 1)[0] else ("", "", text)
        )
        found[address or text] = kind.lower()
    return found


def old_contacts(diff: dict[str, Any]) -> list[Contact]:
    """The contacts a change took away, which are told too: emails removed or no longer
    primary, and a replaced phone number."""
    found: list[Contact] = []
    pair = diff.get("Email")
    if isinstance(pair, list) and len(pair) == 2:
        before, after = _emails(pair[0]), _emails(pair[1])
        for address, kind in sorted(before.items()):
            if address not in after or (kind == "primary" and after[address] != "primary"):
                found.append(Contact(EMAIL, address))
    pair = diff.get("PhoneId")
    if isinstance(pair, list) and len(pair) == 2 and pair[0] and pair[0] != pair[1]:
        found.append(Contact(SMS, str(pair[0])))
    return found


def staff_action_notice(event: events.DomainEvent) -> None:
    if event.actor_type != AuditEvent.ACTOR_STAFF or event.imported or event.tenant_id is None:
        return
    key = STAFF_NOTICES[event.type]
    if event.type == "account.updated" and not ({"Email", "PhoneId"} & set(event.diff)):
        return
    account = (
        Account.objects.filter(tenant_id=event.tenant_id, uid=event.subject_uid)
        .prefetch_related("emails")
        .first()
    )
    if account is None:
        return
    notice_send(
        key,
        tenant=Tenant.objects.get(pk=event.tenant_id),
        account=account,
        staff_label=event.actor_label,
        old_contacts=old_contacts(event.diff) if key == "contact.changed" else (),
        keep_account=event.type != "account.deleted",
    )


def subscribe() -> None:
    for event_type in STAFF_NOTICES:
        events.subscribe(event_type, staff_action_notice, phase=events.IN_TRANSACTION)

"""What the security app does when the accounts app reports a change (portal/events.py):
an unlocked account starts again from zero failed sign-ins."""

from accounts.models import Account
from portal import events
from security.services import login_failures_clear


def failures_clear_on_unlock(event: events.DomainEvent) -> None:
    if event.type == "account.updated" and event.diff.get("IsLoginLocked") != [True, False]:
        return
    account = Account.objects.filter(tenant_id=event.tenant_id, uid=event.subject_uid).first()
    if account is not None:
        login_failures_clear(account=account)


def subscribe() -> None:
    for event_type in ("account.unlocked", "account.updated"):
        events.subscribe(event_type, failures_clear_on_unlock, phase=events.IN_TRANSACTION)

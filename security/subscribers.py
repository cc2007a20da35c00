"""What the security app does when a change is reported (portal/events.py): an unlocked
account starts again from zero failed sign-ins."""

from accounts.models import Account
from portal import events
from security.services.lockout import login_failures_clear


def failures_clear_on_unlock(event: events.DomainEvent) -> None:
    if event.tenant_id is None:  # a platform event: no account of a tenant
        return
    account = Account.objects.filter(tenant_id=event.tenant_id, uid=event.subject_uid).first()
    if account is not None:
        login_failures_clear(account=account)


def subscribe() -> None:
    events.subscribe("account.unlocked", failures_clear_on_unlock, phase=events.IN_TRANSACTION)

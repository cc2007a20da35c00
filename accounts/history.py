"""An account's history read back: the profile as it was at a past time, built from its
events, and the command that puts back a value an event changed ("restore").

Every event type declares the shape of its diff (`portal.audit.register(payloads=...)`):
its `[before, after]` pairs are what the replay folds, in event order, so any section's
field-level changes count without a list here. A restore is an ordinary `AccountChanges`
command: the caller runs it through `accounts.services.account_update` (or holds it for
approval where the tenant's policy says so), and it records its own `account.updated`.
"""

from datetime import datetime
from typing import Any

from accounts.commands import AccountChanges
from portal import audit, events
from portal.errors import DomainError, FieldError, InvalidInput, register
from portal.errors import Kind as ErrorKind
from portal.models import AuditEvent, Tenant

# Fields a restore may set back through `AccountChanges.values` or `cleared` (lists and
# addresses have their own operations; IsActive is block/unblock).
RESTORABLE: frozenset[str] = frozenset(
    {
        "FirstName",
        "MiddleName",
        "LastName",
        "UserName",
        "PhoneId",
        "IsEmailSubscribed",
        "RegistrationSource",
        "CustomFields",
    }
)
RESTORE_SOURCES = ("account.created", "account.updated")


@register
class RestoreSourceNotFound(DomainError):
    code = "restore.source_not_found"
    kind = ErrorKind.NOT_FOUND
    title = "No such change"
    default_message = "This account has no such change to restore."


@events.reads
def profile_as_of(*, tenant: Tenant, uid: str, moment: datetime) -> dict[str, Any]:
    """The account's fields as its events left them at `moment` (those the events name),
    with `_events`: how many events were folded. Erased events fold as erased."""
    state: dict[str, Any] = {}
    folded = 0
    for action, diff in (
        AuditEvent.objects.filter(tenant=tenant, subject_uid=uid, occurred_at__lte=moment)
        .order_by("id")
        .values_list("action", "diff")
        .iterator()
    ):
        shape = audit.payload_shape(action)
        if shape is None or not isinstance(diff, dict):
            continue
        for key, value in diff.items():
            if (key in shape.pairs or shape.open) and isinstance(value, list) and len(value) == 2:
                state[key] = value[1]
        folded += 1
    return {**state, "_events": folded}


@events.reads
def restore_changes(
    *, tenant: Tenant, uid: str, event_id: int, field: str, reason: str, ticket: str = ""
) -> AccountChanges:
    """The command that sets `field` back to the value event `event_id` replaced."""
    event = AuditEvent.objects.filter(
        tenant=tenant, pk=event_id, subject_uid=uid, action__in=RESTORE_SOURCES
    ).first()
    pair = event.diff.get(field) if event is not None and isinstance(event.diff, dict) else None
    if not (isinstance(pair, list) and len(pair) == 2):
        raise RestoreSourceNotFound()
    if field not in RESTORABLE:
        raise InvalidInput(
            field_errors=[FieldError("field", f"{field} is not restored this way.", "invalid")]
        )
    if not reason.strip():
        raise InvalidInput(field_errors=[FieldError("reason", "Say why.", "required")])
    before, after = pair
    why, on = reason.strip(), ticket.strip()
    if field == "CustomFields":
        before = before if isinstance(before, dict) else {}
        gone = tuple(sorted(set(after if isinstance(after, dict) else {}) - set(before)))
        return AccountChanges(
            custom_fields=before, custom_fields_removed=gone, reason=why, ticket=on
        )
    if before in (None, ""):
        return AccountChanges(cleared=(field,), reason=why, ticket=on)
    return AccountChanges(values={field: before}, reason=why, ticket=on)

"""Revealing an account's masked personal data (portal/masking.py) to a staff member: the
reader says why, the reveal records one event, and the values show for that page view only
(nothing is kept in the session)."""

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Account
from portal import audit, events
from portal.audit import Actor
from portal.commands import Command, command
from portal.errors import FieldError, InvalidInput
from portal.models import Tenant

REASON_MAX_LENGTH = 500
# What a reveal shows: every kind masking hides (the event names them, never the values).
REVEALED_KINDS = ("name", "email", "phone", "custom_fields")


@command("account.personal_data_reveal")
@dataclass(frozen=True)
class PersonalDataReveal(Command):
    """Show one account's masked values to the staff member asking, for `reason`."""

    reason: str
    ticket: str = ""

    @classmethod
    def example(cls) -> "PersonalDataReveal":
        return cls(reason="Caller verified; reading the address back.", ticket="OPS-77")


@transaction.atomic
@events.emits("account.personal_data_revealed")
def account_personal_data_reveal(
    command: PersonalDataReveal, *, tenant: Tenant, actor: Actor, account: Account
) -> None:
    """Record that `actor` saw `account`'s personal data in full, and why."""
    reason = command.reason.strip()
    if not reason:
        raise InvalidInput(
            "Say why you reveal this account's personal data.",
            field_errors=[FieldError("reason", "This field is required.", "required")],
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(
            "The reason is too long.",
            field_errors=[
                FieldError("reason", f"At most {REASON_MAX_LENGTH} characters.", "invalid")
            ],
        )
    audit.record(
        tenant=tenant,
        actor=actor,
        action="account.personal_data_revealed",
        subject_uid=account.uid,
        reason=reason,
        ticket=command.ticket.strip(),
        changes={"fields": list(REVEALED_KINDS)},
    )

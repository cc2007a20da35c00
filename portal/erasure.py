"""Erasure: when an account is deleted, its events lose their personal values.

The events of the account's life (those before its `account.deleted` tombstone, under its
UID and under the UIDs it had before a `account.uid_changed`) keep their type, time, actor,
subject UID, reason and ticket (written by staff or a back end about the change, not by the
account), caused_by and request id, and lose:

- every value of their diff (names, emails, phones, custom fields, identities, the last
  sign-in IP...): each becomes `ERASED`, keys kept so the history still says what changed;
  `None`, booleans and empty values, which say nothing about the person, stay;
- the client address and device of the events the person made themselves (the account as
  actor, and every sign-in attempt).

Each such row is marked `erased_at`; the feed and webhooks show it as erased. The record of
the deletion request itself (the tombstone, what its subscribers recorded, `account.erased`)
keeps who asked and from where. The erasure runs in the deletion's transaction (an
in-transaction subscriber of `account.deleted`, accounts/subscribers.py): an account is
never deleted with its personal values left in the history, and no webhook or feed reader
can see them after the deletion commits.

On PostgreSQL the append-only trigger lets these updates through only under
`audit_maintenance("erasure")`, and only when they change nothing else (portal/migrations
0013).
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from portal import audit, events
from portal.audit import Actor
from portal.commands import Command, command
from portal.errors import FieldError, InvalidInput
from portal.models import AuditEvent, Tenant
from portal.retention import SIGNIN_PREFIX, audit_maintenance

ERASED = "[erased]"
CHUNK = 500

audit.register(
    {"account.erased": "A deleted account's events lost their personal values"},
    section="accounts",
    payloads={"account.erased": events.payload("events", pairs=False)},
)


@command("account.events_erase")
@dataclass(frozen=True)
class AccountEventsErase(Command):
    """Erase the personal values of the events of deleted account `uid`, recorded before
    its tombstone (`deleted_event_id`, the `account.deleted` event)."""

    uid: str
    deleted_event_id: int

    @classmethod
    def example(cls) -> "AccountEventsErase":
        return cls(uid="5f1c0d7e2b8a4c6e9d3f1a2b3c4d5e6f", deleted_event_id=1234)


@events.reads
def erased_value(value: Any) -> Any:
    """`value` with nothing personal left: None, booleans and empty values stay, anything
    else is ERASED."""
    if (
        value is None
        or isinstance(value, bool)
        or (isinstance(value, str | list | dict) and not value)
    ):
        return value
    return ERASED


@events.reads
def erased_diff(diff: dict[str, Any]) -> dict[str, Any]:
    """The diff with its keys and its `[before, after]` shape kept, its values erased."""
    return {
        key: (
            [erased_value(value[0]), erased_value(value[1])]
            if isinstance(value, list) and len(value) == 2
            else erased_value(value)
        )
        for key, value in diff.items()
    }


def _personal_context(row: AuditEvent, uids: set[str]) -> bool:
    """Whether the row's client address and device are the person's own."""
    return row.action.startswith(SIGNIN_PREFIX) or (
        row.actor_type == AuditEvent.ACTOR_ACCOUNT and row.actor_id in uids
    )


def _lives(tenant: Tenant, uid: str, before_id: int) -> list[tuple[str, int]]:
    """`(uid, before event id)` for the account's UID and each UID it had before a change."""
    found = [(uid, before_id)]
    seen = {uid}
    current, bound = uid, before_id
    while True:
        change = (
            AuditEvent.objects.filter(
                tenant=tenant, action="account.uid_changed", subject_uid=current, id__lt=bound
            )
            .order_by("-id")
            .values_list("id", "diff")
            .first()
        )
        if change is None:
            return found
        event_id, diff = change
        pair = diff.get("Uid") if isinstance(diff, dict) else None
        old = pair[0] if isinstance(pair, list) and len(pair) == 2 else None
        if not isinstance(old, str) or not old or old == ERASED or old in seen:
            return found
        found.append((old, event_id))
        seen.add(old)
        current, bound = old, event_id


def _erase_rows(rows: list[AuditEvent], *, uids: set[str], now) -> None:
    for row in rows:
        row.diff = erased_diff(row.diff if isinstance(row.diff, dict) else {})
        if _personal_context(row, uids):
            row.ip, row.user_agent = None, ""
        row.erased_at = now
    AuditEvent._base_manager.bulk_update(rows, ["diff", "ip", "user_agent", "erased_at"])


@events.emits("account.erased")
def account_events_erase(
    command: AccountEventsErase, *, tenant: Tenant, actor: Actor
) -> AuditEvent | None:
    """Erase the personal values of a deleted account's events (see the module). Refused
    unless `deleted_event_id` is the tenant's `account.deleted` of `uid`; events already
    erased are left alone, and with nothing left to erase nothing is recorded."""
    tombstone = AuditEvent.objects.filter(
        tenant=tenant,
        pk=command.deleted_event_id,
        action="account.deleted",
        subject_uid=command.uid,
    ).first()
    if tombstone is None:
        raise InvalidInput(
            field_errors=[
                FieldError(
                    "deleted_event_id",
                    "This is not the deletion event of that account.",
                    "not_a_deletion",
                )
            ]
        )
    with transaction.atomic():
        lives = _lives(tenant, command.uid, tombstone.pk)
        uids = {uid for uid, _ in lives}
        now = timezone.now()
        erased = 0
        for uid, before_id in lives:
            pending = AuditEvent.objects.filter(
                tenant=tenant, subject_uid=uid, id__lt=before_id, erased_at__isnull=True
            ).order_by("id")
            while rows := list(pending[:CHUNK]):
                with audit_maintenance("erasure"):
                    _erase_rows(rows, uids=uids, now=now)
                erased += len(rows)
        if not erased:
            return None
        with events.caused_by(tombstone.pk):
            return audit.record(
                tenant=tenant,
                actor=actor,
                action="account.erased",
                subject_uid=command.uid,
                changes={"events": erased},
            )

"""The audit action registry and the one function that records an event.

The audit row is the domain event: `record` writes it and hands it to the subscribers
registered in `portal.events`.

Every app registers the actions it writes (`<entity>.<past_tense>`); `record` refuses an
unregistered action so a typo fails in tests instead of writing an unsearchable row.
Call `record` inside the service's transaction so the event commits with the change.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal import context, events
from portal.models import ApiCredential, AuditEvent, Tenant

_ACTIONS: dict[str, str] = {}
_PAYLOADS: dict[str, events.Payload] = {}
_SECTIONS: dict[str, str] = {}
logger = logging.getLogger(__name__)

# Keys whose values never reach an audit row, whatever a caller passes in a diff.
SECRET_KEYS = frozenset(
    {
        "password",
        "passwordhash",
        "password_hash",
        "secret",
        "api_secret",
        "apisecret",
        "token",
        "access_token",
        "refresh_token",
        "otp",
        "code",
        "backupcode",
        "backup_codes",
        "pin",
        "totp_secret",
        "seed",
        "answer",
        "securityquestionanswer",
    }
)
# ...and keys containing or ending with these (client_secret, new_password, reset_token,
# token_hash); settings such as access_token_lifetime_minutes stay readable.
SECRET_KEY_PARTS = ("secret", "password", "passwd")
SECRET_KEY_SUFFIXES = ("_token", "_hash", "_otp", "_pin")
REDACTED = "[redacted]"


def is_secret_key(key: Any) -> bool:
    name = str(key).lower()
    return (
        name in SECRET_KEYS
        or any(part in name for part in SECRET_KEY_PARTS)
        or name.endswith(SECRET_KEY_SUFFIXES)
    )


def register(
    actions: dict[str, str],
    *,
    section: str = "admin",
    payloads: dict[str, events.Payload] | None = None,
) -> None:
    """Register `{action: human description}` with the shape of each one's diff
    (`portal.events.payload`); apps call this from AppConfig.ready(). `section`: the
    credential scope whose holders may read these events (the event feed, webhooks); the
    default, `admin`, needs a credential's explicit admin scope."""
    if section not in ApiCredential.SECTIONS:
        raise ValueError(f"audit actions registered under unknown section {section!r}")
    for name, description in actions.items():
        entity, _, verb = name.partition(".")
        if not entity or not verb:
            raise ValueError(f"audit action {name!r} must look like <entity>.<past_tense>")
        _ACTIONS[name] = description
        _SECTIONS[name] = section
    for name, shape in (payloads or {}).items():
        if name not in _ACTIONS:
            raise ValueError(f"payload shape for unregistered audit action {name!r}")
        _PAYLOADS[name] = shape


def registered_actions() -> dict[str, str]:
    return dict(_ACTIONS)


def action_section(action: str) -> str:
    """The credential scope that may read events of `action` (`admin` if unregistered)."""
    return _SECTIONS.get(action, "admin")


def payload_shape(action: str) -> events.Payload | None:
    """The declared shape of `action`'s diff (None: not declared)."""
    return _PAYLOADS.get(action)


class EventPayloadMismatch(ValueError):
    """A diff left the payload shape declared for its event type."""


def payload_check(action: str, changes: dict[str, Any]) -> None:
    """Compare a diff with its event type's shape: refuse in strict mode (the tests), log
    otherwise, so a forgotten declaration never costs a user their change."""
    shape = _PAYLOADS.get(action)
    problems = shape.problems(changes) if shape is not None else []
    if not problems:
        return
    message = f"{action} diff does not fit its declared payload: {'; '.join(problems)}"
    if getattr(settings, "EVENT_PAYLOADS_STRICT", False):
        raise EventPayloadMismatch(message)
    logger.error(message)


@dataclass(frozen=True)
class Actor:
    """Who did it: a staff user, an API credential, the account itself, or the system."""

    type: str
    id: str = ""
    label: str = ""

    @classmethod
    def staff(cls, user) -> "Actor":
        return cls(AuditEvent.ACTOR_STAFF, str(user.pk), user.get_username())

    @classmethod
    def credential(cls, credential) -> "Actor":
        return cls(AuditEvent.ACTOR_CREDENTIAL, str(credential.pk), credential.label or "api")

    @classmethod
    def account(cls, uid: str) -> "Actor":
        return cls(AuditEvent.ACTOR_ACCOUNT, uid, uid)

    @classmethod
    def impersonating(cls, actor_type: str, actor_id: str, label: str, *, uid: str) -> "Actor":
        """The staff member or credential that opened an impersonation session, acting
        through it on account `uid` (the event's subject)."""
        return cls(actor_type, actor_id, f"{label} (impersonating {uid})")

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(AuditEvent.ACTOR_SYSTEM, "", label)


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if is_secret_key(k) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for the fields that changed."""
    changed = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            changed[key] = [before.get(key), after.get(key)]
    return changed


def record(
    *,
    tenant: Tenant | None,
    actor: Actor,
    action: str,
    subject_uid: str = "",
    reason: str = "",
    ticket: str = "",
    changes: dict[str, Any] | None = None,
    imported: bool = False,
) -> AuditEvent:
    """Write the event row and hand it to the subscribers. `imported` marks an event a bulk
    import wrote (one per account), which webhooks and notices pass over."""
    if action not in _ACTIONS:
        raise ValueError(f"unregistered audit action {action!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction")
    row = _row(
        tenant=tenant,
        actor=actor,
        action=action,
        subject_uid=subject_uid,
        reason=reason,
        ticket=ticket,
        changes=changes or {},
        ctx=context.current(),
        caused_by=events.current_cause(),
        imported=imported,
    )
    row.save(force_insert=True)
    if events.has_subscribers(action):
        events.publish(_domain_event(row))
    return row


def record_imported(
    *,
    tenant: Tenant,
    actor: Actor,
    action: str,
    subjects: list[tuple[str, dict[str, Any]]],
    reason: str = "",
) -> list[AuditEvent]:
    """One event per `(subject_uid, changes)`, marked imported, written with one bulk insert
    (a bulk import writes thousands in a batch) in the import's transaction."""
    created = _insert_set(
        tenant=tenant,
        actor=actor,
        action=action,
        subjects=subjects,
        reason=reason,
        ticket="",
        causes=None,
        imported=True,
    )
    if events.has_subscribers(action):
        for row in created:
            events.publish(_domain_event(row))
    return created


def record_many(
    *,
    tenant: Tenant,
    actor: Actor,
    action: str,
    subjects: list[tuple[str, dict[str, Any]]],
    reason: str = "",
    ticket: str = "",
    causes: list[int | None] | None = None,
) -> list[AuditEvent]:
    """The events of a set-based command: one per `(subject_uid, changes)`, each what
    `record` writes for one account, written with one insert and handed to the subscribers
    together (`events.publish_many`). `causes`: each event's `caused_by` (by default the
    current cause)."""
    created = _insert_set(
        tenant=tenant,
        actor=actor,
        action=action,
        subjects=subjects,
        reason=reason,
        ticket=ticket,
        causes=causes,
        imported=False,
    )
    if events.has_subscribers(action):
        events.publish_many([_domain_event(row) for row in created])
    return created


def _insert_set(
    *,
    tenant: Tenant,
    actor: Actor,
    action: str,
    subjects: list[tuple[str, dict[str, Any]]],
    reason: str,
    ticket: str,
    causes: list[int | None] | None,
    imported: bool,
) -> list[AuditEvent]:
    """The rows of a set of events, inserted in batches inside the caller's transaction."""
    if action not in _ACTIONS:
        raise ValueError(f"unregistered audit action {action!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events of a set must be written inside its transaction")
    if causes is not None and len(causes) != len(subjects):
        raise ValueError("one cause per subject")
    ctx = context.current()
    cause = events.current_cause()
    now = timezone.now()  # one instant for the set (and no per-row default to compute)
    rows = [
        _row(
            tenant=tenant,
            actor=actor,
            action=action,
            subject_uid=subject_uid,
            reason=reason,
            ticket=ticket,
            changes=changes,
            ctx=ctx,
            caused_by=cause if causes is None else causes[index],
            imported=imported,
            occurred_at=now,
        )
        for index, (subject_uid, changes) in enumerate(subjects)
    ]
    return AuditEvent.objects.bulk_create(rows, batch_size=1000)


def _row(
    *,
    tenant: Tenant | None,
    actor: Actor,
    action: str,
    subject_uid: str,
    reason: str,
    changes: dict[str, Any],
    ctx: context.RequestContext,
    caused_by: int | None,
    imported: bool,
    ticket: str = "",
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """The unsaved event row of one `changes` (checked against its payload shape, secrets
    redacted), with the request's context; `occurred_at` defaults to the row's own."""
    payload_check(action, changes)
    row = AuditEvent(
        tenant=tenant,
        action=action,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:200],
        subject_uid=subject_uid,
        reason=reason or "",
        ticket=ticket or "",
        diff=redact(changes),
        request_id=ctx.request_id,
        ip=ctx.ip,
        user_agent=ctx.user_agent,
        caused_by=caused_by,
        schema_version=events.SCHEMA_VERSION,
        imported=imported,
        webhooks_suppressed=ctx.webhooks_suppressed,
    )
    if occurred_at is not None:
        row.occurred_at = occurred_at
    return row


def _domain_event(row: AuditEvent) -> events.DomainEvent:
    return events.DomainEvent(
        id=row.pk,
        type=row.action,
        tenant_id=row.tenant_id,
        subject_uid=row.subject_uid,
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        actor_label=row.actor_label,
        reason=row.reason,
        ticket=row.ticket,
        diff=row.diff,
        caused_by=row.caused_by,
        schema_version=row.schema_version,
        imported=row.imported,
    )

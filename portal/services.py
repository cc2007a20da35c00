"""Writes on tenants and their API credentials."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from portal import audit, events, tenant_settings
from portal.audit import Actor
from portal.errors import CredentialRotationRefused, FieldError, InvalidInput
from portal.lrapi.auth import credential_forget_cached
from portal.models import ApiCredential, Tenant
from portal.tenant_commands import (
    DEFAULT_OVERLAP_SECONDS,
    CredentialCreate,
    CredentialRevoke,
    CredentialRotate,
    TenantCreate,
    TenantSettingsChange,
)


@dataclass(frozen=True)
class IssuedCredential:
    credential: ApiCredential
    raw_secret: str  # shown once; only its encryption and keyed hash are stored


def _unique_slug(name: str) -> str:
    base = slugify(name)[:90] or "tenant"
    slug, n = base, 1
    while Tenant.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
@events.emits("tenant.created", effects=("credential.created",))
def tenant_create(command: TenantCreate, *, actor: Actor) -> tuple[Tenant, IssuedCredential]:
    """Create a tenant with its first API secret."""
    name = command.name
    tenant = Tenant(
        name=name, slug=command.slug or _unique_slug(name), settings=dict(command.settings)
    )
    tenant.full_clean()
    tenant.save()
    event = audit.record(
        tenant=tenant,
        actor=actor,
        action="tenant.created",
        reason=command.reason,
        ticket=command.ticket,
        changes={"name": [None, name]},
    )
    with events.caused_by(event.pk):  # its first secret is part of the creation's story
        issued = credential_create(CredentialCreate(label="initial"), tenant=tenant, actor=actor)
    return tenant, issued


@transaction.atomic
@events.emits("tenant.updated")
def tenant_update_settings(
    command: TenantSettingsChange, *, tenant: Tenant, actor: Actor
) -> Tenant:
    """Set the settings `command.changes` names (None: back to the default); the others are
    kept. Every rule of the registry (portal/tenant_settings.py) is judged on the stored
    settings, all problems reported at once, and nothing changes when any is refused. A
    change that changes no value records nothing."""
    stored = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if command.expected_version and command.expected_version != tenant_settings.version_of(
        stored.settings
    ):
        raise tenant_settings.TenantSettingsVersionStale()
    values, problems = tenant_settings.problems_of(command.changes, current=stored.settings)
    if problems:
        raise InvalidInput(field_errors=problems)
    before = dict(stored.settings)
    after = dict(before)
    for name, value in values.items():
        if command.changes[name] is None:
            after.pop(name, None)  # the default, and any later change of it
        else:
            after[name] = value
    tenant.settings = after
    if tenant_settings.effective(after) == tenant_settings.effective(before):
        tenant.settings = before
        return tenant
    tenant.save(update_fields=["settings"])
    audit.record(
        tenant=tenant,
        actor=actor,
        action="tenant.updated",
        reason=command.reason,
        ticket=command.ticket,
        changes=audit.diff(before, after),
    )
    return tenant


LABEL_MAX_LENGTH = 200  # ApiCredential.label


@transaction.atomic
@events.emits("credential.created")
def credential_create(
    command: CredentialCreate, *, tenant: Tenant, actor: Actor
) -> IssuedCredential:
    """A new API secret of the tenant, for the sections `command.scopes` names (none: all)."""
    label, scopes = command.label, list(command.scopes)
    problems = []
    if len(label) > LABEL_MAX_LENGTH:
        problems.append(
            FieldError("label", f"Text of at most {LABEL_MAX_LENGTH} characters.", "invalid")
        )
    unknown = set(scopes) - set(ApiCredential.SECTIONS)
    if unknown:
        problems.append(
            FieldError("scopes", f"Unknown scopes: {', '.join(sorted(unknown))}.", "unknown")
        )
    if command.expires_at is not None and command.expires_at <= timezone.now():
        problems.append(FieldError("expires_at", "An end of life in the future.", "invalid"))
    if problems:
        raise InvalidInput(field_errors=problems)
    raw_secret = str(uuid.uuid4())
    credential = ApiCredential(
        tenant=tenant,
        label=label,
        scopes=scopes,
        expires_at=command.expires_at,
        requires_approval=command.requires_approval,
        masks_personal_data=command.masks_personal_data,
    )
    credential.set_secret(raw_secret)
    credential.save()
    audit.record(
        tenant=tenant,
        actor=actor,
        action="credential.created",
        reason=command.reason,
        ticket=command.ticket,
        changes={
            "credential": [None, str(credential.pk)],
            "label": [None, label],
            "scopes": [None, scopes],
            "requires_approval": [None, credential.requires_approval],
            "masks_personal_data": [None, credential.masks_personal_data],
        },
    )
    return IssuedCredential(credential=credential, raw_secret=raw_secret)


@transaction.atomic
@events.emits("credential.revoked")
def credential_revoke(command: CredentialRevoke, *, tenant: Tenant, actor: Actor) -> ApiCredential:
    """Revoke the tenant's secret `command.credential_id` now (ApiCredential.DoesNotExist
    when the tenant has none of that id); revoking a revoked secret changes nothing."""
    credential = (
        ApiCredential.objects.select_for_update()
        .select_related("tenant")
        .get(pk=command.credential_id, tenant=tenant)
    )
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
        credential_forget_cached(credential)
        audit.record(
            tenant=credential.tenant,
            actor=actor,
            action="credential.revoked",
            reason=command.reason,
            ticket=command.ticket,
            changes={"credential": [str(credential.pk), None]},
        )
    return credential


# How long a rotated secret keeps working when nobody says otherwise, and the most allowed.
DEFAULT_ROTATION_OVERLAP = timedelta(seconds=DEFAULT_OVERLAP_SECONDS)
MAX_ROTATION_OVERLAP = timedelta(days=90)


@transaction.atomic
@events.emits("credential.created", effects=("credential.revoked", "credential.expiry_changed"))
def credential_rotate(
    command: CredentialRotate, *, tenant: Tenant, actor: Actor
) -> IssuedCredential:
    """Replace the tenant's secret `command.credential_id` by a new one with the same label,
    sections and (end of) life.

    The old secret keeps working for `command.overlap_seconds` so its callers can switch
    over without downtime (a zero overlap revokes it now); the tenant's other secrets are
    not touched.
    """
    reason, ticket = (command.reason or "").strip(), command.ticket
    overlap = timedelta(seconds=command.overlap_seconds)
    if not reason:
        raise CredentialRotationRefused(
            "Give a reason: it is written to the audit log with the rotation."
        )
    if overlap < timedelta(0) or overlap > MAX_ROTATION_OVERLAP:
        raise CredentialRotationRefused(
            f"The overlap must be between 0 and {MAX_ROTATION_OVERLAP.days * 24} hours."
        )
    old = (
        ApiCredential.objects.select_for_update()
        .select_related("tenant")
        .filter(pk=command.credential_id, tenant=tenant)
        .first()
    )
    if old is None:
        raise CredentialRotationRefused("This tenant has no such secret.")
    if not old.is_usable:
        raise CredentialRotationRefused(
            "This secret is revoked or expired: create a new one instead."
        )
    now = timezone.now()
    raw_secret = str(uuid.uuid4())
    new = ApiCredential(
        tenant=old.tenant,
        label=old.label,
        scopes=list(old.scopes or []),
        expires_at=old.expires_at,
        requires_approval=old.requires_approval,
        masks_personal_data=old.masks_personal_data,
    )
    new.set_secret(raw_secret)
    new.save()
    created = audit.record(
        tenant=old.tenant,
        actor=actor,
        action="credential.created",
        reason=reason,
        ticket=ticket,
        changes={
            "credential": [None, str(new.pk)],
            "label": [None, new.label],
            "scopes": [None, new.scopes],
            "replaces": [None, str(old.pk)],
        },
    )
    # Retiring the old secret is the rotation's effect: its event points to the new one's.
    with events.caused_by(created.pk):
        _rotated_out(old=old, new=new, actor=actor, why=(reason, ticket), overlap=overlap, now=now)
    credential_forget_cached(old)
    return IssuedCredential(credential=new, raw_secret=raw_secret)


def _rotated_out(
    *,
    old: ApiCredential,
    new: ApiCredential,
    actor: Actor,
    why: tuple[str, str],
    overlap: timedelta,
    now: datetime,
) -> None:
    """Revoke the rotated secret now (no overlap) or shorten its life to the overlap."""
    reason, ticket = why
    if overlap == timedelta(0):
        old.revoked_at = now
        old.save(update_fields=["revoked_at"])
        audit.record(
            tenant=old.tenant,
            actor=actor,
            action="credential.revoked",
            reason=reason,
            ticket=ticket,
            changes={"credential": [str(old.pk), None], "replaced_by": [None, str(new.pk)]},
        )
    else:
        before = old.expires_at
        old.expires_at = min(filter(None, [old.expires_at, now + overlap]))
        if old.expires_at != before:
            old.save(update_fields=["expires_at"])
            audit.record(
                tenant=old.tenant,
                actor=actor,
                action="credential.expiry_changed",
                reason=reason,
                ticket=ticket,
                changes={
                    "credential": [str(old.pk), str(old.pk)],
                    "replaced_by": [None, str(new.pk)],
                    "expires_at": [before and before.isoformat(), old.expires_at.isoformat()],
                },
            )

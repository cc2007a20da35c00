"""Writes on tenants and their API credentials."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from portal import audit, events
from portal.audit import Actor
from portal.lrapi.auth import credential_forget_cached
from portal.models import ApiCredential, Tenant


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
def tenant_create(
    *, actor: Actor, name: str, slug: str | None = None, settings: dict | None = None
) -> tuple[Tenant, IssuedCredential]:
    """Create a tenant with its first API secret."""
    tenant = Tenant(name=name, slug=slug or _unique_slug(name), settings=settings or {})
    tenant.full_clean()
    tenant.save()
    event = audit.record(
        tenant=tenant, actor=actor, action="tenant.created", changes={"name": [None, name]}
    )
    with events.caused_by(event.pk):  # its first secret is part of the creation's story
        issued = credential_create(tenant=tenant, actor=actor, label="initial")
    return tenant, issued


@transaction.atomic
@events.emits("tenant.updated")
def tenant_update_settings(
    *, tenant: Tenant, actor: Actor, changes: dict, reason: str = ""
) -> Tenant:
    before = dict(tenant.settings)
    tenant.settings = {**tenant.settings, **changes}
    tenant.full_clean()
    tenant.save(update_fields=["settings"])
    audit.record(
        tenant=tenant,
        actor=actor,
        action="tenant.updated",
        reason=reason,
        changes=audit.diff(before, tenant.settings),
    )
    return tenant


@transaction.atomic
@events.emits("credential.created")
def credential_create(
    *,
    tenant: Tenant,
    actor: Actor,
    label: str = "",
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> IssuedCredential:
    unknown = set(scopes or []) - set(ApiCredential.SECTIONS)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    raw_secret = str(uuid.uuid4())
    credential = ApiCredential(
        tenant=tenant, label=label, scopes=scopes or [], expires_at=expires_at
    )
    credential.set_secret(raw_secret)
    credential.save()
    audit.record(
        tenant=tenant,
        actor=actor,
        action="credential.created",
        changes={
            "credential": [None, str(credential.pk)],
            "label": [None, label],
            "scopes": [None, scopes or []],
        },
    )
    return IssuedCredential(credential=credential, raw_secret=raw_secret)


@transaction.atomic
@events.emits("credential.revoked")
def credential_revoke(
    *, credential: ApiCredential, actor: Actor, reason: str = ""
) -> ApiCredential:
    credential = ApiCredential.objects.select_for_update().get(pk=credential.pk)
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
        credential_forget_cached(credential)
        audit.record(
            tenant=credential.tenant,
            actor=actor,
            action="credential.revoked",
            reason=reason,
            changes={"credential": [str(credential.pk), None]},
        )
    return credential


# How long a rotated secret keeps working when nobody says otherwise, and the most allowed.
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)
MAX_ROTATION_OVERLAP = timedelta(days=90)


class CredentialRotationRefused(ValueError):
    """The rotation was refused; nothing changed. The message is a sentence for a person."""


@transaction.atomic
@events.emits("credential.created", effects=("credential.revoked", "credential.expiry_changed"))
def credential_rotate(
    *,
    credential: ApiCredential,
    actor: Actor,
    reason: str,
    ticket: str = "",
    overlap: timedelta = DEFAULT_ROTATION_OVERLAP,
) -> IssuedCredential:
    """Replace one secret by a new one with the same label, sections and (end of) life.

    The old secret keeps working for `overlap` so its callers can switch over without
    downtime (a zero overlap revokes it now); the tenant's other secrets are not touched.
    """
    reason = (reason or "").strip()
    if not reason:
        raise CredentialRotationRefused(
            "Give a reason: it is written to the audit log with the rotation."
        )
    if overlap < timedelta(0) or overlap > MAX_ROTATION_OVERLAP:
        raise CredentialRotationRefused(
            f"The overlap must be between 0 and {MAX_ROTATION_OVERLAP.days * 24} hours."
        )
    old = ApiCredential.objects.select_for_update().select_related("tenant").get(pk=credential.pk)
    if not old.is_usable:
        raise CredentialRotationRefused(
            "This secret is revoked or expired: create a new one instead."
        )
    now = timezone.now()
    raw_secret = str(uuid.uuid4())
    new = ApiCredential(
        tenant=old.tenant, label=old.label, scopes=list(old.scopes or []), expires_at=old.expires_at
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

"""Writes on tenants and their API credentials."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from portal import audit
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
def tenant_create(*, actor: Actor, name: str, slug: str | None = None, settings: dict | None = None) -> tuple[Tenant, IssuedCredential]:
    """Create a tenant with its first API secret."""
    tenant = Tenant(name=name, slug=slug or _unique_slug(name), settings=settings or {})
    tenant.full_clean()
    tenant.save()
    audit.record(tenant=tenant, actor=actor, action="tenant.created", changes={"name": [None, name]})
    issued = credential_create(tenant=tenant, actor=actor, label="initial")
    return tenant, issued


@transaction.atomic
def tenant_update_settings(*, tenant: Tenant, actor: Actor, changes: dict, reason: str = "") -> Tenant:
    before = dict(tenant.settings)
    tenant.settings = {**tenant.settings, **changes}
    tenant.full_clean()
    tenant.save(update_fields=["settings"])
    audit.record(
        tenant=tenant, actor=actor, action="tenant.updated", reason=reason,
        changes=audit.diff(before, tenant.settings),
    )
    return tenant


@transaction.atomic
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
    credential = ApiCredential(tenant=tenant, label=label, scopes=scopes or [], expires_at=expires_at)
    credential.set_secret(raw_secret)
    credential.save()
    audit.record(
        tenant=tenant, actor=actor, action="credential.created",
        changes={"credential": [None, str(credential.pk)], "label": [None, label], "scopes": [None, scopes or []]},
    )
    return IssuedCredential(credential=credential, raw_secret=raw_secret)


@transaction.atomic
def credential_revoke(*, credential: ApiCredential, actor: Actor, reason: str = "") -> ApiCredential:
    credential = ApiCredential.objects.select_for_update().get(pk=credential.pk)
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
        credential_forget_cached(credential)
        audit.record(
            tenant=credential.tenant, actor=actor, action="credential.revoked", reason=reason,
            changes={"credential": [str(credential.pk), None]},
        )
    return credential


@transaction.atomic
def credential_rotate(
    *, tenant: Tenant, actor: Actor, revoke_others_at: datetime | None = None, label: str = "rotated"
) -> IssuedCredential:
    """Issue a new secret; older live secrets keep working until `revoke_others_at`
    (never, when None), so callers can switch over without downtime."""
    others = list(ApiCredential.objects.usable().filter(tenant=tenant))
    issued = credential_create(tenant=tenant, actor=actor, label=label)
    if revoke_others_at is not None:
        for credential in others:
            if revoke_others_at <= timezone.now():
                credential_revoke(credential=credential, actor=actor, reason="rotated")
            else:
                before = credential.expires_at
                credential.expires_at = min(filter(None, [credential.expires_at, revoke_others_at]))
                credential.save(update_fields=["expires_at"])
                credential_forget_cached(credential)
                audit.record(
                    tenant=tenant, actor=actor, action="credential.expiry_changed", reason="rotated",
                    changes={"expires_at": [before and before.isoformat(), credential.expires_at.isoformat()]},
                )
    return issued

"""Single-use tokens of a pending sign-in and of a reauthentication, stored as hashes."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from accounts.models import Account
from portal import events
from portal.crypto import token_hash
from portal.models import Tenant
from security.models import SecondFactorToken


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


@events.upkeep
def second_factor_token_issue(
    *, tenant: Tenant, account: Account, purpose: str, method: str, seconds: int
) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(seconds=seconds)
    SecondFactorToken.objects.create(
        tenant=tenant,
        account=account,
        purpose=purpose,
        method=method,
        token_hash=token_hash(token),
        expires_at=expires_at,
    )
    return IssuedToken(token, expires_at)


@events.reads
def second_factor_token_find(
    *, tenant: Tenant, token: str, purpose: str
) -> SecondFactorToken | None:
    if not token:
        return None
    return (
        SecondFactorToken.objects.select_related("account")
        .filter(
            tenant=tenant,
            purpose=purpose,
            token_hash=token_hash(token),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


@events.upkeep
def second_factor_token_consume(row: SecondFactorToken) -> bool:
    return bool(
        SecondFactorToken.objects.filter(
            pk=row.pk, used_at__isnull=True, expires_at__gt=timezone.now()
        ).update(used_at=timezone.now())
    )

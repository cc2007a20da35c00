"""Push approval: devices that approve a pending sign-in, and their challenges."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from portal import audit, events
from portal.audit import Actor
from portal.crypto import constant_time_equals, decrypt, encrypt, token_hash
from portal.models import Tenant
from security.commands import PushDeviceRemove
from security.errors import (
    PushChallengeClosed,
    PushChallengeNotFound,
    PushDeviceNotFound,
    PushNotSetUp,
)
from security.models import PushChallenge, PushDevice, SecondFactorToken
from security.services.factors import factor_notice_send

PUSH_CHALLENGE_SECONDS = 120


@dataclass(frozen=True)
class RegisteredDevice:
    device: PushDevice
    device_secret: str


@transaction.atomic
@events.emits("push_device.registered")
def push_device_register(
    *, tenant: Tenant, actor: Actor, account: Account, device_address: str, name: str = ""
) -> RegisteredDevice:
    """Register a device that approves sign-ins; its secret is shown once, stored hashed."""
    secret = secrets.token_urlsafe(32)
    device = PushDevice.objects.create(
        tenant=tenant,
        account=account,
        device_token_encrypted=encrypt(device_address),
        device_secret_hash=token_hash(secret),
        name=name[:200],
    )
    audit.record(
        tenant=tenant,
        actor=actor,
        action="push_device.registered",
        subject_uid=account.uid,
        changes={"device": [None, device.pk], "name": [None, device.name]},
    )
    factor_notice_send(tenant=tenant, account=account, factor="push")
    return RegisteredDevice(device, secret)


@transaction.atomic
@events.emits("push_device.deleted")
def push_device_delete(
    command: PushDeviceRemove, *, tenant: Tenant, actor: Actor, account: Account
) -> None:
    """Remove one push-approval device; challenges sent to it can no longer be answered."""
    reason, ticket = command.reason, command.ticket
    row = PushDevice.objects.filter(account=account, pk=command.device_id).first()
    if row is None:
        raise PushDeviceNotFound()
    pk, name = row.pk, row.name
    row.delete()
    audit.record(
        tenant=tenant,
        actor=actor,
        action="push_device.deleted",
        subject_uid=account.uid,
        reason=reason,
        ticket=ticket,
        changes={"device": [pk, None], "name": [name, None]},
    )


@events.upkeep
def push_challenge_start(*, tenant: Tenant, login: SecondFactorToken) -> PushChallenge:
    """Ask the account's newest device to approve this pending sign-in."""
    from security.push import notifier

    device = PushDevice.objects.filter(account=login.account).order_by("-created", "-pk").first()
    if device is None:
        raise PushNotSetUp()
    with transaction.atomic():
        challenge = PushChallenge.objects.create(
            tenant=tenant,
            account=login.account,
            device=device,
            login=login,
            public_id=secrets.token_urlsafe(24),
            expires_at=min(
                login.expires_at, timezone.now() + timedelta(seconds=PUSH_CHALLENGE_SECONDS)
            ),
        )
        payload = {
            "ChallengeId": challenge.public_id,
            "Uid": login.account.uid,
            "Application": tenant.name,
            "ExpireIn": challenge.expires_at.isoformat(),
        }
        address = decrypt(device.device_token_encrypted)
        transaction.on_commit(lambda: notifier().send(device_address=address, payload=payload))
    return challenge


@events.upkeep
def push_challenge_decide(
    *, tenant: Tenant, challenge_id: str, device_secret: str, approve: bool
) -> PushChallenge:
    """The device's answer. Only the device the challenge went to can answer, once, in time."""
    with transaction.atomic():
        challenge = (
            PushChallenge.objects.select_for_update()
            .select_related("device")
            .filter(tenant=tenant, public_id=challenge_id or "")
            .first()
        )
        if (
            challenge is None
            or not device_secret
            or not constant_time_equals(
                challenge.device.device_secret_hash, token_hash(device_secret)
            )
        ):
            raise PushChallengeNotFound("Unknown challenge or device.")
        if challenge.status != PushChallenge.PENDING or challenge.expires_at <= timezone.now():
            raise PushChallengeClosed()
        challenge.status = PushChallenge.APPROVED if approve else PushChallenge.DENIED
        challenge.decided_at = timezone.now()
        challenge.save(update_fields=["status", "decided_at"])
    return challenge


@events.reads
def push_challenge_status(*, login: SecondFactorToken, challenge_id: str) -> str:
    """`pending`, `approved`, `denied` or `expired` for a challenge of this sign-in."""
    challenge = PushChallenge.objects.filter(login=login, public_id=challenge_id or "").first()
    if challenge is None:
        raise PushChallengeNotFound()
    if challenge.status == PushChallenge.PENDING and challenge.expires_at <= timezone.now():
        return "expired"
    return challenge.status

"""Push approval: how the tenant's challenges reach devices (security.push), devices that
approve a pending sign-in, and their challenges and deliveries."""

import logging
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
from security import push
from security.commands import PushDeviceRegister, PushDeviceRemove, PushNotifierSet
from security.errors import (
    PushChallengeClosed,
    PushChallengeNotFound,
    PushDeviceNotFound,
    PushNotConfigured,
    PushNotifierInvalid,
    PushNotSetUp,
)
from security.models import PushChallenge, PushDevice, PushNotifierConfig, SecondFactorToken
from security.push import fcm, webhook
from security.services.factors import factor_notice_send

logger = logging.getLogger("security.push")

PUSH_CHALLENGE_SECONDS = 120
# A notification is tried at most this often, 2, 4, 8 ... seconds apart, and never after
# its challenge expired.
PUSH_DELIVERY_ATTEMPTS = 4
PUSH_RETRY_BASE_SECONDS = 2
PUSH_NOTIFIER_KINDS = ("none", PushNotifierConfig.KIND_FCM, PushNotifierConfig.KIND_WEBHOOK)


# The tenant's notifier ----------------------------------------------------------------------


@dataclass(frozen=True)
class PushNotifierSaved:
    """The stored settings (None: push approval is off) and, when one was just made, the
    webhook signing secret: shown once, then only kept encrypted."""

    config: PushNotifierConfig | None
    webhook_secret: str | None = None


def _notifier_fields(config: PushNotifierConfig | None) -> dict:
    if config is None:
        return {"kind": "none"}
    fields = {"kind": config.kind}
    if config.kind == PushNotifierConfig.KIND_FCM:
        fields.update(project_id=config.fcm_project_id, client_email=config.fcm_client_email)
    else:
        fields.update(webhook_url=config.webhook_url)
    return fields


@transaction.atomic
@events.emits("push_notifier.configured")
def push_notifier_set(
    command: PushNotifierSet, *, tenant: Tenant, actor: Actor
) -> PushNotifierSaved:
    """Choose how push challenges reach the tenant's devices, or turn push approval off.
    The service account and the webhook secret are stored encrypted and never shown again;
    a service account of None keeps the stored one, so other changes need not resend it."""
    kind = command.kind
    if kind not in PUSH_NOTIFIER_KINDS:
        raise PushNotifierInvalid("Choose none, fcm or webhook.", field="kind")
    config = PushNotifierConfig.objects.select_for_update().filter(tenant=tenant).first()
    before = _notifier_fields(config)
    previous_secret = decrypt(config.secret_encrypted) if config else None
    previous_kind = config.kind if config else "none"
    shown_secret: str | None = None
    if kind == "none":
        if config is not None:
            config.delete()
        after, stored_secret, saved = {"kind": "none"}, None, None
    else:
        config = config or PushNotifierConfig(tenant=tenant)
        if kind == PushNotifierConfig.KIND_FCM:
            text = command.service_account_json
            if text is None:
                if previous_kind != kind or previous_secret is None:
                    raise PushNotifierInvalid(
                        "Upload the service account's JSON key file.", field="service_account"
                    )
                text = previous_secret
            try:
                account = fcm.ServiceAccount.parse(text)
            except fcm.ServiceAccountInvalid as exc:
                raise PushNotifierInvalid(str(exc), field="service_account") from None
            config.fcm_project_id, config.fcm_client_email = (
                account.project_id,
                account.client_email,
            )
            config.webhook_url = ""
            stored_secret = text
        else:
            url = (command.webhook_url or "").strip()
            problem = webhook.url_problem(url)
            if problem:
                raise PushNotifierInvalid(problem, field="webhook_url")
            config.webhook_url = url
            config.fcm_project_id = config.fcm_client_email = ""
            if command.new_secret or previous_kind != kind or not previous_secret:
                shown_secret = stored_secret = webhook.new_secret()
            else:
                stored_secret = previous_secret
        config.kind = kind
        config.secret_encrypted = encrypt(stored_secret)
        config.save()
        after, saved = _notifier_fields(config), config
    changes = audit.diff(before, after)
    replaced = stored_secret is not None and (
        previous_secret is None or not constant_time_equals(previous_secret, stored_secret)
    )
    if replaced or (stored_secret is None and previous_secret is not None):
        changes["credential_replaced"] = [False, True]
    audit.record(
        tenant=tenant,
        actor=actor,
        action="push_notifier.configured",
        reason=command.reason,
        ticket=command.ticket,
        changes=changes,
    )
    return PushNotifierSaved(saved, shown_secret)


@events.reads
def push_notifier_get(*, tenant: Tenant) -> PushNotifierConfig | None:
    return PushNotifierConfig.objects.filter(tenant=tenant).first()


def _require_notifier(tenant: Tenant) -> None:
    if not PushNotifierConfig.objects.filter(tenant=tenant).exists():
        raise PushNotConfigured()


@dataclass(frozen=True)
class RegisteredDevice:
    device: PushDevice
    device_secret: str


@transaction.atomic
@events.emits("push_device.registered")
def push_device_register(
    command: PushDeviceRegister, *, tenant: Tenant, actor: Actor, account: Account
) -> RegisteredDevice:
    """Register a device that approves sign-ins; its secret is shown once, stored hashed.
    Refused while the tenant has no way to reach devices."""
    device_address, name = command.device_address, command.name
    _require_notifier(tenant)
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
    """Ask the account's newest device to approve this pending sign-in. The notification
    goes out once the challenge is committed (push_challenge_deliver)."""
    _require_notifier(tenant)
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
        challenge_pk = challenge.pk
        transaction.on_commit(lambda: push_delivery_first(challenge_id=challenge_pk))
    return challenge


@dataclass(frozen=True)
class PushDelivery:
    """How one attempt went: `sent`, `retrying` (try again in `retry_in` seconds), `failed`
    or `skipped` (nothing to send any more)."""

    status: str
    retry_in: int = 0


def _delivery_record(challenge: PushChallenge, **fields) -> None:
    PushChallenge.objects.filter(pk=challenge.pk).update(**fields)


@events.upkeep
def push_challenge_deliver(*, challenge_id: int) -> PushDelivery:
    """One attempt to notify the challenge's device through the tenant's notifier, and its
    outcome recorded on the challenge. A refusal (4xx: an unknown device token, a refused
    credential) fails it for good; a 5xx, a 429 or a timeout is `retrying` until the
    attempts or the challenge's time run out."""
    challenge = (
        PushChallenge.objects.select_related("device", "tenant", "account")
        .filter(pk=challenge_id)
        .first()
    )
    if challenge is None:
        return PushDelivery("skipped")
    if challenge.delivery_status in ("sent", "failed", "skipped"):
        return PushDelivery(challenge.delivery_status)
    now = timezone.now()
    if challenge.status != PushChallenge.PENDING or challenge.expires_at <= now:
        _delivery_record(challenge, delivery_status="skipped")
        return PushDelivery("skipped")
    attempts = challenge.delivery_attempts + 1
    config = PushNotifierConfig.objects.filter(tenant=challenge.tenant).first()
    try:
        if config is None:
            raise push.PushRejected("push notifications are not configured")
        notifier = push.notifier_for(
            kind=config.kind,
            secret=decrypt(config.secret_encrypted),
            webhook_url=config.webhook_url,
        )
        notifier.send(
            device_address=decrypt(challenge.device.device_token_encrypted),
            payload={
                "ChallengeId": challenge.public_id,
                "Uid": challenge.account.uid,
                "Application": challenge.tenant.name,
                "ExpireIn": challenge.expires_at.isoformat(),
            },
            message_id=f"msg_pushchallenge_{challenge.pk}",
        )
    except (push.PushDeliveryError, fcm.ServiceAccountInvalid, ValueError) as exc:
        reason = str(exc)[:200] or type(exc).__name__
        retry_in = PUSH_RETRY_BASE_SECONDS**attempts
        retry = (
            isinstance(exc, push.PushUnavailable)
            and attempts < PUSH_DELIVERY_ATTEMPTS
            and now + timedelta(seconds=retry_in) < challenge.expires_at
        )
        status = "retrying" if retry else "failed"
        logger.warning(
            "push challenge %s delivery attempt %s %s: %s", challenge.pk, attempts, status, reason
        )
        _delivery_record(
            challenge, delivery_status=status, delivery_attempts=attempts, delivery_error=reason
        )
        return PushDelivery(status, retry_in if retry else 0)
    _delivery_record(
        challenge,
        delivery_status="sent",
        delivery_attempts=attempts,
        delivery_error="",
        delivered_at=timezone.now(),
    )
    return PushDelivery("sent")


@events.upkeep
def push_delivery_first(*, challenge_id: int) -> PushDelivery:
    """The first attempt, made at once after the challenge committed (the person waits for
    it); a temporary failure hands the retries to a worker. Inline (eager) task runs do
    not retry: a request must not wait through the backoff."""
    from security.tasks import push_deliver_task  # the tasks import these services

    outcome = push_challenge_deliver(challenge_id=challenge_id)
    if outcome.status == "retrying" and not getattr(
        push_deliver_task.app.conf, "task_always_eager", False
    ):
        try:
            push_deliver_task.apply_async((challenge_id,), countdown=outcome.retry_in)
        except Exception as exc:  # broker unreachable: the challenge stays `retrying`
            logger.warning(
                "push challenge %s retry not handed to the broker (%s)",
                challenge_id,
                type(exc).__name__,
            )
    return outcome


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

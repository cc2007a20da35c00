"""A tenant's webhook endpoints: register, change, delete, rotate the secret, replay events,
and the relay's switching off of an endpoint that keeps failing. Each records one event
(`webhook.*`, administration events); none of them ever carries the secret."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from portal import audit, crypto, events, standard_webhooks
from portal.audit import Actor
from portal.errors import FieldError, InvalidInput
from portal.models import AuditEvent, Tenant
from webhooks import formats, validation
from webhooks.commands import (
    WebhookCreate,
    WebhookDelete,
    WebhookDisable,
    WebhookReplay,
    WebhookSecretRotate,
    WebhookUpdate,
)
from webhooks.errors import WebhookVersionStale
from webhooks.models import WebhookDelivery, WebhookEndpoint

# 24 random bytes at least (the specification's minimum); 32 as the push relays use.
SECRET_BYTES = 32
# The most events one replay queues.
REPLAY_MAX_EVENTS = 10_000
TENANT_HAS_ENDPOINTS_KEY = "webhooks:tenant-endpoints:{tenant_id}"


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "format": endpoint.format,
    }


def _check(
    *,
    url: str | None,
    event_types: Any,
    description: Any,
    format: Any,
    enabled: Any = None,
) -> None:
    problems: list[FieldError] = []
    if url is not None:
        problem = validation.url_problem(url)
        if problem:
            problems.append(FieldError("url", problem, "invalid"))
    if event_types is not None:
        problems.extend(validation.event_type_problems(event_types))
    if description is not None:
        problem = validation.description_problem(description)
        if problem:
            problems.append(FieldError("description", problem, "invalid"))
    if format is not None:
        problem = validation.format_problem(format)
        if problem:
            problems.append(FieldError("format", problem, "invalid"))
    if enabled is not None and not isinstance(enabled, bool):
        problems.append(FieldError("enabled", "true or false.", "invalid"))
    if problems:
        raise InvalidInput(field_errors=problems)


def _endpoints_changed(tenant_id: int) -> None:
    """The relay's kick asks whether a tenant has endpoints: forget the cached answer."""
    transaction.on_commit(
        lambda: cache.delete(TENANT_HAS_ENDPOINTS_KEY.format(tenant_id=tenant_id))
    )


def _check_version(endpoint: WebhookEndpoint, expected: str | None) -> None:
    if expected is not None and expected != str(endpoint.version):
        raise WebhookVersionStale()


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)


@events.emits("webhook.created")
def webhook_create(
    command: WebhookCreate, *, tenant: Tenant, actor: Actor
) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its secret, which is shown this once."""
    _check(
        url=command.url,
        event_types=list(command.events),
        description=command.description,
        format=command.format,
    )
    secret = standard_webhooks.new_secret(SECRET_BYTES)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant,
            url=command.url,
            events=list(command.events),
            description=command.description,
            format=command.format,
            secret_encrypted=crypto.encrypt(secret),
        )
        event = audit.record(
            tenant=tenant,
            actor=actor,
            action="webhook.created",
            reason=command.reason,
            ticket=command.ticket,
            changes={
                **audit.diff({}, _snapshot(endpoint)),
                "webhook": endpoint.pk,
            },
        )
        endpoint.since_event_id = event.pk
        endpoint.save(update_fields=["since_event_id"])
        _endpoints_changed(tenant.pk)
    return endpoint, secret


@events.emits("webhook.updated")
def webhook_update(
    command: WebhookUpdate, *, tenant: Tenant, actor: Actor, endpoint: WebhookEndpoint
) -> WebhookEndpoint:
    _check(
        url=command.url,
        event_types=list(command.events) if command.events is not None else None,
        description=command.description,
        format=command.format,
        enabled=command.enabled,
    )
    with transaction.atomic():
        endpoint = _locked(endpoint)
        _check_version(endpoint, command.expected_version)
        before = _snapshot(endpoint)
        if command.url is not None:
            endpoint.url = command.url
        if command.events is not None:
            endpoint.events = list(command.events)
        if command.description is not None:
            endpoint.description = command.description
        if command.format is not None:
            endpoint.format = command.format
        if command.enabled is not None:
            endpoint.enabled = command.enabled
            if command.enabled:  # switched back on: its failing run starts afresh
                endpoint.consecutive_failures, endpoint.failing_since = 0, None
                endpoint.disabled_reason = ""
        endpoint.version += 1
        endpoint.save()
        audit.record(
            tenant=tenant,
            actor=actor,
            action="webhook.updated",
            reason=command.reason,
            ticket=command.ticket,
            changes={**audit.diff(before, _snapshot(endpoint)), "webhook": endpoint.pk},
        )
        _endpoints_changed(tenant.pk)
    return endpoint


@events.emits("webhook.deleted")
def webhook_delete(
    command: WebhookDelete, *, tenant: Tenant, actor: Actor, endpoint: WebhookEndpoint
) -> None:
    """The endpoint and its deliveries go; the events stay."""
    with transaction.atomic():
        endpoint = _locked(endpoint)
        _check_version(endpoint, command.expected_version)
        before = _snapshot(endpoint)
        pk = endpoint.pk
        endpoint.delete()
        audit.record(
            tenant=tenant,
            actor=actor,
            action="webhook.deleted",
            reason=command.reason,
            ticket=command.ticket,
            changes={**audit.diff(before, {}), "webhook": pk},
        )
        _endpoints_changed(tenant.pk)


@events.emits("webhook.secret_rotated")
def webhook_secret_rotate(
    command: WebhookSecretRotate, *, tenant: Tenant, actor: Actor, endpoint: WebhookEndpoint
) -> tuple[WebhookEndpoint, str]:
    """The new secret, shown this once; deliveries from now on are signed with it."""
    secret = standard_webhooks.new_secret(SECRET_BYTES)
    with transaction.atomic():
        endpoint = _locked(endpoint)
        endpoint.secret_encrypted = crypto.encrypt(secret)
        endpoint.version += 1
        endpoint.save(update_fields=["secret_encrypted", "version", "updated_at"])
        audit.record(
            tenant=tenant,
            actor=actor,
            action="webhook.secret_rotated",
            reason=command.reason,
            ticket=command.ticket,
            changes={"webhook": endpoint.pk},
        )
    return endpoint, secret


@events.emits("webhook.replayed")
def webhook_replay(
    command: WebhookReplay, *, tenant: Tenant, actor: Actor, endpoint: WebhookEndpoint
) -> int:
    """Queue the events named again for the endpoint (those of its tenant and types, not
    imported ones); they go out with their original ids. Returns how many."""
    if not command.event_ids and command.since is None:
        raise InvalidInput(
            field_errors=[FieldError("event_ids", "Name event_ids or a since moment.", "required")]
        )
    if command.event_ids and command.since is not None:
        raise InvalidInput(
            field_errors=[FieldError("since", "Name event_ids or since, not both.", "invalid")]
        )
    rows = AuditEvent.objects.filter(tenant=tenant, imported=False)
    if command.event_ids:
        rows = rows.filter(id__in=command.event_ids)
    else:
        rows = rows.filter(occurred_at__gte=command.since)
    wanted = [
        (pk, action)
        for pk, action in rows.order_by("id").values_list("id", "action")[:REPLAY_MAX_EVENTS]
        if formats.receives(subscribed=endpoint.events, format=endpoint.format, action=action)
    ]
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(endpoint=endpoint, event_id=pk, replay=True, next_attempt_at=now)
                for pk, _action in wanted
            ]
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="webhook.replayed",
            reason=command.reason,
            ticket=command.ticket,
            changes={"webhook": endpoint.pk, "count": len(wanted)},
        )
    return len(wanted)


@events.emits("webhook.disabled")
def webhook_disable(
    command: WebhookDisable, *, tenant: Tenant, actor: Actor, endpoint: WebhookEndpoint
) -> WebhookEndpoint:
    """Switch off an endpoint that keeps failing; an admin switches it back on (PATCH)."""
    with transaction.atomic():
        endpoint = _locked(endpoint)
        endpoint.enabled = False
        endpoint.disabled_reason = command.reason[:200]
        endpoint.version += 1
        endpoint.save(update_fields=["enabled", "disabled_reason", "version", "updated_at"])
        audit.record(
            tenant=tenant,
            actor=actor,
            action="webhook.disabled",
            reason=command.reason,
            changes={
                "enabled": [True, False],
                "webhook": endpoint.pk,
                "consecutive_failures": endpoint.consecutive_failures,
                "failing_since": (
                    endpoint.failing_since.isoformat() if endpoint.failing_since else None
                ),
            },
        )
        _endpoints_changed(tenant.pk)
    return endpoint

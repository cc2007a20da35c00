"""Webhook endpoints as the native API writes and reads them: the JSON of an endpoint and
of a delivery, and the commands a request body asks for (every refused key named in the
field errors, nothing changed)."""

from typing import Any

from portal.api.native import moment_of, rfc3339
from portal.errors import FieldError, InvalidInput
from webhooks.commands import (
    WebhookCreate,
    WebhookReplay,
    WebhookUpdate,
)
from webhooks.formats import message_id
from webhooks.models import WebhookDelivery, WebhookEndpoint

CREATE_KEYS = ("url", "events", "description", "format")
PATCH_KEYS = ("url", "events", "description", "enabled", "format")
READ_ONLY_KEYS = ("id", "secret", "created_at")
MAX_REPLAY_IDS = 1000


def webhook_json(endpoint: WebhookEndpoint, *, secret: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "description": endpoint.description,
        "format": endpoint.format,
        "created_at": rfc3339(endpoint.created_at),
    }
    if secret is not None:
        data["secret"] = secret
    return data


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    def moment(value):
        return rfc3339(value) if value is not None else None

    return {
        "id": delivery.pk,
        "event_id": delivery.event_id,
        "webhook_id": message_id(delivery.event_id),
        "state": delivery.state,
        "attempts": delivery.attempt,
        "status_code": delivery.status_code,
        "latency_ms": delivery.latency_ms,
        "error": delivery.error,
        "replay": delivery.replay,
        "created_at": moment(delivery.created_at),
        "last_attempt_at": moment(delivery.last_attempt_at),
        "next_attempt_at": moment(delivery.next_attempt_at)
        if delivery.state == WebhookDelivery.PENDING
        else None,
    }


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("The body is a JSON object.")
    return body


def _unknown_keys(body: dict[str, Any], allowed: tuple[str, ...]) -> list[FieldError]:
    problems = []
    for key in body:
        if key in allowed:
            continue
        if key in READ_ONLY_KEYS:
            problems.append(FieldError(key, "This field is read-only.", "read_only"))
        else:
            problems.append(FieldError(key, "A webhook has no such field.", "unknown"))
    return problems


def _events(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(
            field_errors=[FieldError("events", 'Give a list of event types, or ["*"].', "invalid")]
        )
    return tuple(value)


def _text(body: dict[str, Any], key: str, *, default: str | None = None) -> str | None:
    value = body.get(key, default)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(field_errors=[FieldError(key, "A string.", "invalid")])
    return value


def create_command(body: Any, *, reason: str, ticket: str) -> WebhookCreate:
    body = _object(body)
    problems = _unknown_keys(body, CREATE_KEYS)
    for key in ("url", "events"):
        if body.get(key) is None:
            problems.append(FieldError(key, f"The {key} is required.", "required"))
    if problems:
        raise InvalidInput(field_errors=problems)
    return WebhookCreate(
        url=_text(body, "url") or "",
        events=_events(body["events"]),
        description=_text(body, "description", default="") or "",
        format=_text(body, "format", default="standard") or "standard",
        reason=reason,
        ticket=ticket,
    )


def update_command(
    body: Any, *, reason: str, ticket: str, expected_version: str | None
) -> WebhookUpdate:
    body = _object(body)
    problems = _unknown_keys(body, PATCH_KEYS)
    for key in ("url", "events", "enabled", "format"):
        if key in body and body[key] is None:
            problems.append(FieldError(key, f"The {key} cannot be removed.", "invalid"))
    if "enabled" in body and body["enabled"] is not None and not isinstance(body["enabled"], bool):
        problems.append(FieldError("enabled", "true or false.", "invalid"))
    if problems:
        raise InvalidInput(field_errors=problems)
    return WebhookUpdate(
        url=_text(body, "url"),
        events=_events(body["events"]) if "events" in body else None,
        description=(_text(body, "description") or "") if "description" in body else None,
        enabled=body.get("enabled"),
        format=_text(body, "format"),
        expected_version=expected_version,
        reason=reason,
        ticket=ticket,
    )


def replay_command(body: Any, *, reason: str, ticket: str) -> WebhookReplay:
    body = _object(body)
    problems = _unknown_keys(body, ("event_ids", "since"))
    if problems:
        raise InvalidInput(field_errors=problems)
    raw_ids = body.get("event_ids")
    event_ids: tuple[int, ...] = ()
    if raw_ids is not None:
        if (
            not isinstance(raw_ids, list)
            or not raw_ids
            or len(raw_ids) > MAX_REPLAY_IDS
            or not all(isinstance(item, int) and not isinstance(item, bool) for item in raw_ids)
        ):
            raise InvalidInput(
                field_errors=[
                    FieldError(
                        "event_ids", f"A list of 1 to {MAX_REPLAY_IDS} event ids.", "invalid"
                    )
                ]
            )
        event_ids = tuple(raw_ids)
    since_raw = body.get("since")
    if since_raw is not None and not isinstance(since_raw, str):
        raise InvalidInput(
            field_errors=[FieldError("since", "An RFC 3339 date-time with an offset.", "invalid")]
        )
    return WebhookReplay(
        event_ids=event_ids, since=moment_of("since", since_raw), reason=reason, ticket=ticket
    )

"""The tenant's domain events as a feed (`GET /api/v1/events`) and their catalogue
(`GET /api/v1/event-types`), on the native conventions (docs/api.md).

The feed is read oldest first after a cursor (the last event id seen), so a consumer
resumes where it stopped and never misses a row that was committed before it read. A
credential sees only the event types of the sections its scopes reach; administration
events (credentials, tenant settings) need its explicit `admin` scope. The exact `count`
of a million events is a shared snapshot plus the events since (portal/event_counts.py),
so every page costs about the same.
"""

from datetime import UTC
from typing import Any

from django.db.models import Q
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers

from portal import audit, event_counts
from portal.api.native import (
    NativeAPIView,
    after_of,
    list_body,
    list_of,
    moment_of,
    page_size_of,
    query_parameter,
    rfc3339,
    url_with,
)
from portal.errors import FieldError, InvalidInput
from portal.models import AuditEvent

TAG = ["Events"]


def readable_types(principal) -> list[str]:
    """The registered event types whose section the caller's credential reaches."""
    return sorted(
        action
        for action in audit.registered_actions()
        if principal.allows(audit.action_section(action))
    )


def reaches_any_events(principal) -> bool:
    """Whether the caller may read some event type; one that may read none is refused."""
    return bool(readable_types(principal))


def event_json(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.pk,
        "type": row.action,
        "occurred_at": rfc3339(row.occurred_at),
        "actor": {"type": row.actor_type, "id": row.actor_id, "label": row.actor_label},
        "uid": row.subject_uid or None,
        "reason": row.reason,
        "ticket": row.ticket,
        "changes": row.diff,
        "caused_by": row.caused_by,
        "imported": row.imported,
        "schema_version": row.schema_version,
        "context": {"request_id": row.request_id, "ip": row.ip, "user_agent": row.user_agent},
        # The account was deleted and this event's personal values erased (portal/erasure.py).
        "erased": row.erased_at is not None,
    }


def _type_filter(raw: str | None, readable: list[str]) -> list[str]:
    """`type=a.b,c.*`: exact types and `entity.*` prefixes, among the readable ones."""
    if not raw:
        return readable
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    chosen = {
        action
        for action in readable
        for pattern in wanted
        if action == pattern or (pattern.endswith(".*") and action.startswith(pattern[:-1]))
    }
    unknown = [
        pattern
        for pattern in wanted
        if not any(
            a == pattern or (pattern.endswith(".*") and a.startswith(pattern[:-1]))
            for a in audit.registered_actions()
        )
    ]
    if unknown:
        raise InvalidInput(
            field_errors=[
                FieldError("type", f"No event type is named {pattern!r}.", "unknown")
                for pattern in unknown
            ]
        )
    return sorted(chosen)


def _actor_filter(raw: str | None) -> Q:
    """`actor=credential:12`, `actor=staff:3`, `actor=account:<uid>`, or an id alone."""
    if not raw:
        return Q()
    kind, sep, ident = raw.partition(":")
    if sep and kind in dict(AuditEvent.ACTOR_TYPES):
        return Q(actor_type=kind, actor_id=ident)
    return Q(actor_id=raw)


_EVENT = inline_serializer(
    "Event",
    {
        "id": serializers.IntegerField(),
        "type": serializers.CharField(),
        "occurred_at": serializers.DateTimeField(),
        "actor": serializers.DictField(),
        "uid": serializers.CharField(allow_null=True),
        "reason": serializers.CharField(),
        "ticket": serializers.CharField(),
        "changes": serializers.DictField(),
        "caused_by": serializers.IntegerField(allow_null=True),
        "imported": serializers.BooleanField(),
        "schema_version": serializers.IntegerField(),
        "context": serializers.DictField(),
        "erased": serializers.BooleanField(),
    },
)


class EventFeedView(NativeAPIView):
    """The tenant's domain events, oldest first after a cursor."""

    section = "native"
    query_parameters = ("after", "type", "uid", "actor", "since", "until", "page_size")

    def principal_allowed(self, principal) -> bool:
        return reaches_any_events(principal)

    @extend_schema(
        tags=TAG,
        operation_id="events_list",
        summary="Domain events after a cursor",
        parameters=[
            query_parameter(
                "after", "The id of the last event read (exclusive); 0 or absent: the first."
            ),
            query_parameter(
                "type", "Comma-separated event types; `account.*` names every account event."
            ),
            query_parameter("uid", "Events of this account."),
            query_parameter(
                "actor", "`credential:<id>`, `staff:<id>`, `account:<uid>`, or an actor id."
            ),
            query_parameter("since", "RFC 3339: events at or after."),
            query_parameter("until", "RFC 3339: events before."),
            query_parameter("page_size", "1 to 200 (50)."),
        ],
        responses={200: list_of("EventList", _EVENT)},
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={
                    "count": 1,
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "id": 812,
                            "type": "account.updated",
                            "occurred_at": "2026-12-07T04:00:00.000Z",
                            "actor": {"type": "credential", "id": "3", "label": "crm"},
                            "uid": "6f1c...",
                            "reason": "legal name change",
                            "ticket": "SUP-9",
                            "changes": {"FirstName": ["Ann", "Anna"]},
                            "caused_by": None,
                            "imported": False,
                            "schema_version": 1,
                            "context": {"request_id": "ab12", "ip": "10.0.0.8", "user_agent": ""},
                            "erased": False,
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request):
        params = request.query_params
        page_size = page_size_of(request)
        after = after_of(request)
        types = _type_filter(params.get("type"), readable_types(self.principal))
        since, until = (
            moment_of("since", params.get("since")),
            moment_of("until", params.get("until")),
        )
        matching = AuditEvent.objects.filter(tenant=self.tenant, action__in=types)
        matching = matching.filter(_actor_filter(params.get("actor")))
        filters = (
            types,
            params.get("actor") or "",
            params.get("uid") or "",
            *(m.astimezone(UTC).isoformat() if m else "" for m in (since, until)),
        )
        if params.get("uid"):
            matching = matching.filter(subject_uid=params["uid"])
        if since is not None:
            matching = matching.filter(occurred_at__gte=since)
        if until is not None:
            matching = matching.filter(occurred_at__lt=until)
        rows = list(matching.filter(id__gt=after).order_by("id")[: page_size + 1])
        more = len(rows) > page_size
        rows = rows[:page_size]
        return self.respond(
            list_body(
                [event_json(row) for row in rows],
                count=event_counts.event_count(
                    tenant=self.tenant, matching=matching, filters=filters
                ),
                next_url=url_with(request, after=str(rows[-1].pk)) if more else None,
            ),
            project=False,
        )


class EventTypesView(NativeAPIView):
    """The event types the caller's credential may read, with what each means."""

    section = "native"

    def principal_allowed(self, principal) -> bool:
        return reaches_any_events(principal)

    @extend_schema(
        tags=TAG,
        operation_id="event_types_list",
        summary="The catalogue of event types",
        responses={
            200: list_of(
                "EventTypeList",
                inline_serializer(
                    "EventType",
                    {
                        "type": serializers.CharField(),
                        "description": serializers.CharField(),
                        "section": serializers.CharField(),
                    },
                ),
            )
        },
    )
    def get(self, request):
        descriptions = audit.registered_actions()
        results = [
            {
                "type": action,
                "description": descriptions[action],
                "section": audit.action_section(action),
            }
            for action in readable_types(self.principal)
        ]
        return self.respond(list_body(results, count=len(results), next_url=None), project=False)

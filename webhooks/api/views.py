"""Webhook endpoints as native resources (docs/api.md, "Webhooks"): administration, so
every call needs a credential's explicit `admin` scope.

`POST /api/v1/webhooks` registers an endpoint and answers its signing secret, shown this
once (and again only by `POST .../rotate-secret`, which replaces it). A single endpoint has
an ETag; `PATCH` is a JSON merge patch of `url`, `events`, `description`, `enabled` and
`format`. `GET .../deliveries` lists what was sent, `POST .../replay` sends events again
with their original ids.
"""

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers

from portal.api.native import (
    IF_MATCH,
    REASON,
    TICKET,
    NativeAPIView,
    after_of,
    list_body,
    list_example,
    list_of,
    page_size_of,
    query_parameter,
    url_with,
)
from webhooks import selectors, services
from webhooks.api.wire import (
    create_command,
    delivery_json,
    replay_command,
    update_command,
    webhook_json,
)
from webhooks.commands import (
    WebhookDelete,
    WebhookSecretRotate,
)
from webhooks.models import WebhookEndpoint

TAG = ["Webhooks"]
_WEBHOOK_FIELDS = {
    "id": serializers.IntegerField(),
    "url": serializers.URLField(),
    "events": serializers.ListField(child=serializers.CharField()),
    "enabled": serializers.BooleanField(),
    "description": serializers.CharField(),
    "format": serializers.ChoiceField(choices=WebhookEndpoint.FORMATS),
    "created_at": serializers.DateTimeField(),
}
_WEBHOOK = inline_serializer("Webhook", _WEBHOOK_FIELDS)
_WEBHOOK_WITH_SECRET = inline_serializer(
    "WebhookWithSecret", {**_WEBHOOK_FIELDS, "secret": serializers.CharField()}
)
_WEBHOOK_INPUT = inline_serializer(
    "WebhookInput",
    {
        "url": serializers.URLField(),
        "events": serializers.ListField(child=serializers.CharField()),
        "description": serializers.CharField(required=False),
        "format": serializers.ChoiceField(choices=WebhookEndpoint.FORMATS, required=False),
    },
)
_WEBHOOK_PATCH = inline_serializer(
    "WebhookPatch",
    {
        "url": serializers.URLField(required=False),
        "events": serializers.ListField(child=serializers.CharField(), required=False),
        "description": serializers.CharField(required=False, allow_null=True),
        "enabled": serializers.BooleanField(required=False),
        "format": serializers.ChoiceField(choices=WebhookEndpoint.FORMATS, required=False),
    },
)
_DELIVERY = inline_serializer(
    "WebhookDelivery",
    {
        "id": serializers.IntegerField(),
        "event_id": serializers.IntegerField(),
        "webhook_id": serializers.CharField(),
        "state": serializers.ChoiceField(choices=["pending", "succeeded", "failed"]),
        "attempts": serializers.IntegerField(),
        "status_code": serializers.IntegerField(allow_null=True),
        "latency_ms": serializers.IntegerField(allow_null=True),
        "error": serializers.CharField(),
        "replay": serializers.BooleanField(),
        "created_at": serializers.DateTimeField(),
        "last_attempt_at": serializers.DateTimeField(allow_null=True),
        "next_attempt_at": serializers.DateTimeField(allow_null=True),
    },
)
_REPLAY = inline_serializer(
    "WebhookReplayInput",
    {
        "event_ids": serializers.ListField(child=serializers.IntegerField(), required=False),
        "since": serializers.DateTimeField(required=False),
    },
)
_REPLAYED = inline_serializer("WebhookReplayed", {"count": serializers.IntegerField()})


_EXAMPLE = {
    "id": 7,
    "url": "https://hooks.example.com/portal",
    "events": ["account.updated", "account.deleted"],
    "enabled": True,
    "description": "CRM sync",
    "format": "standard",
    "created_at": "2026-12-07T04:00:00.000Z",
}
_SECRET_EXAMPLE = {**_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}


class WebhookAPIView(NativeAPIView):
    section = "admin"

    def _reason(self) -> dict[str, str]:
        return {
            "reason": self.request.headers.get("X-Reason", ""),
            "ticket": self.request.headers.get("X-Ticket", ""),
        }

    def _endpoint(self, webhook_id: str) -> WebhookEndpoint:
        return selectors.webhook_get(tenant=self.tenant, webhook_id=webhook_id)


class WebhookListView(WebhookAPIView):
    """The tenant's webhook endpoints; register one."""

    query_parameters = ("after", "page_size")

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_list",
        summary="Webhook endpoints",
        parameters=[
            query_parameter("after", "The id of the last endpoint read (exclusive)."),
            query_parameter("page_size", "1 to 200 (50)."),
        ],
        responses={200: list_of("WebhookList", _WEBHOOK)},
        examples=[list_example(_EXAMPLE)],
    )
    def get(self, request):
        page_size = page_size_of(request)
        rows, count = selectors.webhook_list(
            tenant=self.tenant, after=after_of(request), limit=page_size + 1
        )
        more = len(rows) > page_size
        rows = rows[:page_size]
        return self.respond(
            list_body(
                [webhook_json(row) for row in rows],
                count=count,
                next_url=url_with(request, after=str(rows[-1].pk)) if more else None,
            ),
            project=False,
        )

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_create",
        summary="Register a webhook endpoint (its secret is shown this once)",
        parameters=[REASON, TICKET],
        request=_WEBHOOK_INPUT,
        responses={201: _WEBHOOK_WITH_SECRET},
        examples=[
            OpenApiExample(
                "Account changes, in the standard format",
                request_only=True,
                value={
                    "url": "https://hooks.example.com/portal",
                    "events": ["account.updated", "account.deleted"],
                    "description": "CRM sync",
                },
            ),
            OpenApiExample(
                "Registered", response_only=True, status_codes=["201"], value=_SECRET_EXAMPLE
            ),
        ],
    )
    def post(self, request):
        command = create_command(self.body_json(), **self._reason())
        endpoint, secret = services.webhook_create(command, tenant=self.tenant, actor=self.actor)
        return self.respond_versioned(
            webhook_json(endpoint, secret=secret),
            version=selectors.webhook_version(endpoint),
            status=201,
        )


class WebhookDetailView(WebhookAPIView):
    """One endpoint: read with its ETag, change by merge patch, delete."""

    def _represented(self, endpoint: WebhookEndpoint):
        return self.respond_versioned(
            webhook_json(endpoint), version=selectors.webhook_version(endpoint)
        )

    @extend_schema(
        tags=TAG,
        operation_id="webhook_retrieve",
        summary="A webhook endpoint",
        responses={200: _WEBHOOK},
        examples=[OpenApiExample("An endpoint", response_only=True, value=_EXAMPLE)],
    )
    def get(self, request, webhook_id):
        return self._represented(self._endpoint(webhook_id))

    @extend_schema(
        tags=TAG,
        operation_id="webhook_patch",
        summary="Change a webhook endpoint (JSON merge patch)",
        parameters=[IF_MATCH, REASON, TICKET],
        request={
            "application/merge-patch+json": _WEBHOOK_PATCH,
            "application/json": _WEBHOOK_PATCH,
        },
        responses={200: _WEBHOOK},
        examples=[
            OpenApiExample(
                "Every event type, switched back on",
                request_only=True,
                value={"events": ["*"], "enabled": True},
            ),
            OpenApiExample("Changed", response_only=True, value={**_EXAMPLE, "events": ["*"]}),
        ],
    )
    def patch(self, request, webhook_id):
        endpoint = self._endpoint(webhook_id)
        command = update_command(
            self.body_json(), expected_version=self.expected_version, **self._reason()
        )
        endpoint = services.webhook_update(
            command, tenant=self.tenant, actor=self.actor, endpoint=endpoint
        )
        return self._represented(endpoint)

    @extend_schema(
        tags=TAG,
        operation_id="webhook_destroy",
        summary="Delete a webhook endpoint",
        parameters=[IF_MATCH, REASON, TICKET],
        responses={204: None},
    )
    def delete(self, request, webhook_id):
        endpoint = self._endpoint(webhook_id)
        services.webhook_delete(
            WebhookDelete(expected_version=self.expected_version, **self._reason()),
            tenant=self.tenant,
            actor=self.actor,
            endpoint=endpoint,
        )
        return self.respond(None, status=204, project=False)


class WebhookSecretRotateView(WebhookAPIView):
    """Replace an endpoint's signing secret; the new one is shown this once."""

    @extend_schema(
        tags=TAG,
        operation_id="webhook_rotate_secret",
        summary="Replace a webhook endpoint's signing secret",
        parameters=[REASON, TICKET],
        request=None,
        responses={200: _WEBHOOK_WITH_SECRET},
        examples=[OpenApiExample("Rotated", response_only=True, value=_SECRET_EXAMPLE)],
    )
    def post(self, request, webhook_id):
        endpoint, secret = services.webhook_secret_rotate(
            WebhookSecretRotate(**self._reason()),
            tenant=self.tenant,
            actor=self.actor,
            endpoint=self._endpoint(webhook_id),
        )
        return self.respond_versioned(
            webhook_json(endpoint, secret=secret), version=selectors.webhook_version(endpoint)
        )


class WebhookDeliveryListView(WebhookAPIView):
    """What was sent to an endpoint: attempts, status codes, latency, errors."""

    query_parameters = ("after", "page_size")

    @extend_schema(
        tags=TAG,
        operation_id="webhook_deliveries_list",
        summary="A webhook endpoint's deliveries",
        parameters=[
            query_parameter("after", "The id of the last delivery read (exclusive)."),
            query_parameter("page_size", "1 to 200 (50)."),
        ],
        responses={200: list_of("WebhookDeliveryList", _DELIVERY)},
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
                            "id": 31,
                            "event_id": 812,
                            "webhook_id": "evt_812",
                            "state": "pending",
                            "attempts": 1,
                            "status_code": 500,
                            "latency_ms": 84,
                            "error": "HTTP 500",
                            "replay": False,
                            "created_at": "2026-12-07T04:00:01.000Z",
                            "last_attempt_at": "2026-12-07T04:00:01.100Z",
                            "next_attempt_at": "2026-12-07T04:00:31.100Z",
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request, webhook_id):
        endpoint = self._endpoint(webhook_id)
        page_size = page_size_of(request)
        rows, count = selectors.delivery_list(
            endpoint=endpoint, after=after_of(request), limit=page_size + 1
        )
        more = len(rows) > page_size
        rows = rows[:page_size]
        return self.respond(
            list_body(
                [delivery_json(row) for row in rows],
                count=count,
                next_url=url_with(request, after=str(rows[-1].pk)) if more else None,
            ),
            project=False,
        )


class WebhookReplayView(WebhookAPIView):
    """Send events again to an endpoint, with their original ids."""

    @extend_schema(
        tags=TAG,
        operation_id="webhook_replay",
        summary="Send events again to a webhook endpoint",
        parameters=[REASON, TICKET],
        request=_REPLAY,
        responses={202: _REPLAYED},
        examples=[
            OpenApiExample("By id", request_only=True, value={"event_ids": [812, 813]}),
            OpenApiExample(
                "Since a moment", request_only=True, value={"since": "2026-12-07T00:00:00Z"}
            ),
            OpenApiExample("Queued", response_only=True, status_codes=["202"], value={"count": 2}),
        ],
    )
    def post(self, request, webhook_id):
        endpoint = self._endpoint(webhook_id)
        command = replay_command(self.body_json(), **self._reason())
        count = services.webhook_replay(
            command, tenant=self.tenant, actor=self.actor, endpoint=endpoint
        )
        return self.respond({"count": count}, status=202, project=False)

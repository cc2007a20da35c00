"""Native API: the delivery status of the messages sent to an account."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from accounts import selectors as account_selectors
from portal.lrapi.errors import LRError
from portal.lrapi.views import LRAPIView
from tokens.api.multipurpose.params import ERROR, query_param, stripped_text
from tokens.models import OutboxMessage
from tokens.services import multipurpose as service


def message_as_dict(message: OutboxMessage) -> dict:
    return {
        "id": message.pk,
        "channel": message.channel,
        "template": message.template,
        "recipient": message.recipient,
        "status": message.status,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "provider_message_id": message.provider_message_id,
        "idempotency_key": str(message.idempotency_key),
        "created": message.created.isoformat(),
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "expires_at": message.expires_at.isoformat() if message.expires_at else None,
    }


_MESSAGE = inline_serializer(
    "OutboxMessage",
    {
        "id": serializers.IntegerField(),
        "channel": serializers.ChoiceField(choices=["email", "sms"]),
        "template": serializers.CharField(),
        "recipient": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["queued", "sending", "sent", "failed"]),
        "attempts": serializers.IntegerField(),
        "last_error": serializers.CharField(),
        "provider_message_id": serializers.CharField(),
        "idempotency_key": serializers.UUIDField(),
        "created": serializers.DateTimeField(),
        "sent_at": serializers.DateTimeField(allow_null=True),
        "expires_at": serializers.DateTimeField(allow_null=True),
    },
)


class MessageListView(LRAPIView):
    """Delivery status of the messages sent to an account, newest first."""

    section = "tokens"
    MAX_PAGE_SIZE = 200

    @extend_schema(
        operation_id="messages_list",
        tags=["Native"],
        parameters=[
            query_param("uid", "Account UID", required_=True),
            query_param("page", "Page number (1-based)", type_=OpenApiTypes.INT),
            query_param("page_size", "Items per page (max 200)", type_=OpenApiTypes.INT),
            query_param("status", "Only messages with this status"),
        ],
        responses={
            200: inline_serializer(
                "OutboxMessagePage",
                {
                    "count": serializers.IntegerField(),
                    "page": serializers.IntegerField(),
                    "page_size": serializers.IntegerField(),
                    "results": _MESSAGE.__class__(many=True),
                },
            ),
            400: ERROR,
            403: ERROR,
        },
    )
    def get(self, request):
        account = account_selectors.account_get(
            tenant=self.tenant, uid=stripped_text(self.query.get("uid"))
        )
        page = self._int("page", 1, minimum=1)
        size = min(self._int("page_size", 50, minimum=1), self.MAX_PAGE_SIZE)
        status = stripped_text(self.query.get("status")).lower()
        if status and status not in dict(OutboxMessage.STATUSES):
            raise LRError(908, "The status must be one of queued, sending, sent, failed.")
        rows = service.account_messages_list(tenant=self.tenant, account=account, status=status)
        total = rows.count()
        items = rows[(page - 1) * size : page * size]
        return self.respond(
            {
                "count": total,
                "page": page,
                "page_size": size,
                "results": [message_as_dict(m) for m in items],
            }
        )

    def _int(self, name: str, default: int, *, minimum: int) -> int:
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        if not raw.strip().isdigit() or int(raw) < minimum:
            raise LRError(908, f"The {name} must be a whole number of at least {minimum}.")
        return int(raw)

"""`POST /api/v1/messages/{id}/resend`: queue an outbox message again (docs/api.md), through
the MessageResend command; the answer is the message as queued (delivery follows)."""

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers

from portal.api.native import REASON, TICKET, NativeAPIView, moment, reason_and_ticket
from tokens.commands import MessageResend
from tokens.models import OutboxMessage
from tokens.services import multipurpose as service


def native_message_json(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.pk,
        "channel": message.channel,
        "template": message.template,
        "recipient": message.recipient,
        "status": message.status,
        "attempts": message.attempts,
        "created_at": moment(message.created),
        "sent_at": moment(message.sent_at),
        "expires_at": moment(message.expires_at),
    }


_MESSAGE = inline_serializer(
    "NativeOutboxMessage",
    {
        "id": serializers.IntegerField(),
        "channel": serializers.ChoiceField(choices=["email", "sms"]),
        "template": serializers.CharField(),
        "recipient": serializers.CharField(),
        "status": serializers.CharField(help_text="`queued`, `sending`, `sent` or `failed`."),
        "attempts": serializers.IntegerField(),
        "created_at": serializers.DateTimeField(),
        "sent_at": serializers.DateTimeField(allow_null=True),
        "expires_at": serializers.DateTimeField(allow_null=True),
    },
)


class MessageResendView(NativeAPIView):
    """Queue again a message that was sent or failed, while its content is still held."""

    section = "tokens"

    @extend_schema(
        tags=["Messages"],
        operation_id="message_resend",
        summary="Send a message again",
        description="Answers 202 with the message queued again. A message still waiting for "
        "delivery, one whose content was erased (every message carrying a one-time secret, "
        "once sent or given up: issue a new token instead), an expired one, or one whose token "
        "is no longer valid answers 409.",
        parameters=[REASON, TICKET],
        request=None,
        responses={202: _MESSAGE},
        examples=[
            OpenApiExample(
                "Queued again",
                response_only=True,
                status_codes=["202"],
                value={
                    "id": 77,
                    "channel": "email",
                    "template": "factoradded",
                    "recipient": "ann@example.com",
                    "status": "queued",
                    "attempts": 0,
                    "created_at": "2026-12-07T04:00:00.000Z",
                    "sent_at": None,
                    "expires_at": None,
                },
            )
        ],
    )
    def post(self, request, message_id):
        message = service.message_resend(
            MessageResend(message_id=message_id, **reason_and_ticket(request)),
            tenant=self.tenant,
            actor=self.actor,
        )
        return self.respond(native_message_json(message), status=202, project=False)

"""The outbox as a native resource (docs/api.md): `GET /api/v1/messages` (delivery status,
newest first) and `POST /api/v1/messages/{id}/resend` (the MessageResend command).

A message is shown by its metadata only: never its content, which may carry a one-time
code or link, nor any token."""

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.selectors import account_get
from portal.api.native import (
    PAGE_SIZE,
    REASON,
    TICKET,
    NativeAPIView,
    after_of,
    list_example,
    list_of,
    moment,
    moment_of,
    page_body,
    page_size_of,
    query_parameter,
    reason_and_ticket,
)
from portal.errors import FieldError, InvalidInput
from tokens.commands import MessageResend
from tokens.models import OutboxMessage
from tokens.services import multipurpose as service

TAG = ["Messages"]
STATUSES = tuple(status for status, _ in OutboxMessage.STATUSES)
CHANNELS = tuple(channel for channel, _ in OutboxMessage.CHANNELS)


def native_message_json(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.pk,
        "uid": message.account.uid if message.account is not None else None,
        "channel": message.channel,
        "template": message.template,
        "purpose": message.token.purpose if message.token is not None else None,
        "recipient": message.recipient,
        "status": message.status,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "provider_message_id": message.provider_message_id,
        "created_at": moment(message.created),
        "sent_at": moment(message.sent_at),
        "expires_at": moment(message.expires_at),
    }


_MESSAGE = inline_serializer(
    "NativeOutboxMessage",
    {
        "id": serializers.IntegerField(),
        "uid": serializers.CharField(allow_null=True),
        "channel": serializers.ChoiceField(choices=list(CHANNELS)),
        "template": serializers.CharField(),
        "purpose": serializers.CharField(
            allow_null=True, help_text="The purpose of the token it carries, if any."
        ),
        "recipient": serializers.CharField(),
        "status": serializers.ChoiceField(choices=list(STATUSES)),
        "attempts": serializers.IntegerField(),
        "last_error": serializers.CharField(allow_blank=True),
        "provider_message_id": serializers.CharField(
            allow_blank=True, help_text="What the provider named it (docs/deploy.md)."
        ),
        "created_at": serializers.DateTimeField(),
        "sent_at": serializers.DateTimeField(allow_null=True),
        "expires_at": serializers.DateTimeField(allow_null=True),
    },
)
_EXAMPLE = {
    "id": 77,
    "uid": "6f1c0a9e2b3d4e5f8a7b6c5d4e3f2a1b",
    "channel": "email",
    "template": "emailverification",
    "purpose": "emailverification",
    "recipient": "ann@example.com",
    "status": "queued",
    "attempts": 0,
    "last_error": "",
    "provider_message_id": "",
    "created_at": "2026-12-07T04:00:00.000Z",
    "sent_at": None,
    "expires_at": "2026-12-07T05:00:00.000Z",
}


def _choice(request, name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise InvalidInput(
            field_errors=[FieldError(name, f"One of {', '.join(choices)}.", "invalid")]
        )
    return raw


class MessageListView(NativeAPIView):
    """The tenant's outbox messages, newest first: their delivery status."""

    section = "tokens"
    query_parameters = ("uid", "status", "channel", "since", "until", "after", "page_size")

    @extend_schema(
        tags=TAG,
        operation_id="native_messages_list",
        summary="Messages and their delivery status",
        description="Newest first; `after` is the id of the last message read. Never the "
        "content of a message nor any token.",
        parameters=[
            query_parameter("uid", "Only the messages of this account (404 if there is none)."),
            query_parameter("status", "`queued`, `sending`, `sent` or `failed`."),
            query_parameter("channel", "`email` or `sms`."),
            query_parameter("since", "RFC 3339: written at or after this time."),
            query_parameter("until", "RFC 3339: written before this time."),
            query_parameter("after", "The id of the last message read (exclusive)."),
            PAGE_SIZE,
        ],
        responses={200: list_of("NativeOutboxMessageList", _MESSAGE)},
        examples=[list_example(_EXAMPLE)],
    )
    def get(self, request):
        page_size, after = page_size_of(request), after_of(request)
        status = _choice(request, "status", STATUSES)
        channel = _choice(request, "channel", CHANNELS)
        since = moment_of("since", request.query_params.get("since"))
        until = moment_of("until", request.query_params.get("until"))
        rows = OutboxMessage.objects.filter(tenant=self.tenant)
        uid = request.query_params.get("uid")
        if uid is not None:
            rows = rows.filter(account=account_get(tenant=self.tenant, uid=uid))
        if status is not None:
            rows = rows.filter(status=status)
        if channel is not None:
            rows = rows.filter(channel=channel)
        if since is not None:
            rows = rows.filter(created__gte=since)
        if until is not None:
            rows = rows.filter(created__lt=until)
        count = rows.count()
        if after:
            rows = rows.filter(pk__lt=after)
        page = list(rows.select_related("account", "token").order_by("-pk")[: page_size + 1])
        more = len(page) > page_size
        page = page[:page_size]
        body = page_body(
            request,
            [native_message_json(message) for message in page],
            count=count,
            more=more,
            last_id=page[-1].pk if page else after,
        )
        return self.respond(body, project=False)


class MessageResendView(NativeAPIView):
    """Send a message again: a fresh token for a token's message, the message itself
    otherwise."""

    section = "tokens"

    @extend_schema(
        tags=TAG,
        operation_id="message_resend",
        summary="Send a message again",
        description="Answers 202 with the message queued. A message that carried a "
        "multipurpose token (a verification or reset link, an OTP) is reached again with a "
        "fresh token of the same purpose, to the same account and address, in a new message; "
        "the old token is retired. A message without a token goes back to the queue while "
        "its content is still held. A message still waiting for delivery, one whose token "
        "was used or replaced, one whose address no longer belongs to the account, and one "
        "with nothing left to send answer 409 `message.not_resendable`.",
        parameters=[REASON, TICKET],
        request=None,
        responses={202: _MESSAGE},
        examples=[
            OpenApiExample(
                "Queued with a fresh token",
                response_only=True,
                status_codes=["202"],
                value=_EXAMPLE,
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

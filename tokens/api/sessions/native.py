"""An account's sessions as a native resource (docs/api.md): list the live ones, end one,
end them all. Ending goes through the same commands and services as the LoginRadius paths
and the console, so the access tokens stop validating at once everywhere."""

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts.selectors import account_get
from portal.api.native import (
    AFTER,
    PAGE_SIZE,
    REASON,
    TICKET,
    NativeAPIView,
    after_of,
    list_example,
    list_of,
    moment,
    page_body,
    page_size_of,
    reason_and_ticket,
)
from tokens import selectors
from tokens.commands import AccountSessionRevoke, AccountSessionsRevoke
from tokens.models import TokenFamily
from tokens.services import sessions as services

TAG = ["Sessions"]


def session_json(family: TokenFamily) -> dict[str, Any]:
    return {
        "id": family.pk,
        "device": {
            "name": family.device,
            "type": family.device_type,
            "browser": family.browser,
            "os": family.os,
        },
        "ip": family.ip,
        "location": {"city": family.city, "country": family.country},
        "impersonated_by": family.actor_label if family.is_impersonation else None,
        "created_at": moment(family.created),
        "last_used_at": moment(getattr(family, "last_used_at", None) or family.created),
        "expires_at": moment(family.expires_at),
    }


_SESSION = inline_serializer(
    "Session",
    {
        "id": serializers.IntegerField(),
        "device": serializers.DictField(),
        "ip": serializers.IPAddressField(allow_null=True),
        "location": serializers.DictField(),
        "impersonated_by": serializers.CharField(allow_null=True),
        "created_at": serializers.DateTimeField(),
        "last_used_at": serializers.DateTimeField(),
        "expires_at": serializers.DateTimeField(),
    },
)
_EXAMPLE = {
    "id": 812,
    "device": {"name": "Mac", "type": "Desktop", "browser": "Firefox", "os": "macOS"},
    "ip": "203.0.113.9",
    "location": {"city": "", "country": ""},
    "impersonated_by": None,
    "created_at": "2026-12-07T04:00:00.000Z",
    "last_used_at": "2026-12-07T05:00:00.000Z",
    "expires_at": "2027-12-07T04:00:00.000Z",
}


class NativeSessionListView(NativeAPIView):
    """The account's live sessions, oldest first after a cursor; DELETE ends them all."""

    section = "sessions"
    query_parameters = ("after", "page_size")

    @extend_schema(
        tags=TAG,
        operation_id="sessions_list",
        summary="The account's live sessions",
        parameters=[AFTER, PAGE_SIZE],
        responses={200: list_of("SessionList", _SESSION)},
        examples=[list_example(_EXAMPLE)],
    )
    def get(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        page_size, after = page_size_of(request), after_of(request)
        rows, more = selectors.account_sessions_list(
            tenant=self.tenant, account=account, after=after, limit=page_size
        )
        body = page_body(
            request,
            [session_json(row) for row in rows],
            count=selectors.account_sessions_count(tenant=self.tenant, account=account),
            more=more,
            last_id=rows[-1].pk if rows else after,
        )
        return self.respond(body, project=False)

    @extend_schema(
        tags=TAG,
        operation_id="sessions_revoke_all",
        summary="End every session of the account",
        parameters=[REASON, TICKET],
        request=None,
        responses={204: None},
    )
    def delete(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        services.account_sessions_revoke(
            AccountSessionsRevoke(**reason_and_ticket(request)),
            tenant=self.tenant,
            account=account,
            actor=self.actor,
        )
        return Response(status=204)


class NativeSessionDetailView(NativeAPIView):
    """One live session of the account: ending it ends its access and refresh tokens."""

    section = "sessions"

    @extend_schema(
        tags=TAG,
        operation_id="session_revoke",
        summary="End one session",
        parameters=[REASON, TICKET],
        request=None,
        responses={204: None},
    )
    def delete(self, request, uid, session_id):
        account = account_get(tenant=self.tenant, uid=uid)
        services.account_session_revoke(
            AccountSessionRevoke(session_id=session_id, **reason_and_ticket(request)),
            tenant=self.tenant,
            account=account,
            actor=self.actor,
        )
        return Response(status=204)

"""An account's second factors as a native resource (docs/api.md): list them, reset one
kind. A reset is the same FactorReset command and service as the LoginRadius per-factor
paths and the console's reset, so its sessions end too."""

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts.selectors import account_get
from portal.api.native import (
    REASON,
    TICKET,
    NativeAPIView,
    held_for_approval,
    list_body,
    list_of,
    moment,
    reason_and_ticket,
)
from security import selectors, services
from security.commands import FactorReset

TAG = ["Second factors"]

_FACTOR = inline_serializer(
    "SecondFactor",
    {
        "kind": serializers.ChoiceField(choices=list(services.FACTORS)),
        "label": serializers.CharField(),
        "confirmed": serializers.BooleanField(),
        "count": serializers.IntegerField(),
        "created_at": serializers.DateTimeField(),
    },
)


def factor_json(row: dict) -> dict:
    return {
        "kind": row["kind"],
        "label": row["label"],
        "confirmed": row["confirmed"],
        "count": row["count"],
        "created_at": moment(row["created"]),
    }


class NativeFactorListView(NativeAPIView):
    """The account's second factors, one entry per kind."""

    section = "security"

    @extend_schema(
        tags=TAG,
        operation_id="factors_list",
        summary="The account's second factors",
        responses={200: list_of("SecondFactorList", _FACTOR)},
        examples=[
            OpenApiExample(
                "An authenticator app and SMS codes",
                response_only=True,
                value={
                    "count": 2,
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "kind": "totp",
                            "label": "Authenticator app",
                            "confirmed": True,
                            "count": 1,
                            "created_at": "2026-12-01T09:00:00.000Z",
                        },
                        {
                            "kind": "sms",
                            "label": "********0100",
                            "confirmed": True,
                            "count": 1,
                            "created_at": "2026-12-02T09:00:00.000Z",
                        },
                    ],
                },
            )
        ],
    )
    def get(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        rows = [factor_json(row) for row in selectors.account_factors_list(account=account)]
        return self.respond(list_body(rows, count=len(rows), next_url=None), project=False)


class NativeFactorDetailView(NativeAPIView):
    """One kind of second factor of the account: resetting removes every row of it."""

    section = "security"

    @extend_schema(
        tags=TAG,
        operation_id="factor_reset",
        summary="Reset one kind of second factor",
        description="Removes the factor (for `passkey` and `push`: all of them) and ends the "
        "account's sessions. A kind the account does not have answers 404.",
        parameters=[REASON, TICKET],
        request=None,
        responses={204: None},
    )
    def delete(self, request, uid, kind):
        account = account_get(tenant=self.tenant, uid=uid)
        if kind not in services.FACTORS or not any(
            row["kind"] == kind for row in selectors.account_factors_list(account=account)
        ):
            raise Http404
        command = FactorReset(factor=kind, **reason_and_ticket(request))
        held = held_for_approval(
            self, command, account_uid=uid, summary=f"Reset the {kind} factor of {uid}"
        )
        if held is not None:
            return held
        services.mfa_factor_reset(command, tenant=self.tenant, actor=self.actor, account=account)
        return Response(status=204)

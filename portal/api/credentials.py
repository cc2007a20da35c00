"""The tenant's API credentials as a native resource (docs/api.md): list, create, rotate,
revoke. Administration: only a credential whose scopes name `admin` reaches it (an empty
scope list does not). A secret leaves the server once, in the answer that made it; a list
shows its last four characters only.

The writes are the CredentialCreate, CredentialRotate and CredentialRevoke commands the
console and the management commands build, so their events and the credential cache's
invalidation are the same on every path."""

from datetime import datetime
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from portal import services
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
    moment_of,
    page_body,
    page_size_of,
    reason_and_ticket,
)
from portal.errors import FieldError, InvalidInput
from portal.models import ApiCredential, Tenant
from portal.tenant_commands import (
    DEFAULT_OVERLAP_SECONDS,
    CredentialCreate,
    CredentialRevoke,
    CredentialRotate,
)

TAG = ["Credentials"]


def credential_of(*, tenant: Tenant, credential_id: str) -> ApiCredential:
    """The tenant's credential with this id; another tenant's, or none: 404 (`not_found`)."""
    if not credential_id.isdigit() or int(credential_id) >= 2**63:
        raise Http404
    credential = ApiCredential.objects.filter(tenant=tenant, pk=int(credential_id)).first()
    if credential is None:
        raise Http404
    return credential


def credential_json(credential: ApiCredential, *, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": credential.pk,
        "label": credential.label,
        "scopes": list(credential.scopes or []),
        "secret_hint": credential.secret_hint,
        "created_at": moment(credential.created),
        "expires_at": moment(credential.expires_at),
        "revoked_at": moment(credential.revoked_at),
        "last_used_at": moment(credential.last_used_at),
        "usable": credential.is_usable,
        "requires_approval": credential.requires_approval,
        "masks_personal_data": credential.masks_personal_data,
    }
    if secret is not None:
        body["secret"] = secret
    return body


def _object(body: Any, allowed: tuple[str, ...]) -> dict:
    if not isinstance(body, dict):
        raise InvalidInput("The body is a JSON object.")
    unknown = [key for key in body if key not in allowed]
    if unknown:
        raise InvalidInput(
            field_errors=[
                FieldError(key, "The resource has no such field.", "unknown") for key in unknown
            ]
        )
    return body


def _create_command(body: dict, *, reason: str, ticket: str) -> CredentialCreate:
    """The body read as JSON types; the rules of a credential (scopes, label length, an end
    of life in the future) are the service's."""
    problems: list[FieldError] = []
    label = body.get("label", "")
    if not isinstance(label, str):
        problems.append(FieldError("label", "Text of at most 200 characters.", "invalid"))
    scopes = body.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        problems.append(
            FieldError(
                "scopes",
                f"A list of sections among {', '.join(ApiCredential.SECTIONS)} (none: every "
                "section but admin).",
                "invalid",
            )
        )
    expires_at = body.get("expires_at")
    moment_: datetime | None = None
    if expires_at is not None and not isinstance(expires_at, str):
        problems.append(
            FieldError("expires_at", "A future RFC 3339 date-time with an offset.", "invalid")
        )
    elif expires_at is not None:
        moment_ = moment_of("expires_at", expires_at)
    held = body.get("requires_approval", False)
    if not isinstance(held, bool):
        problems.append(FieldError("requires_approval", "true or false.", "invalid"))
    masks = body.get("masks_personal_data", False)
    if not isinstance(masks, bool):
        problems.append(FieldError("masks_personal_data", "true or false.", "invalid"))
    if problems:
        raise InvalidInput(field_errors=problems)
    return CredentialCreate(
        label=label,
        scopes=tuple(dict.fromkeys(scopes)),
        expires_at=moment_,
        requires_approval=held is True,
        masks_personal_data=masks is True,
        reason=reason,
        ticket=ticket,
    )


_CREDENTIAL_FIELDS = {
    "id": serializers.IntegerField(),
    "label": serializers.CharField(),
    "scopes": serializers.ListField(child=serializers.CharField()),
    "secret_hint": serializers.CharField(),
    "created_at": serializers.DateTimeField(),
    "expires_at": serializers.DateTimeField(allow_null=True),
    "revoked_at": serializers.DateTimeField(allow_null=True),
    "last_used_at": serializers.DateTimeField(allow_null=True),
    "usable": serializers.BooleanField(),
    "requires_approval": serializers.BooleanField(),
    "masks_personal_data": serializers.BooleanField(),
}
_CREDENTIAL = inline_serializer("NativeCredential", _CREDENTIAL_FIELDS)
_ISSUED = inline_serializer(
    "NativeIssuedCredential", {**_CREDENTIAL_FIELDS, "secret": serializers.CharField()}
)
_CREATE = inline_serializer(
    "NativeCredentialInput",
    {
        "label": serializers.CharField(required=False),
        "scopes": serializers.ListField(child=serializers.CharField(), required=False),
        "expires_at": serializers.DateTimeField(required=False, allow_null=True),
        "requires_approval": serializers.BooleanField(required=False),
        "masks_personal_data": serializers.BooleanField(required=False),
    },
)
_ROTATE = inline_serializer(
    "NativeCredentialRotation", {"overlap_seconds": serializers.IntegerField(required=False)}
)
_EXAMPLE = {
    "id": 12,
    "label": "billing backend",
    "scopes": ["accounts", "tokens"],
    "secret_hint": "9f3a",
    "created_at": "2026-12-07T04:00:00.000Z",
    "expires_at": None,
    "revoked_at": None,
    "last_used_at": "2026-12-07T05:00:00.000Z",
    "usable": True,
    "requires_approval": False,
    "masks_personal_data": False,
}
_ISSUED_EXAMPLE = {**_EXAMPLE, "secret": "6c1f0d2e-8a7b-4c3d-9e1f-2a3b4c5d9f3a"}


class CredentialListView(NativeAPIView):
    """The tenant's API credentials (revoked ones included), oldest first; POST makes one."""

    section = "admin"
    query_parameters = ("after", "page_size")

    @extend_schema(
        tags=TAG,
        operation_id="credentials_list",
        summary="The tenant's API credentials",
        parameters=[AFTER, PAGE_SIZE],
        responses={200: list_of("NativeCredentialList", _CREDENTIAL)},
        examples=[list_example(_EXAMPLE)],
    )
    def get(self, request):
        page_size, after = page_size_of(request), after_of(request)
        credentials = ApiCredential.objects.filter(tenant=self.tenant)
        rows = list(credentials.filter(pk__gt=after).order_by("pk")[: page_size + 1])
        body = page_body(
            request,
            [credential_json(row) for row in rows[:page_size]],
            count=credentials.count(),
            more=len(rows) > page_size,
            last_id=rows[page_size - 1].pk if len(rows) > page_size else after,
        )
        return self.respond(body, project=False)

    @extend_schema(
        tags=TAG,
        operation_id="credentials_create",
        summary="Create an API credential",
        description="Answers 201 with the secret, shown this once.",
        parameters=[REASON, TICKET],
        request=_CREATE,
        responses={201: _ISSUED},
        examples=[
            OpenApiExample(
                "A scoped credential",
                request_only=True,
                value={"label": "billing backend", "scopes": ["accounts", "tokens"]},
            ),
            OpenApiExample(
                "Issued", response_only=True, status_codes=["201"], value=_ISSUED_EXAMPLE
            ),
        ],
    )
    def post(self, request):
        body = _object(
            self.body_json(),
            ("label", "scopes", "expires_at", "requires_approval", "masks_personal_data"),
        )
        issued = services.credential_create(
            _create_command(body, **reason_and_ticket(request)),
            tenant=self.tenant,
            actor=self.actor,
        )
        return self.respond(
            credential_json(issued.credential, secret=issued.raw_secret), status=201, project=False
        )


class CredentialDetailView(NativeAPIView):
    """One API credential: DELETE revokes it now (revoking a revoked one changes nothing)."""

    section = "admin"

    @extend_schema(
        tags=TAG,
        operation_id="credential_revoke",
        summary="Revoke an API credential now",
        parameters=[REASON, TICKET],
        request=None,
        responses={204: None},
    )
    def delete(self, request, credential_id):
        credential = credential_of(tenant=self.tenant, credential_id=credential_id)
        services.credential_revoke(
            CredentialRevoke(credential_id=credential.pk, **reason_and_ticket(request)),
            tenant=self.tenant,
            actor=self.actor,
        )
        return Response(status=204)


class CredentialRotateView(NativeAPIView):
    """Replace a credential by a new one with the same label, scopes and end of life."""

    section = "admin"

    @extend_schema(
        tags=TAG,
        operation_id="credential_rotate",
        summary="Rotate an API credential",
        description="Answers 201 with the new credential and its secret, shown this once. The old "
        "secret keeps working for `overlap_seconds` (24 hours when left out; 0: revoked now). "
        "`X-Reason` is required: it is recorded with the rotation.",
        parameters=[REASON, TICKET],
        request=_ROTATE,
        responses={201: _ISSUED},
        examples=[
            OpenApiExample(
                "One hour of overlap", request_only=True, value={"overlap_seconds": 3600}
            ),
            OpenApiExample(
                "Issued", response_only=True, status_codes=["201"], value=_ISSUED_EXAMPLE
            ),
        ],
    )
    def post(self, request, credential_id):
        credential = credential_of(tenant=self.tenant, credential_id=credential_id)
        body = _object(self.body_json(), ("overlap_seconds",))
        overlap = body.get("overlap_seconds", DEFAULT_OVERLAP_SECONDS)
        why = reason_and_ticket(request)
        problems = []
        if not why["reason"].strip():
            problems.append(FieldError("X-Reason", "Give a reason for the rotation.", "required"))
        ceiling = int(services.MAX_ROTATION_OVERLAP.total_seconds())
        if isinstance(overlap, bool) or not isinstance(overlap, int) or not 0 <= overlap <= ceiling:
            problems.append(
                FieldError("overlap_seconds", f"Whole seconds from 0 to {ceiling}.", "invalid")
            )
        if problems:
            raise InvalidInput(field_errors=problems)
        if not credential.is_usable:
            raise InvalidInput(
                "This credential is revoked or expired: create a new one instead.",
                field_errors=[FieldError("credential_id", "Revoked or expired.", "not_usable")],
            )
        issued = services.credential_rotate(
            CredentialRotate(credential_id=credential.pk, overlap_seconds=overlap, **why),
            tenant=self.tenant,
            actor=self.actor,
        )
        return self.respond(
            credential_json(issued.credential, secret=issued.raw_secret), status=201, project=False
        )

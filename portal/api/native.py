"""The native API's conventions (docs/api.md) in one base view, for `/api/v1/` resources.

- Errors are RFC 9457 problem details (portal/api/problems.py), whatever raised them: a
  domain error, an authentication refusal of the shared wire layer, or DRF's parsing.
- A query parameter the resource does not declare answers 400: `?emial=x` must not list
  every account.
- A single resource carries an `ETag` (its version); `PATCH` and `DELETE` honour `If-Match`,
  handed to the service as the command's `expected_version`, so a stale one answers 412.
"""

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, inline_serializer
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.response import Response

from portal import approval_gate, idempotency, masking
from portal.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX, problem_for
from portal.commands import Command
from portal.errors import DomainError, FieldError, InvalidInput
from portal.lrapi.errors import LRError
from portal.lrapi.exceptions import as_lr_error
from portal.lrapi.parsers import LenientJSONParser, MergePatchParser
from portal.lrapi.views import LRAPIView, is_json_content_type
from portal.openapi import NativeAutoSchema

logger = logging.getLogger("portal.api")

# Query parameters every resource accepts: the wire layer's ways of passing the credential.
AUTHENTICATION_PARAMETERS = frozenset({"apikey", "apisecret"})

# Stable problem codes for the refusals the shared wire layer raises before a handler runs.
LOGINRADIUS_PROBLEM_CODES = {
    901: "credential.api_key_invalid",
    902: "credential.api_secret_invalid",
    921: "credential.api_secret_invalid",
    923: "credential.api_secret_required",
    1143: "credential.scope_refused",
    429: "rate_limited",
    106: "rate_limited",
    404: "not_found",
    405: "method_not_allowed",
    1083: "media_type_unsupported",
    1090: "body_malformed",
    1091: "body_malformed",
    1092: "body_malformed",
    1093: "body_malformed",
    950: "internal_error",
}


def problem_from_loginradius(error: LRError, *, instance: str) -> Response:
    code = LOGINRADIUS_PROBLEM_CODES.get(error.error_code, f"loginradius.{error.error_code}")
    body = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": error.message,
        "status": error.status_code,
        "detail": error.description,
        "code": code,
        "instance": instance,
    }
    response = Response(body, status=error.status_code, content_type=PROBLEM_MEDIA_TYPE)
    for name, value in error.headers.items():
        response[name] = value
    return response


class IdempotentReplay(Exception):
    """The request repeats an earlier one with the same Idempotency-Key and body: answer
    what the first answered, without running the handler again."""

    def __init__(self, stored: dict):
        super().__init__("idempotent replay")
        self.stored = stored

    def response(self) -> Response:
        headers = dict(self.stored.get("headers", {}))
        # The renderer sets Content-Type when the answer is rendered: name it up front, so
        # a replayed problem stays application/problem+json.
        content_type = headers.pop("Content-Type", None)
        if content_type and content_type.startswith("text/html"):
            content_type = None  # Django's default, stored by earlier releases: not named
        response = Response(
            self.stored["body"], status=self.stored["status"], content_type=content_type
        )
        for name, value in headers.items():
            response[name] = value
        response["Idempotent-Replayed"] = "true"
        return response


# Headers of a first response that a replay repeats.
REPLAYED_HEADERS = ("ETag", "Location", "Retry-After")


def replayed_headers(response) -> dict[str, str]:
    """The headers of `response` a replay repeats, and its Content-Type when it was named
    (a problem's): otherwise the renderer's, which the replay's renderer sets again. Until
    it is rendered, a response's Content-Type header is only Django's default."""
    headers = {h: response[h] for h in REPLAYED_HEADERS if response.has_header(h)}
    if getattr(response, "content_type", None):
        headers["Content-Type"] = response.content_type
    return headers


def native_exception_handler(exc, context):
    """Every refusal of a native resource as problem details."""
    request = context.get("request")
    instance = getattr(request, "path", "")
    if isinstance(exc, IdempotentReplay):
        return exc.response()
    if isinstance(exc, DomainError):
        problem = problem_for(exc, instance=instance)
        response = Response(problem.body, status=problem.status, content_type=PROBLEM_MEDIA_TYPE)
        for name, value in problem.headers.items():
            response[name] = value
        return response
    if isinstance(exc, (Http404, drf.NotFound)):
        return problem_from_loginradius(LRError(404), instance=instance)
    error = as_lr_error(exc, getattr(request, "method", "GET"))
    if error is None:
        correlation_id = getattr(request, "request_id", "") or uuid.uuid4().hex
        logger.exception("unhandled error in %s %s", getattr(request, "method", "?"), instance)
        error = LRError(
            950,
            f"An unknown error occurred; quote correlation id {correlation_id} when reporting it.",
        )
    return problem_from_loginradius(error, instance=instance)


def etag_of(version: str) -> str:
    """A strong ETag naming a resource version."""
    return f'"{version}"'


def expected_version_from(if_match: str | None) -> str | None:
    """The version an `If-Match` header names (None without one, or for `*`). A list names
    its first ETag; a weak one (`W/"..."`) compares as its version."""
    if not if_match or if_match.strip() == "*":
        return None
    first = if_match.split(",", 1)[0].strip()
    if first.startswith("W/"):
        first = first[2:]
    return first.strip('"')


class NativeAPIView(LRAPIView):
    """A `/api/v1/` resource. `query_parameters`: the names it reads from the query string
    (besides the credential's); any other name answers 400 before the handler runs."""

    query_parameters: Iterable[str] = ()
    parser_classes = [LenientJSONParser, MergePatchParser]
    schema = NativeAutoSchema()

    def accepts_content_type(self, content_type: str | None) -> bool:
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        return is_json_content_type(content_type) or media_type == MergePatchParser.media_type

    def get_exception_handler(self):
        return native_exception_handler

    # (credential id, key) of this request's claimed Idempotency-Key, if any.
    idempotency: tuple[int, str] | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        allowed = AUTHENTICATION_PARAMETERS | frozenset(self.query_parameters)
        unknown = sorted(name for name in request.query_params if name.lower() not in allowed)
        if unknown:
            raise InvalidInput(
                f"Unknown query parameter: {', '.join(unknown)}.",
                field_errors=[
                    FieldError(name, "This resource has no such query parameter.", "unknown")
                    for name in unknown
                ],
            )
        key = request.headers.get("Idempotency-Key")
        if key is not None and request.method == "POST":
            self.claim_idempotency_key(request, key)

    def claim_idempotency_key(self, request, key: str) -> None:
        credential = self.principal.credential
        credential_id = credential.pk if credential is not None else 0
        query = sorted(
            (name, value)
            for name, value in request.query_params.items()
            if name.lower() not in AUTHENTICATION_PARAMETERS
        )
        fingerprint = idempotency.request_hash(
            method=request.method, path=f"{request.path}?{query}", body=request.body
        )
        stored = idempotency.idempotency_claim(
            credential_id=credential_id, key=key, fingerprint=fingerprint
        )
        if stored is not None:
            raise IdempotentReplay(stored)
        self.idempotency = (credential_id, key)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # A staff-facing credential reads personal data masked, in every answer (a replay too).
        principal = getattr(self, "principal", None)
        policy = masking.masking_of_credential(getattr(principal, "credential", None))
        if policy.masked and isinstance(getattr(response, "data", None), dict | list):
            response.data = masking.by_field(policy, "", response.data)
        if self.idempotency is not None:
            credential_id, key = self.idempotency
            self.idempotency = None
            if response.status_code >= 500:
                idempotency.idempotency_release(credential_id=credential_id, key=key)
            else:
                idempotency.idempotency_complete(
                    credential_id=credential_id,
                    key=key,
                    status=response.status_code,
                    body=getattr(response, "data", None),
                    headers=replayed_headers(response),
                )
        return response

    @property
    def expected_version(self) -> str | None:
        return expected_version_from(self.request.headers.get("If-Match"))

    def respond_versioned(self, data, *, version: str, status: int = 200) -> Response:
        response = Response(data, status=status)
        response["ETag"] = etag_of(version)
        return response


PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200


def page_size_of(request) -> int:
    """The `page_size` query parameter: 1 to PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT when absent."""
    raw = request.query_params.get("page_size")
    if raw is None:
        return PAGE_SIZE_DEFAULT
    if not raw.isdigit() or not 1 <= int(raw) <= PAGE_SIZE_MAX:
        raise InvalidInput(
            field_errors=[
                FieldError("page_size", f"A whole number from 1 to {PAGE_SIZE_MAX}.", "invalid")
            ]
        )
    return int(raw)


def url_with(request, **changes: str | None) -> str:
    """The request's absolute URL with query parameters replaced (None removes one). A
    secret passed in the query is never echoed into a link."""
    query = request.query_params.copy()
    for name in [name for name in query if name.lower() == "apisecret"]:
        query.pop(name)
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    encoded = query.urlencode()
    return request.build_absolute_uri(request.path + (f"?{encoded}" if encoded else ""))


def list_body(
    results: list, *, count: int, next_url: str | None, previous_url: str | None = None
) -> dict:
    """Every native list: `{"count", "next", "previous", "results"}`."""
    return {"count": count, "next": next_url, "previous": previous_url, "results": results}


def rfc3339(moment_: datetime) -> str:
    """A time as the native API writes it: RFC 3339 in UTC with milliseconds and `Z`."""
    return moment_.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def moment(value: datetime | None) -> str | None:
    """RFC 3339 UTC with a `Z`, or None."""
    return rfc3339(value) if value is not None else None


def moment_of(name: str, raw: str | None) -> datetime | None:
    """A query or body time (RFC 3339 with an offset; `Z` or a `+` sent unescaped as a
    space both read), or None when absent."""
    if raw is None:
        return None
    try:
        moment_ = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        moment_ = None
    if moment_ is None or moment_.tzinfo is None:
        raise InvalidInput(
            field_errors=[FieldError(name, "An RFC 3339 date-time with an offset.", "invalid")]
        )
    return moment_


def query_parameter(name: str, description: str) -> OpenApiParameter:
    """An optional query parameter of a native operation, for the schema."""
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=description)


def after_of(request) -> int:
    """The `after` cursor: the id of the last item read (0 or absent: from the start)."""
    raw = request.query_params.get("after")
    if raw is None:
        return 0
    if not raw.isdigit() or int(raw) >= 2**63:
        raise InvalidInput(
            field_errors=[FieldError("after", "The id of the last item read.", "invalid")]
        )
    return int(raw)


def page_body(request, results: list, *, count: int, more: bool, last_id: Any) -> dict:
    """A list page whose `next` link continues after `last_id` when there is more."""
    return list_body(
        results, count=count, next_url=url_with(request, after=str(last_id)) if more else None
    )


def reason_and_ticket(request) -> dict[str, str]:
    """The `X-Reason` and `X-Ticket` headers of a write, as a command's fields."""
    return {
        "reason": request.headers.get("X-Reason", ""),
        "ticket": request.headers.get("X-Ticket", ""),
    }


def list_of(name: str, item) -> Any:
    """The schema of a native list of `item`."""
    return inline_serializer(
        name,
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializers.ListField(child=item),
        },
    )


def list_example(item: dict) -> OpenApiExample:
    """The response example of a native list: one page holding `item`."""
    return OpenApiExample(
        "A page",
        response_only=True,
        value={"count": 1, "next": None, "previous": None, "results": [item]},
    )


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag the change was made against; a stale one answers 412.",
)
REASON = OpenApiParameter(
    "X-Reason", str, OpenApiParameter.HEADER, required=False, description="Why (recorded)."
)
TICKET = OpenApiParameter(
    "X-Ticket", str, OpenApiParameter.HEADER, required=False, description="Ticket (recorded)."
)
AFTER = OpenApiParameter(
    "after",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description="The id of the last item read (exclusive); 0 or absent: the first.",
)
PAGE_SIZE = OpenApiParameter(
    "page_size", OpenApiTypes.STR, OpenApiParameter.QUERY, description="1 to 200 (50)."
)


def held_for_approval(
    view: "NativeAPIView",
    command: Command,
    *,
    account_uid: str = "",
    summary: str = "",
    selected: int | None = None,
) -> Response | None:
    """202 with the approval request when the caller's credential is marked as needing
    approval and the tenant's policy holds `command` (docs/api.md, "Approvals"); None: the
    view runs it now. Only the native API asks: the LoginRadius paths are never held."""
    credential = view.principal.credential
    if credential is None or not credential.requires_approval:
        return None
    held = approval_gate.hold(
        command=command,
        tenant=view.tenant,
        actor=view.actor,
        account_uid=account_uid,
        summary=summary,
        selected=selected,
    )
    if held is None:
        return None
    response = Response(held, status=202)
    response["Location"] = f"/api/v1/approvals/{held['id']}"
    return response

"""The native API's face of the domain errors: RFC 9457 problem details.

`{"type", "title", "status", "detail", "code"}`, with `errors: [{"field", "message",
"code"}]` when fields were wrong, served as application/problem+json. The status follows
the error's kind; `title` is constant per error, `detail` is this occurrence's sentence.

The /api/v1/ paths still answer the LoginRadius envelope today (they share the one
exception handler and its tests); this is the rendering they move to.
"""

from dataclasses import dataclass, field
from typing import Any

from django.http import JsonResponse

from portal.errors import DomainError, Kind

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:portal:problem:"

KIND_STATUS: dict[Kind, int] = {
    Kind.INVALID: 400,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.PRECONDITION: 412,
    Kind.FORBIDDEN: 403,
    Kind.TOO_MANY: 429,
    Kind.MISMATCH: 422,
}


@dataclass(frozen=True)
class Problem:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def problem_for(error: DomainError, *, instance: str | None = None) -> Problem:
    """The problem document of a domain error (`instance`: the request path, if known)."""
    status = KIND_STATUS[error.kind]
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + error.code,
        "title": error.title,
        "status": status,
        "detail": error.message,
        "code": error.code,
    }
    if instance:
        body["instance"] = instance
    if error.field_errors:
        body["errors"] = [
            {"field": f.field, "message": f.message, "code": f.code} for f in error.field_errors
        ]
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else {}
    return Problem(status=status, body=body, headers=headers)


def problem_response(error: DomainError, *, instance: str | None = None) -> JsonResponse:
    problem = problem_for(error, instance=instance)
    response = JsonResponse(problem.body, status=problem.status, content_type=PROBLEM_MEDIA_TYPE)
    for name, value in problem.headers.items():
        response[name] = value
    return response

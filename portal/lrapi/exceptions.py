"""One exception handler: every API error leaves as a LoginRadius error body; a named
domain error answers through its LoginRadius mapping (portal/lrapi/domain_errors.py)."""

import logging
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from portal.errors import DomainError
from portal.lrapi.domain_errors import lr_error
from portal.lrapi.errors import LRError, error_body
from portal.lrapi.parsers import MALFORMED_BODY_CODE

logger = logging.getLogger("portal.api")


def is_legacy_path(path: str) -> bool:
    return path.lower().startswith("/api/v2/")


def as_lr_error(exc: Exception, method: str) -> LRError | None:
    """The LoginRadius error an exception answers as, or None for an unexpected one."""
    if isinstance(exc, LRError):
        return exc
    if isinstance(exc, DomainError):
        return lr_error(exc)
    if isinstance(exc, drf.UnsupportedMediaType):
        return LRError(1083)
    if isinstance(exc, drf.ParseError):
        return LRError(MALFORMED_BODY_CODE.get(method, 1090))
    if isinstance(exc, drf.MethodNotAllowed):
        return LRError(405, f"The method {method} is not supported by this endpoint.")
    if isinstance(exc, drf.Throttled):
        wait = int(exc.wait or 1)
        return LRError(429, headers={"Retry-After": str(wait)})
    if isinstance(exc, (Http404, drf.NotFound)):
        return LRError(404)
    if isinstance(exc, drf.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return LRError(
            1134,
            errors=[
                {
                    "FieldName": str(name),
                    "ErrorMessage": " ".join(
                        str(m) for m in (msgs if isinstance(msgs, list) else [msgs])
                    ),
                }
                for name, msgs in detail.items()
            ],
        )
    if isinstance(exc, ValidationError):
        return LRError(
            1134,
            errors=[
                {"FieldName": k, "ErrorMessage": " ".join(v)} for k, v in exc.message_dict.items()
            ]
            if hasattr(exc, "error_dict")
            else [{"FieldName": "", "ErrorMessage": m} for m in exc.messages],
        )
    if isinstance(exc, (drf.PermissionDenied, PermissionDenied)):
        return LRError(1143)
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return LRError(902)
    return None


def unknown_error(request) -> LRError:
    correlation_id = getattr(request, "request_id", "") or uuid.uuid4().hex
    return LRError(
        950,
        f"An unknown error occurred; quote correlation id {correlation_id} when reporting it.",
        data={"CorrelationId": correlation_id},
    )


def exception_handler(exc, context):
    request = context.get("request")
    method = getattr(request, "method", "GET")
    error = as_lr_error(exc, method)
    if error is None:
        logger.exception("unhandled error in %s %s", method, getattr(request, "path", "?"))
        error = unknown_error(request)
    legacy = is_legacy_path(getattr(request, "path", ""))
    response = Response(error.body(lower_camel=legacy), status=error.status_code)
    for name, value in error.headers.items():
        response[name] = value
    return response


def json_error_response(request, code: int, **kwargs) -> JsonResponse:
    error = LRError(code, **kwargs)
    return JsonResponse(
        error.body(lower_camel=is_legacy_path(request.path)), status=error.status_code
    )


def api_not_found(request, exception=None):
    return json_error_response(request, 404)


def api_server_error(request):
    error = unknown_error(request)
    return JsonResponse(error.body(lower_camel=is_legacy_path(request.path)), status=500)


__all__ = ["error_body", "exception_handler"]

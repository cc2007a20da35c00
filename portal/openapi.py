"""Schema post-processing: the error responses every API operation really has.

Any API call can be refused before its handler runs (missing or malformed key, 400;
wrong secret, 401; unknown key, scope or account, 403; unknown resource, 404; rate limit,
429 with Retry-After; 405 where a path parameter spells another endpoint's literal
segment), so every operation documents them with the LoginRadius error body.
Operations that answer other errors (e.g. 412) document those themselves.

Native resources (`portal.api.native.NativeAPIView`, marked by `NativeAutoSchema`) answer
RFC 9457 problem details as `application/problem+json` instead, for the same statuses and
for conflicts (409) and stale versions (412).
"""

from drf_spectacular.openapi import AutoSchema

PROBLEM_MARK = "x-portal-problem-details"

API_PREFIXES = ("/identity/", "/api/v1/", "/api/v2/", "/service/")
HTTP_METHODS = ("get", "put", "post", "delete", "patch")

ERROR_RESPONSES = {
    "400": "Invalid or missing parameter or body (LoginRadius error body)",
    "401": "Wrong API secret (902) or failed authentication",
    "403": "Unknown API key (901), credential not allowed for this section (1143), unknown or blocked account, invalid token",
    "404": "Unknown resource",
    "405": "The path also names another endpoint that does not answer this method (e.g. a uid spelled like a literal segment: account/passkey)",
    "429": "Rate limit exceeded; retry after the number of seconds in Retry-After",
}


NATIVE_ERROR_RESPONSES = {
    "400": "Invalid input, an unknown query parameter or a malformed body (`errors` names each field)",
    "401": "Wrong API secret",
    "403": "Unknown API key, or a credential not allowed for this resource",
    "404": "Unknown resource, or one of another tenant",
    "405": "Method not allowed",
    "409": "Conflict with the stored state",
    "412": "If-Match names an older version",
    "429": "Rate limit exceeded; retry after the number of seconds in Retry-After",
}
# A native POST's answers to its Idempotency-Key (409: the first request is still running).
IDEMPOTENCY_RESPONSES = {
    "409": "Conflict with the stored state, or the first request with this Idempotency-Key "
    "is still running",
    "422": "This Idempotency-Key was used with another request",
}

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
}


class NativeAutoSchema(AutoSchema):
    """Marks a native resource's operations so `add_error_responses` documents problem
    details for them."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        operation[PROBLEM_MARK] = True
        parameters = operation.setdefault("parameters", [])
        if self.method == "POST" and not any(
            p.get("name") == "Idempotency-Key" for p in parameters
        ):
            # Every native POST honours it (NativeAPIView.initial).
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        return operation


IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "Repeating a POST with the same key and body returns the first response "
    "without a second effect; the same key with another body answers 422, and while the "
    "first is still running 409. Keys are per credential and kept for 24 hours.",
}


def _error_schema(*, lower_camel: bool) -> dict:
    names = (
        (
            "description",
            "errorCode",
            "message",
            "isProviderError",
            "providerErrorResponse",
            "errors",
            "data",
        )
        if lower_camel
        else (
            "Description",
            "ErrorCode",
            "Message",
            "IsProviderError",
            "ProviderErrorResponse",
            "Errors",
            "Data",
        )
    )
    description, code, message, provider, provider_response, errors, data = names
    return {
        "type": "object",
        "required": [description, code, message, provider, provider_response],
        "properties": {
            description: {"type": "string"},
            code: {"type": "integer"},
            message: {"type": "string"},
            provider: {"type": "boolean"},
            provider_response: {"nullable": True},
            errors: {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "FieldName": {"type": "string"},
                        "ErrorMessage": {"type": "string"},
                    },
                },
            },
            data: {"nullable": True},
        },
    }


def add_error_responses(result, generator, request, public):
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("LoginRadiusError", _error_schema(lower_camel=False))
    schemas.setdefault("LoginRadiusErrorLegacy", _error_schema(lower_camel=True))
    schemas.setdefault("Problem", PROBLEM_SCHEMA)
    for path, item in result.get("paths", {}).items():
        if not path.lower().startswith(API_PREFIXES):
            continue
        name = (
            "LoginRadiusErrorLegacy" if path.lower().startswith("/api/v2/") else "LoginRadiusError"
        )
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            if operation.get("security") == [{}]:
                continue  # authenticates in its own terms (OAuth token endpoint) and documents its errors
            responses = operation.setdefault("responses", {})
            native = operation.pop(PROBLEM_MARK, False)
            errors = NATIVE_ERROR_RESPONSES if native else ERROR_RESPONSES
            if native and method == "post":
                errors = {**errors, **IDEMPOTENCY_RESPONSES}
            content_type = "application/problem+json" if native else "application/json"
            schema_name = "Problem" if native else name
            for status, description in errors.items():
                if status in responses:
                    continue
                response = {
                    "description": description,
                    "content": {
                        content_type: {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
                    },
                }
                if status == "429":
                    response["headers"] = {
                        "Retry-After": {
                            "schema": {"type": "integer"},
                            "description": "Seconds to wait",
                        }
                    }
                responses[status] = response
    return result

"""Schema post-processing: the error responses every API operation really has.

Any API call can be refused before its handler runs (missing or malformed key, 400;
wrong secret, 401; unknown key, scope or account, 403; unknown resource, 404; rate limit,
429 with Retry-After; 405 where a path parameter spells another endpoint's literal
segment), so every operation documents them with the LoginRadius error body.
Operations that answer other errors (e.g. 412) document those themselves.
"""

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
            for status, description in ERROR_RESPONSES.items():
                if status in responses:
                    continue
                response = {
                    "description": description,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
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

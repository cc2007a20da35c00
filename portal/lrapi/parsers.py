import json
import re
from typing import Any

from rest_framework.parsers import BaseParser

from portal.lrapi.errors import LRError

# LoginRadius answers malformed JSON with a code that depends on the method.
MALFORMED_BODY_CODE = {"POST": 965, "PUT": 1079, "PATCH": 1079, "DELETE": 1082}

# A lone UTF-16 surrogate can only come out of JSON through a `\uD800`-`\uDFFF` escape (raw
# UTF-8 cannot encode one), so bodies without such an escape skip the walk below.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
SURROGATE_RE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE_DESCRIPTION = "The request carries a lone UTF-16 surrogate (\\ud800-\\udfff), which is not valid Unicode text."


def has_lone_surrogate(value: Any) -> bool:
    """Whether a parsed JSON value holds a string (a value or a key) with a lone surrogate.
    Iterative, so a deeply nested value cannot exhaust the stack."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if SURROGATE_RE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse_json_body(raw: bytes, method: str) -> Any:
    """A request body as JSON (`{}` when empty), or the method's malformed-body error:
    for text that is not JSON, and for JSON whose strings are not valid Unicode (a lone
    surrogate would fail later, wherever the value is encoded: a cache key, the database,
    the response)."""
    if not raw.strip():
        return {}
    code = MALFORMED_BODY_CODE.get(method, 1090)
    try:
        value = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise LRError(code) from exc
    if _SURROGATE_ESCAPE.search(raw) and has_lone_surrogate(value):
        raise LRError(code, LONE_SURROGATE_DESCRIPTION)
    return value


class LenientJSONParser(BaseParser):
    """JSON, where an empty body means `{}` (SDKs send `{}` or nothing on GET/PUT/DELETE)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        method = getattr(request, "method", "POST")
        raw = stream.read() if stream is not None else b""
        return parse_json_body(raw, method)


class MergePatchParser(LenientJSONParser):
    """A JSON merge patch (RFC 7396) body: JSON under its own media type."""

    media_type = "application/merge-patch+json"

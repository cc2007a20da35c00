import json

from rest_framework.parsers import BaseParser

from portal.lrapi.errors import LRError

# LoginRadius answers malformed JSON with a code that depends on the method.
MALFORMED_BODY_CODE = {"POST": 965, "PUT": 1079, "PATCH": 1079, "DELETE": 1082}


class LenientJSONParser(BaseParser):
    """JSON, where an empty body means `{}` (SDKs send `{}` or nothing on GET/PUT/DELETE)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        method = getattr(request, "method", "POST")
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            return {}
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise LRError(MALFORMED_BODY_CODE.get(method, 1090)) from exc

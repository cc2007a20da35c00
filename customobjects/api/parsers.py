"""JSON parsing for custom object endpoints: bounded in size and depth before parsing."""

from rest_framework.parsers import BaseParser

from customobjects.models import HARD_MAX_BYTES
from customobjects.validation import parse_json_text
from portal.errors import MalformedJSON
from portal.lrapi.errors import LRError
from portal.lrapi.parsers import MALFORMED_BODY_CODE


def content_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def body_too_large(limit: int) -> LRError:
    return LRError(1002, f"The request body exceeds {limit} bytes.")


class GuardedJSONParser(BaseParser):
    """JSON where an empty body means `{}`; more than HARD_MAX_BYTES or deeper nesting than
    HARD_MAX_DEPTH is refused with 1002 without building the value."""

    media_type = "application/json"
    invalid_code: int | None = None  # None: LoginRadius's malformed-body code of the method

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        method = getattr(request, "method", "POST")
        code = self.invalid_code or MALFORMED_BODY_CODE.get(method, 1090)
        raw = stream.read(HARD_MAX_BYTES + 1) if stream is not None else b""
        if len(raw) > HARD_MAX_BYTES:
            raise body_too_large(HARD_MAX_BYTES)
        if not raw.strip():
            return {}
        try:
            return parse_json_text(raw)
        except MalformedJSON as exc:
            raise LRError(code) from exc


class RecordJSONParser(GuardedJSONParser):
    """A custom object body: malformed JSON is LoginRadius 1035."""

    invalid_code = 1035

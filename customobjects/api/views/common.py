"""The shared parameters of the custom-object views and their base view."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from customobjects import selectors, services
from customobjects.api.parsers import (
    RecordJSONParser,
    body_too_large,
    content_length,
)
from customobjects.models import HARD_MAX_BYTES
from portal.lrapi.errors import LRError
from portal.lrapi.views import LRAPIView

Q = OpenApiParameter.QUERY
OBJECT_NAME = OpenApiParameter(
    "objectname",
    str,
    Q,
    required=True,
    description="Name of the custom object (any case; `objectName` too).",
)
UPDATE_TYPE = OpenApiParameter(
    "updatetype",
    str,
    Q,
    enum=["replace", "partialreplace", "default"],
    description="`replace` overwrites the stored object; `partialreplace` merges top-level keys. Absent or `default`: partialreplace.",
)
CUSTOM_OBJECT_ID = OpenApiParameter(
    "customobjectid",
    str,
    Q,
    description="Id for the new record (1-64 letters, digits, `_`, `-`); a 32-hex id is generated when absent.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="ETag of the version the change is based on; 412 (ErrorCode 9412) when the record changed since.",
)
ACCESS_TOKEN = OpenApiParameter(
    "access_token", str, Q, description="The account's access token (or `Authorization: Bearer`)."
)
RECORD_BODY = OpenApiTypes.OBJECT


class CustomObjectBaseView(LRAPIView):
    """Bodies are size-checked on Content-Length before anything reads them."""

    section = "customobjects"
    parser_classes = [RecordJSONParser]
    # The request-body cap of these paths (portal.middleware.RequestBodyLimitMiddleware):
    # their own hard limit, refused as LoginRadius refuses an oversized custom object.
    request_body_max_bytes = HARD_MAX_BYTES
    request_body_too_large = staticmethod(body_too_large)

    def initial(self, request, *args, **kwargs):
        if content_length(request) > HARD_MAX_BYTES:
            raise body_too_large(HARD_MAX_BYTES)
        super().initial(request, *args, **kwargs)

    def record_body(self, object_type) -> dict[str, Any]:
        if content_length(self.request) > object_type.max_bytes:
            raise body_too_large(object_type.max_bytes)
        data = self.body_json()
        if not isinstance(data, dict):
            raise LRError(1035)
        return data

    def update_type(self) -> str:
        value = (self.query.get("updatetype") or "").strip().lower()
        if value in ("", "default", services.UPDATE_PARTIAL):
            return services.UPDATE_PARTIAL
        if value == services.UPDATE_REPLACE:
            return services.UPDATE_REPLACE
        raise LRError(908, "The updatetype must be replace, partialreplace or default.")

    def object_type(self, name: str | None = None):
        return selectors.object_type_get(
            tenant=self.tenant, name=name if name is not None else self.query.get("objectname")
        )

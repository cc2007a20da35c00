"""Base views for the LoginRadius-compatible and native APIs.

A view declares its `section` (the credential scope it needs) and, for token-side
endpoints, `auth_mode = "apikey"`. Handlers read input through `self.query` and
`self.body()`, which match names case-insensitively, and answer through `self.respond()`,
which applies the `fields` projection.
"""

from functools import cached_property
from typing import Any

from rest_framework.response import Response
from rest_framework.views import APIView

from portal.audit import Actor
from portal.lrapi import auth
from portal.lrapi.errors import LRError
from portal.lrapi.params import CIBody, CIQuery
from portal.lrapi.parsers import MALFORMED_BODY_CODE
from portal.lrapi.projection import apply_fields


class LRAPIView(APIView):
    section: str = ""
    auth_mode: str = "management"  # "management" (key + secret/signature/M2M) or "apikey"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.auth_mode == "apikey":
            principal = auth.authenticate_api_key_only(request)
        else:
            principal = auth.authenticate_management(request)
        if not self.section:
            raise RuntimeError(f"{type(self).__name__} must declare its section")
        if not principal.allows(self.section):
            raise LRError(1143)
        request.principal = principal
        self.principal = principal
        self.tenant = principal.tenant

    @cached_property
    def query(self) -> CIQuery:
        return CIQuery(self.request.GET)

    def body(self) -> CIBody:
        """The JSON body as a case-insensitive object (`{}` when absent)."""
        data = self.request.data
        if hasattr(data, "dict"):  # an empty QueryDict: no body was sent
            data = data.dict()
        if not isinstance(data, dict):
            raise LRError(MALFORMED_BODY_CODE.get(self.request.method, 1090))
        return CIBody(data)

    def body_json(self) -> Any:
        """The JSON body as sent (any JSON value), `{}` when absent."""
        data = self.request.data
        if hasattr(data, "dict"):
            return data.dict()
        return data

    @property
    def actor(self) -> Actor:
        credential = self.principal.credential
        return Actor.credential(credential) if credential else Actor.system("api")

    def respond(self, data: Any, status: int = 200, *, project: bool = True) -> Response:
        if project:
            data = apply_fields(data, self.query.get("fields"))
        return Response(data, status=status)

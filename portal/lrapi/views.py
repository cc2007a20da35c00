"""Base views for the LoginRadius-compatible and native APIs.

A view declares its `section` (the credential scope it needs) and its `auth_mode`
(management credentials by default; API key only, or API key plus an end user's access
token, for Authentication-API paths). Handlers read input through `self.query` and
`self.body()`, which match names case-insensitively, and answer through `self.respond()`,
which applies the `fields` projection.
"""

from functools import cached_property
from typing import Any

from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import ratelimit, security_model
from portal.audit import Actor
from portal.errors import DomainError
from portal.lrapi import auth
from portal.lrapi.errors import LRError
from portal.lrapi.params import CIBody, CIQuery
from portal.lrapi.parsers import MALFORMED_BODY_CODE
from portal.lrapi.projection import apply_fields

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def is_json_content_type(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == "application/json"


def _has_body(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return True


class JSONAlwaysNegotiation(BaseContentNegotiation):
    """The API answers JSON whatever `Accept` says: SDKs and curl send `*/*`, browsers
    `text/html`, and a 406 would not be a LoginRadius error body."""

    def select_parser(self, request, parsers):
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type


class LRAPIView(APIView):
    content_negotiation_class = JSONAlwaysNegotiation
    section: str = ""
    # "management": key + secret / signature / M2M (back-end calls);
    # "apikey": API key only; "access_token": API key + an end user's access token
    # (Authorization: Bearer, or `access_token` in the query or body), which sets
    # self.access_token and self.account.
    auth_mode: str = "management"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        try:
            if self.auth_mode in ("apikey", "access_token"):
                principal = auth.authenticate_api_key_only(
                    request, also_read=self._access_token_entry(request)
                )
            else:
                principal = auth.authenticate_management(request)
        except LRError as exc:
            if exc.error_code in ratelimit.AUTH_FAILURE_CODES:
                ratelimit.check_auth_failure(request)
            raise
        ratelimit.check_api_request(request, principal)
        if not self.section:
            raise RuntimeError(f"{type(self).__name__} must declare its section")
        if self.auth_mode == "access_token":
            self._authorize_access_token(request, principal)
        if not self.principal_allowed(principal):
            raise LRError(1143)
        request.principal = principal
        self.principal = principal
        self.tenant = principal.tenant
        # LoginRadius takes JSON only: a body of any other type is refused even where the
        # endpoint would not read it, so callers learn of the mistake.
        if (
            request.method in BODY_METHODS
            and _has_body(request)
            and not self.accepts_content_type(request.content_type)
        ):
            raise LRError(1083)

    def principal_allowed(self, principal) -> bool:
        """Whether the caller's credential reaches this view (its scopes name the section)."""
        return principal.allows(self.section)

    def accepts_content_type(self, content_type: str | None) -> bool:
        return is_json_content_type(content_type)

    # The security model's rule for this request's access token (access-token routes only).
    token_rule: security_model.TokenRule | None = None

    def _authorize_access_token(self, request, principal) -> None:
        """Resolve the end user's access token and let the security model decide, here and
        nowhere else, whether it may use this route."""
        from tokens.selectors import access_token_elevated_until, access_token_resolve

        rule = security_model.token_rule(
            route_name=getattr(request.resolver_match, "url_name", None), method=request.method
        )
        token = access_token_resolve(
            tenant=principal.tenant,
            token=self._access_token_value(request),
            prefetched=principal.prefetched,
        )
        security_model.authorize_token(
            rule=rule,
            token=token,
            section=self.section,
            elevated_until=lambda: access_token_elevated_until(resolved=token),
        )
        self.token_rule = rule
        self.access_token = token
        self.account = token.account

    def finalize_response(self, request, response, *args, **kwargs):
        rule = self.token_rule
        if rule is not None and rule.elevates and 200 <= response.status_code < 300:
            response = self._elevate(request, response)
        return super().finalize_response(request, response, *args, **kwargs)

    def _elevate(self, request, response):
        """A reauthentication succeeded: elevate the token it was made with (the security
        model's rule says which routes do). Refused (e.g. revoked meanwhile): that answer."""
        from tokens.services.sessions import access_token_elevate

        try:
            access_token_elevate(
                tenant=self.tenant,
                access_token=self.access_token.token,
                actor=self.actor,
                method=request.resolver_match.url_name,
            )
        except DomainError as exc:
            return self.handle_exception(exc)
        return response

    def _access_token_entry(self, request) -> str | None:
        """The cache entry of the access token in the Authorization header or the query,
        for authentication to read with the tenant (None: no such token, or not this
        mode; a token in the body is read later, once the body may be parsed)."""
        if self.auth_mode != "access_token":
            return None
        from tokens.selectors import access_token_cache_entry

        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            value = self.query.get("access_token") or ""
        return access_token_cache_entry(token=value) if value.strip() else None

    def _access_token_value(self, request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        value = self.query.get("access_token")
        if value:
            return value
        if request.method in BODY_METHODS and is_json_content_type(request.content_type):
            body = self.body_json()
            if isinstance(body, dict):
                for key, item in body.items():
                    if key.lower() == "access_token" and isinstance(item, str):
                        return item
        return None

    @cached_property
    def query(self) -> CIQuery:
        return CIQuery.of(self.request)

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
        if self.auth_mode == "access_token":
            impersonator = self.access_token.impersonator
            if impersonator is not None:
                # Audited as the impersonator acting on the account (the subject).
                return Actor.impersonating(*impersonator, uid=self.access_token.uid)
            return Actor.account(self.access_token.uid)
        credential = self.principal.credential
        return Actor.credential(credential) if credential else Actor.system("api")

    def respond(self, data: Any, status: int = 200, *, project: bool = True) -> Response:
        if project:
            data = apply_fields(data, self.query.get("fields"))
        return Response(data, status=status)

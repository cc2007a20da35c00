"""The native API's own endpoints: the calling tenant, and the OAuth2 client-credentials
token endpoint that issues M2M bearer tokens."""

import base64
import binascii
from urllib.parse import unquote_plus

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.parsers import FormParser
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import ratelimit
from portal.errors import RateLimited
from portal.lrapi import auth, m2m
from portal.lrapi.errors import LRError
from portal.lrapi.parsers import LenientJSONParser
from portal.lrapi.views import JSONAlwaysNegotiation

FIELDS_PARAMETER = OpenApiParameter(
    "fields",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description="Response projection: `a,b`, `a/b`, `a(b,c)` or `*` (names in any case).",
)


OAUTH_ERROR = inline_serializer(
    "OAuthError",
    {"error": serializers.CharField(), "error_description": serializers.CharField()},
)


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: `{"error", "error_description"}`."""

    def __init__(
        self, error: str, description: str, status: int = 400, headers: dict | None = None
    ):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}


def _basic_credentials(request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_request", "The Basic authorization header is malformed.") from exc
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_request", "The Basic authorization header is malformed.")
    # RFC 6749 §2.3.1: both parts are form-encoded before being joined.
    return unquote_plus(client_id), unquote_plus(client_secret)


class M2MTokenView(APIView):
    """OAuth2 client-credentials grant: exchange an API key (`client_id`) and API secret
    (`client_secret`) for a short-lived M2M bearer token (LoginRadius `GenerateM2MToken`)."""

    content_negotiation_class = JSONAlwaysNegotiation
    parser_classes = [LenientJSONParser, FormParser]
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        operation_id="m2m_token_create",
        summary="Generate an M2M token (OAuth2 client credentials)",
        description=(
            "`grant_type=client_credentials` with `client_id` (the API key) and `client_secret` "
            "(an API secret), in a JSON or form body or as HTTP Basic. The token is accepted as "
            "`Authorization: Bearer` on every management endpoint until it expires or its "
            "secret is revoked. A tenant with strict request signing issues no tokens "
            "(`unauthorized_client`) and refuses those issued before (1207). "
            "Errors are OAuth-style `{error, error_description}`."
        ),
        tags=["OAuth M2M"],
        auth=[{}],  # no API credentials: the client authenticates in the request itself
        request={
            "application/json": inline_serializer(
                "M2MTokenRequest",
                {
                    "grant_type": serializers.ChoiceField(["client_credentials"]),
                    "client_id": serializers.CharField(required=False),
                    "client_secret": serializers.CharField(required=False),
                    "audience": serializers.CharField(required=False),
                },
            ),
            "application/x-www-form-urlencoded": inline_serializer(
                "M2MTokenFormRequest",
                {
                    "grant_type": serializers.ChoiceField(["client_credentials"]),
                    "client_id": serializers.CharField(required=False),
                    "client_secret": serializers.CharField(required=False),
                    "audience": serializers.CharField(required=False),
                },
            ),
        },
        responses={
            200: inline_serializer(
                "M2MTokenResponse",
                {
                    "access_token": serializers.CharField(),
                    "token_type": serializers.CharField(),
                    "expires_in": serializers.IntegerField(),
                    "expire_in": serializers.CharField(
                        help_text="LoginRadius spelling of expires_in"
                    ),
                },
            ),
            (400, "application/json"): OAUTH_ERROR,
            (401, "application/json"): OAUTH_ERROR,
            (429, "application/json"): OAUTH_ERROR,
        },
        examples=[
            OpenApiExample(
                "invalid_client",
                value={
                    "error": "invalid_client",
                    "error_description": "Client authentication failed.",
                },
                response_only=True,
                status_codes=["401"],
            )
        ],
    )
    def post(self, request):
        data = request.data
        if hasattr(data, "dict"):
            data = data.dict()
        if not isinstance(data, dict):
            raise OAuthError("invalid_request", "The request body must be an object.")
        fields = {str(k).lower(): v for k, v in data.items()}
        for name in ("grant_type", "client_id", "client_secret", "audience", "scope"):
            if name in fields and not isinstance(fields[name], str):
                raise OAuthError("invalid_request", f"{name} must be a string.")

        grant_type = (fields.get("grant_type") or "").strip()
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required.")
        if grant_type != "client_credentials":
            raise OAuthError(
                "unsupported_grant_type", "Only grant_type=client_credentials is supported."
            )

        basic = _basic_credentials(request)
        if basic and (fields.get("client_id") or fields.get("client_secret")):
            raise OAuthError("invalid_request", "Send the client credentials in one place only.")
        client_id, client_secret = basic or (fields.get("client_id"), fields.get("client_secret"))
        challenge = {"WWW-Authenticate": 'Basic realm="m2m"'} if basic else {}
        if not client_id or not client_secret:
            raise OAuthError(
                "invalid_client", "client_id and client_secret are required.", 401, challenge
            )
        try:
            credential = auth.credential_for_client_credentials(
                client_id.strip(), client_secret.strip()
            )
        except LRError as exc:
            if exc.error_code == 1207:  # strict request signing: bearer tokens are not issued
                raise OAuthError(
                    "unauthorized_client",
                    "This application accepts signed requests only; it issues no M2M tokens.",
                ) from exc
            # Counted per client IP like every failed API authentication (429 once too many).
            ratelimit.check_auth_failure(request)
            raise OAuthError(
                "invalid_client", "Client authentication failed.", 401, challenge
            ) from exc

        token, lifetime = m2m.issue_token(credential)
        auth.touch(credential)
        response = Response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": lifetime,
                "expire_in": str(lifetime),
            }
        )
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response

    def handle_exception(self, exc):
        if isinstance(exc, RateLimited):
            exc = OAuthError(
                "slow_down",
                "Too many failed client authentications; retry after the "
                "interval in the Retry-After header.",
                429,
                {"Retry-After": str(exc.retry_after)},
            )
        elif isinstance(exc, (LRError, drf.ParseError)):
            exc = OAuthError("invalid_request", "The request body is not valid JSON or form data.")
        elif isinstance(exc, drf.UnsupportedMediaType):
            exc = OAuthError(
                "invalid_request",
                "Use application/x-www-form-urlencoded or application/json.",
            )
        elif isinstance(exc, drf.MethodNotAllowed):
            exc = OAuthError("invalid_request", "Use POST.", 405, {"Allow": "POST, OPTIONS"})
        if isinstance(exc, OAuthError):
            response = Response(
                {"error": exc.error, "error_description": exc.description}, status=exc.status
            )
            for name, value in exc.headers.items():
                response[name] = value
            response["Cache-Control"] = "no-store"
            return response
        return super().handle_exception(exc)

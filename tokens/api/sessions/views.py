"""The Account Session section on the wire: refresh, revoke, impersonation, the legacy
/api/v2/access_token* endpoints and the token-side validate/invalidate/info.

Token lifetimes leave as `expires_in` dates in LoginRadius's format
("2018-09-18T07:16:02.65Z"). The legacy endpoints answer with lower-camel keys where the
reference shows them (`isPosted`, `data`, `nextcursor`) and also accept the API secret
alone (`secret=`), as the SDK's exchange and refresh calls send no API key.
"""

import ipaddress
from datetime import UTC, datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.selectors import account_get
from portal.lrapi.errors import LRError, required
from portal.lrapi.views import LRAPIView
from tokens import selectors
from tokens.commands import (
    AccessTokenInvalidate,
    AccountSessionsRevoke,
    RefreshTokenRevoke,
    SessionIssue,
)
from tokens.services import sessions as services

# --- shared pieces ----------------------------------------------------------------------


def lr_datetime(value: datetime) -> str:
    """LoginRadius's date format: UTC, milliseconds without trailing zeros, a `Z`."""
    value = value.astimezone(UTC)
    millis = f"{value.microsecond // 1000:03d}".rstrip("0")
    return value.strftime("%Y-%m-%dT%H:%M:%S") + (f".{millis}" if millis else "") + "Z"


def _issued_body(issued: services.IssuedSession) -> dict:
    return {
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "expires_in": lr_datetime(issued.access_expires_at),
    }


def _device_from_request(request) -> dict:
    """The end user's IP and User-Agent: a back end may forward them in X-Origin-IP and
    X-Origin-User-Agent (the SDKs' ORIGIN_IP); otherwise those of the caller."""
    device = {}
    origin_ip = request.headers.get("X-Origin-IP", "").strip()
    try:
        device["ip"] = str(ipaddress.ip_address(origin_ip)) if origin_ip else None
    except ValueError:
        device["ip"] = None
    origin_ua = request.headers.get("X-Origin-User-Agent", "").strip()
    if origin_ua:
        device["user_agent"] = origin_ua
    return {k: v for k, v in device.items() if v}


def _param(name: str, description: str, *, required_: bool = False, type_=OpenApiTypes.STR):
    return OpenApiParameter(
        name, type_, OpenApiParameter.QUERY, required=required_, description=description
    )


TOKEN_PAIR = inline_serializer(
    "SessionTokenPair",
    {
        "access_token": serializers.CharField(help_text="Dashed GUID"),
        "refresh_token": serializers.CharField(help_text="Dashed GUID"),
        "expires_in": serializers.CharField(
            help_text="Access-token expiry, e.g. 2018-09-18T07:16:02.65Z"
        ),
    },
)
TOKEN_VALIDITY = inline_serializer(
    "SessionTokenValidity",
    {"access_token": serializers.CharField(), "expires_in": serializers.CharField()},
)
IS_DELETED = inline_serializer("SessionIsDeleted", {"IsDeleted": serializers.BooleanField()})
IS_POSTED = inline_serializer("SessionIsPosted", {"IsPosted": serializers.BooleanField()})
IS_POSTED_LEGACY = inline_serializer(
    "SessionIsPostedLegacy", {"isPosted": serializers.BooleanField()}
)
REFRESH_TOKEN = _param(
    "refresh_token", "The refresh token (the v11 Python SDK sends `refresh_Token`).", required_=True
)
ACCESS_TOKEN = _param("access_token", "The access token (or `Authorization: Bearer`).")


# --- management endpoints ---------------------------------------------------------------


class AccessTokenRefreshView(LRAPIView):
    """Rotate a refresh token into a new access/refresh pair."""

    section = "sessions"

    @extend_schema(
        operation_id="refreshAccessToken",
        tags=["Account Session"],
        parameters=[REFRESH_TOKEN],
        responses=TOKEN_PAIR,
        description="Exchanges a refresh token for a new pair; the presented refresh token stops "
        "working. Presenting it again after the tenant's grace window revokes the whole session "
        "(1217). Missing token: 1337; unknown, expired or revoked: 1217.",
    )
    def get(self, request):
        issued = services.session_refresh(
            tenant=self.tenant, refresh_token=self.query.get("refresh_token"), actor=self.actor
        )
        return self.respond(_issued_body(issued))


class RefreshTokenRevokeView(LRAPIView):
    """Revoke one refresh token: its session ends, access tokens included."""

    section = "sessions"

    @extend_schema(
        operation_id="revokeRefreshToken",
        tags=["Account Session"],
        parameters=[REFRESH_TOKEN],
        responses=IS_DELETED,
        description="Ends the session of a live refresh token, its access tokens included. "
        "Missing token: 1337; unknown, rotated, expired or another tenant's: 1217.",
    )
    def get(self, request):
        services.session_revoke(
            RefreshTokenRevoke(
                refresh_token=self.query.get("refresh_token"),
                reason=self.query.get("reason") or "",
            ),
            tenant=self.tenant,
            actor=self.actor,
        )
        return self.respond({"IsDeleted": True})


class AccountRefreshTokensRevokeView(LRAPIView):
    """Revoke every session of an account."""

    section = "sessions"

    @extend_schema(
        operation_id="revokeAllRefreshToken",
        tags=["Account Session"],
        request=None,
        parameters=[_param("reason", "Why (kept in the audit log).")],
        responses=IS_DELETED,
        description="Revokes every refresh and access token of the account (938 if unknown).",
    )
    def delete(self, request, uid):
        account = account_get(tenant=self.tenant, uid=uid)
        services.account_sessions_revoke(
            AccountSessionsRevoke(reason=self.query.get("reason") or ""),
            tenant=self.tenant,
            account=account,
            actor=self.actor,
        )
        return self.respond({"IsDeleted": True})


class ImpersonationTokenView(LRAPIView):
    """A session opened on an account's behalf by a back end or support lead."""

    section = "accounts"

    @extend_schema(
        operation_id="getImpersonationToken",
        tags=["Accounts"],
        parameters=[
            _param("uid", "The account's UID.", required_=True),
            _param("reason", "Why the token is needed; recorded with the actor in the audit log."),
        ],
        responses=TOKEN_PAIR,
        description="Issues an access and refresh token for the account; the session records the "
        "credential that asked and the reason, and the issue is audited as impersonation. The "
        "tokens never reach security, credential or contact changes and reach only the sections "
        "the asking credential may reach (docs/security-model.md).",
    )
    def get(self, request):
        account = account_get(tenant=self.tenant, uid=self.query.get("uid"))
        credential = self.principal.credential
        issued = services.session_issue(
            SessionIssue(
                reason=self.query.get("reason") or "",
                device=_device_from_request(request),
                scopes=tuple(credential.scopes)
                if credential is not None and credential.scopes
                else None,
            ),
            tenant=self.tenant,
            account=account,
            actor=self.actor,
        )
        return self.respond(_issued_body(issued))


# --- legacy /api/v2/access_token* -------------------------------------------------------


class LegacySessionView(LRAPIView):
    """Key + secret as usual; or the secret alone, which identifies its tenant (the SDK's
    exchange and refresh calls send `secret=` without a key). Both are authenticated by
    `auth.authenticate_management`, so secret-only calls are rate-limited and their
    failures counted like every other management call."""

    section = "sessions"


LEGACY_AUTH = [
    _param("key", "API key (or X-LoginRadius-ApiKey)."),
    _param("secret", "API secret (or X-LoginRadius-ApiSecret); alone, it identifies the app."),
]


class LegacyAccessTokenExchangeView(LegacySessionView):
    @extend_schema(
        operation_id="getAccessToken",
        tags=["Account Session"],
        parameters=[
            *LEGACY_AUTH,
            _param("token", "A request token from a hosted social login.", required_=True),
        ],
        responses=TOKEN_VALIDITY,
        description="Exchanges a request token from LoginRadius's hosted social login. This "
        "server hosts no social login and issues no request tokens, so after authenticating the "
        "caller every request token is answered with 905 (a missing one with 908).",
    )
    def get(self, request):
        if not (self.query.get("token") or "").strip():
            raise required("token")
        raise LRError(
            905,
            "The request token is invalid or has expired; this server issues no request tokens.",
        )


class LegacyAccessTokenRefreshView(LegacySessionView):
    @extend_schema(
        operation_id="nativeRefreshAccessToken",
        tags=["Account Session"],
        parameters=[
            *LEGACY_AUTH,
            _param("access_token", "The session's newest access token.", required_=True),
            _param(
                "expiresIn",
                "Lifetime of the new access token in minutes (at most the tenant's).",
                type_=OpenApiTypes.NUMBER,
            ),
            _param("isWeb", "Accepted for compatibility; ignored.", type_=OpenApiTypes.BOOL),
        ],
        responses=TOKEN_PAIR,
        description="Exchanges the session's newest access token (even if expired, or invalidated "
        "without preventRefresh) for a new pair, once; the session's refresh token is rotated.",
    )
    def get(self, request):
        try:
            minutes = float(self.query.get("expiresin") or 0)
        except ValueError:
            minutes = 0
        issued = services.session_refresh_by_access_token(
            tenant=self.tenant,
            access_token=self.query.get("access_token"),
            actor=self.actor,
            expires_in_minutes=minutes if minutes > 0 else None,
        )
        return self.respond(_issued_body(issued))


class LegacyAccessTokenValidateView(LegacySessionView):
    @extend_schema(
        operation_id="validateAccessToken",
        tags=["Account Session"],
        parameters=[*LEGACY_AUTH, _param("access_token", "The access token.", required_=True)],
        responses=TOKEN_VALIDITY,
        description="Answers from the cache when it can. 1060 missing, 905 unknown/revoked, 906 expired.",
    )
    def get(self, request):
        resolved = selectors.access_token_resolve(
            tenant=self.tenant, token=self.query.get("access_token")
        )
        return self.respond(
            {"access_token": resolved.token, "expires_in": lr_datetime(resolved.expires_at)}
        )


class LegacyAccessTokenInvalidateView(LegacySessionView):
    @extend_schema(
        operation_id="nativeInvalidateAccessToken",
        tags=["Account Session"],
        parameters=[
            *LEGACY_AUTH,
            _param("access_token", "The access token.", required_=True),
            _param(
                "preventRefresh",
                "Also end the session's ability to refresh.",
                type_=OpenApiTypes.BOOL,
            ),
        ],
        responses=IS_POSTED_LEGACY,
    )
    def get(self, request):
        services.access_token_invalidate(
            AccessTokenInvalidate(
                access_token=self.query.get("access_token"),
                prevent_refresh=self.query.get_bool("preventRefresh"),
            ),
            tenant=self.tenant,
            actor=self.actor,
        )
        return self.respond({"isPosted": True})


ACTIVE_SESSION = inline_serializer(
    "ActiveSessions",
    {
        "data": serializers.ListField(
            child=inline_serializer(
                "ActiveSession",
                {
                    "AccessToken": serializers.CharField(
                        help_text="Masked: only the first 8 characters are kept"
                    ),
                    "Browser": serializers.CharField(),
                    "Device": serializers.CharField(),
                    "Os": serializers.CharField(),
                    "DeviceType": serializers.CharField(),
                    "City": serializers.CharField(),
                    "Country": serializers.CharField(),
                    "Ip": serializers.CharField(),
                    "LoginDate": serializers.CharField(),
                },
            )
        ),
        "nextcursor": serializers.IntegerField(
            help_text="Pass as `cursor` for the next page; 0 = last page"
        ),
    },
)


class LegacyActiveSessionView(LegacySessionView):
    @extend_schema(
        operation_id="getActiveSession",
        tags=["Account Session"],
        parameters=[
            *LEGACY_AUTH,
            _param("token", "An access token of the account."),
            _param("accountid", "The account's UID."),
            _param("profileid", "The account's profile ID (the profile's `ID`)."),
            _param("cursor", "`nextcursor` of the previous page.", type_=OpenApiTypes.INT),
        ],
        responses=ACTIVE_SESSION,
        description="The account's live access tokens with their session's device, newest first, "
        "50 per page. Raw tokens are never stored, so `AccessToken` is masked.",
    )
    def get(self, request):
        query = self.query
        if query.get("token"):
            resolved = selectors.access_token_resolve(tenant=self.tenant, token=query.get("token"))
            account = resolved.account
        elif query.get("accountid"):
            account = account_get(tenant=self.tenant, uid=query.get("accountid"))
        elif query.get("profileid"):
            account = selectors.account_by_profile_id(
                tenant=self.tenant, profile_id=query.get("profileid")
            )
        else:
            raise LRError(908, "The token, accountid or profileid is a required parameter.")
        try:
            cursor = max(int(query.get("cursor") or 0), 0)
        except ValueError:
            raise LRError(908, "The cursor must be a number.") from None
        rows, next_cursor = selectors.active_sessions_list(
            tenant=self.tenant, account=account, cursor=cursor
        )
        data = [
            {
                "AccessToken": f"{row.hint}-****-****-****-************",
                "Browser": row.family.browser,
                "Device": row.family.device,
                "Os": row.family.os,
                "DeviceType": row.family.device_type,
                "City": row.family.city,
                "Country": row.family.country,
                "Ip": row.family.ip or "",
                "LoginDate": lr_datetime(row.family.login_date),
            }
            for row in rows
        ]
        return self.respond({"data": data, "nextcursor": next_cursor})


# --- token side (/identity/v2/auth/access_token*) ---------------------------------------


class AuthAccessTokenValidateView(LRAPIView):
    section = "sessions"
    auth_mode = "access_token"

    @extend_schema(
        operation_id="authValidateAccessToken",
        tags=["Session"],
        parameters=[ACCESS_TOKEN],
        responses=TOKEN_VALIDITY,
        description="Validates the Bearer access token (answered from the cache when it can).",
    )
    def get(self, request):
        resolved = self.access_token
        return self.respond(
            {"access_token": resolved.token, "expires_in": lr_datetime(resolved.expires_at)}
        )


class AuthAccessTokenInvalidateView(LRAPIView):
    section = "sessions"
    auth_mode = "access_token"

    @extend_schema(
        operation_id="authInValidateAccessToken",
        tags=["Session"],
        parameters=[
            ACCESS_TOKEN,
            _param(
                "preventRefresh",
                "Also end the session's ability to refresh.",
                type_=OpenApiTypes.BOOL,
            ),
        ],
        responses=IS_POSTED,
    )
    def get(self, request):
        services.access_token_invalidate(
            AccessTokenInvalidate(
                access_token=self.access_token.token,
                prevent_refresh=self.query.get_bool("preventRefresh"),
            ),
            tenant=self.tenant,
            actor=self.actor,
        )
        return self.respond({"IsPosted": True})


class AuthAccessTokenInfoView(LRAPIView):
    section = "sessions"
    auth_mode = "access_token"

    @extend_schema(
        operation_id="getAccessTokenInfo",
        tags=["Session"],
        parameters=[ACCESS_TOKEN],
        responses=inline_serializer(
            "SessionTokenInfo",
            {
                "access_token": serializers.CharField(),
                "expires_in": serializers.CharField(),
                "Uid": serializers.CharField(),
            },
        ),
        description="The Bearer access token, its expiry and the UID of its account.",
    )
    def get(self, request):
        resolved = self.access_token
        return self.respond(
            {
                "access_token": resolved.token,
                "expires_in": lr_datetime(resolved.expires_at),
                "Uid": resolved.uid,
            }
        )


class AuthSlidingTokenView(LRAPIView):
    section = "sessions"
    auth_mode = "access_token"

    @extend_schema(
        operation_id="slidingAccessToken",
        tags=["Session"],
        parameters=[ACCESS_TOKEN],
        responses=TOKEN_PAIR,
        description="Exchanges the live Bearer access token for a fresh access and refresh token "
        "of the same session; the presented access token stops working at once and the session's "
        "refresh token is rotated. 1060 missing, 905 unknown/revoked (or already slid), 906 expired.",
    )
    def get(self, request):
        issued = services.access_token_slide(
            tenant=self.tenant,
            access_token=self.access_token.token,
            actor=self.actor,
        )
        return self.respond(_issued_body(issued))

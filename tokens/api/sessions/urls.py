from portal.lrapi.routing import lr_path
from tokens.api.sessions import views as v

urlpatterns = [
    lr_path("identity/v2/manage/account/access_token/refresh/revoke", v.RefreshTokenRevokeView.as_view(), name="refresh_token_revoke"),
    lr_path("identity/v2/manage/account/access_token/refresh", v.AccessTokenRefreshView.as_view(), name="access_token_refresh"),
    lr_path("identity/v2/manage/account/access_token", v.ImpersonationTokenView.as_view(), name="access_token_impersonate"),
    lr_path("identity/v2/manage/account/<str:uid>/access_token/refresh/revoke", v.AccountRefreshTokensRevokeView.as_view(), name="account_refresh_tokens_revoke"),
    lr_path("api/v2/access_token", v.LegacyAccessTokenExchangeView.as_view(), name="legacy_access_token_exchange"),
    lr_path("api/v2/access_token/refresh", v.LegacyAccessTokenRefreshView.as_view(), name="legacy_access_token_refresh"),
    lr_path("api/v2/access_token/validate", v.LegacyAccessTokenValidateView.as_view(), name="legacy_access_token_validate"),
    lr_path("api/v2/access_token/invalidate", v.LegacyAccessTokenInvalidateView.as_view(), name="legacy_access_token_invalidate"),
    # Case-insensitive: also matches the documented `activeSession`.
    lr_path("api/v2/access_token/activesession", v.LegacyActiveSessionView.as_view(), name="legacy_active_session"),
    lr_path("identity/v2/auth/access_token/validate", v.AuthAccessTokenValidateView.as_view(), name="auth_access_token_validate"),
    lr_path("identity/v2/auth/access_token/invalidate", v.AuthAccessTokenInvalidateView.as_view(), name="auth_access_token_invalidate"),
    lr_path("identity/v2/auth/access_token/sliding_token", v.AuthSlidingTokenView.as_view(), name="auth_sliding_token"),
    lr_path("identity/v2/auth/access_token", v.AuthAccessTokenInfoView.as_view(), name="auth_access_token_info"),
]

"""Routes of the Accounts section. Literal paths (sott, identities, uid) come before
`account/<uid>`; the sections included before this one own account/access_token and
account/passkey, and tokens owns the path `identity/v2/auth/email`, served by
`TokenEmailView` (its GET, verification by token, stays key-only) and
`identity/v2/auth/account/delete`."""

from accounts.api import views as v
from accounts.api.native_account import NativeAccountView
from accounts.api.native_accounts_list import NativeAccountListView
from accounts.api.native_block import NativeAccountBlockView, NativeAccountUnblockView
from accounts.api.native_emails import NativeAccountEmailListView, NativeAccountEmailView
from accounts.api.native_identities import NativeAccountIdentityListView, NativeAccountIdentityView
from portal.lrapi.routing import lr_path

A = "identity/v2/manage/account"

urlpatterns = [
    lr_path(A, v.AccountCollectionView.as_view(), name="account_collection"),
    lr_path(f"{A}/sott", v.SottView.as_view(), name="account_sott"),
    lr_path(
        f"{A}/identities",
        v.AccountIdentitiesByEmailView.as_view(),
        name="account_identities_by_email",
    ),
    lr_path(f"{A}/uid", v.AccountUidUpdateView.as_view(), name="account_uid_update"),
    lr_path(f"{A}/<str:uid>", v.AccountDetailView.as_view(), name="account_detail"),
    lr_path(f"{A}/<str:uid>/email", v.AccountEmailView.as_view(), name="account_email"),
    lr_path(f"{A}/<str:uid>/phoneid", v.AccountPhoneView.as_view(), name="account_phone"),
    lr_path(f"{A}/<str:uid>/password", v.AccountPasswordView.as_view(), name="account_password"),
    lr_path(
        f"{A}/<str:uid>/invalidateemail",
        v.AccountInvalidateEmailView.as_view(),
        name="account_invalidate_email",
    ),
    lr_path(
        f"{A}/<str:uid>/invalidatephone",
        v.AccountInvalidatePhoneView.as_view(),
        name="account_invalidate_phone",
    ),
    lr_path(
        f"{A}/<str:uid>/privacypolicy/history",
        v.AccountPrivacyPolicyHistoryView.as_view(),
        name="account_privacy_policy_history",
    ),
    lr_path(
        f"{A}/<str:uid>/consent/logs",
        v.AccountConsentLogsView.as_view(),
        name="account_consent_logs",
    ),
    lr_path("identity/v2/auth/account", v.TokenAccountView.as_view(), name="auth_account"),
    lr_path(
        "identity/v2/auth/account/unlock",
        v.TokenAccountUnlockView.as_view(),
        name="auth_account_unlock",
    ),
    lr_path(
        "identity/v2/auth/password/change",
        v.TokenPasswordChangeView.as_view(),
        name="auth_password_change",
    ),
    lr_path(
        "identity/v2/auth/socialidentity",
        v.SocialIdentityUnlinkView.as_view(),
        name="social_identity",
    ),
    lr_path(
        "identity/v2/auth/privacypolicy/history",
        v.AuthPrivacyPolicyHistoryView.as_view(),
        name="auth_privacy_policy_history",
    ),
    lr_path("api/v1/accounts", NativeAccountListView.as_view(), name="native_accounts"),
    lr_path("api/v1/accounts/<str:uid>", NativeAccountView.as_view(), name="native_account"),
    lr_path(
        "api/v1/accounts/<str:uid>/block",
        NativeAccountBlockView.as_view(),
        name="native_account_block",
    ),
    lr_path(
        "api/v1/accounts/<str:uid>/unblock",
        NativeAccountUnblockView.as_view(),
        name="native_account_unblock",
    ),
    lr_path(
        "api/v1/accounts/<str:uid>/emails",
        NativeAccountEmailListView.as_view(),
        name="native_account_emails",
    ),
    lr_path(
        "api/v1/accounts/<str:uid>/emails/<str:email>",
        NativeAccountEmailView.as_view(),
        name="native_account_email",
    ),
    lr_path(
        "api/v1/accounts/<str:uid>/identities",
        NativeAccountIdentityListView.as_view(),
        name="native_account_identities",
    ),
    lr_path(
        "api/v1/accounts/<str:uid>/identities/<str:provider>/<str:provider_id>",
        NativeAccountIdentityView.as_view(),
        name="native_account_identity",
    ),
]

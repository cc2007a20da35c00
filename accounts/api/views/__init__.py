"""The Accounts section of the LoginRadius Account API (§1.1), the token-side account
operations (profile, emails, password change, identity unlink), one module per mechanism:
profile read/update/create/delete, emails, phone, password, identities, lists,
privacy and consent history, and the SOTT. Views parse input, call a service or selector,
and shape the response."""

from accounts.api.views.common import TAG, UID, AccountsView
from accounts.api.views.emails import AccountEmailView, AccountInvalidateEmailView
from accounts.api.views.history import (
    AccountConsentLogsView,
    AccountPrivacyPolicyHistoryView,
    AuthPrivacyPolicyHistoryView,
)
from accounts.api.views.identities import (
    SocialIdentityUnlinkView,
)
from accounts.api.views.password import AccountPasswordView
from accounts.api.views.phone import AccountInvalidatePhoneView, AccountPhoneView
from accounts.api.views.profile import (
    AccountCollectionView,
    AccountDetailView,
    AccountUidUpdateView,
)
from accounts.api.views.search import AccountIdentitiesByEmailView
from accounts.api.views.sott import SOTT_MAX_MINUTES, SottView
from accounts.api.views.token_side import (
    TokenAccountUnlockView,
    TokenAccountView,
    TokenEmailView,
    TokenPasswordChangeView,
)

__all__ = [
    "SOTT_MAX_MINUTES",
    "TAG",
    "UID",
    "AccountCollectionView",
    "AccountConsentLogsView",
    "AccountDetailView",
    "AccountEmailView",
    "AccountIdentitiesByEmailView",
    "AccountInvalidateEmailView",
    "AccountInvalidatePhoneView",
    "AccountPasswordView",
    "AccountPhoneView",
    "AccountPrivacyPolicyHistoryView",
    "AccountUidUpdateView",
    "AccountsView",
    "AuthPrivacyPolicyHistoryView",
    "SocialIdentityUnlinkView",
    "SottView",
    "TokenAccountUnlockView",
    "TokenAccountView",
    "TokenEmailView",
    "TokenPasswordChangeView",
]

"""What an end user's access token may do: decided here, enforced in one place.

`LRAPIView.initial` asks `token_rule` for the rule of every access-token route and
`authorize_token` whether the presented token may use it; no view decides for itself.
docs/security-model.md states the same model in prose.

Three kinds of access token reach the token-side (`/identity/v2/auth/...`) routes:
- **plain**: issued by a sign-in of the account itself (password, passkey, OTP, sliding,
  refresh). It reads and edits ordinary profile data;
- **elevated**: a plain token with which a token-side reauthentication (password, PIN or a
  confirmed second factor) succeeded in the last `elevation_minutes`. Only it may add,
  replace or remove a second factor, or add an email or change the primary email or phone;
- **impersonation**: opened on the account's behalf by staff or a back end (the manage
  `access_token?uid=` call, the console). It never reaches security, credential or contact
  routes, is never elevated, and reaches only the API sections of the credential that
  opened it. Its session's kind and scopes carry over to every token derived from it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from portal.lrapi.errors import LRError

ALLOW = "allow"
ELEVATED = "elevated"  # a plain token needs a recent reauthentication made with it
OWN_PROOF = "own_proof"  # the request carries its own proof (the old password)

IMPERSONATION_REFUSED = (
    "An impersonation access token cannot be used for this operation: it never reaches "
    "security, credential or contact changes."
)
ELEVATION_REQUIRED = (
    "This operation needs a recently reauthenticated access token: reauthenticate with this "
    "token (PUT /identity/v2/auth/account/reauth/password, .../reauth/pin or a confirmed second "
    "factor under .../reauth/2fa) and repeat the call within the tenant's elevation minutes."
)
SCOPE_REFUSED = (
    "This impersonation access token was issued through a credential that may not reach this "
    "section."
)
NOT_A_TOKEN_ROUTE = "This operation is not open to access tokens."


@dataclass(frozen=True)
class TokenRule:
    """What a route asks of the access token presented to it."""

    name: str
    plain: str  # ALLOW, ELEVATED or OWN_PROOF
    impersonation: bool  # may an impersonation token use it
    # Narrowed by an impersonation token's scopes; a token's own session is not: an app
    # must be able to validate, inspect, end or slide any token it was handed.
    scoped: bool = True
    # A success elevates the token it was made with.
    elevates: bool = False


OWN_SESSION = TokenRule("the token's own session", ALLOW, impersonation=True, scoped=False)
PROFILE = TokenRule("ordinary profile data", ALLOW, impersonation=True)
REAUTH_CHALLENGE = TokenRule("starting a reauthentication", ALLOW, impersonation=False)
REAUTH = TokenRule("reauthentication", ALLOW, impersonation=False, elevates=True)
FACTOR_READ = TokenRule("second-factor settings", ALLOW, impersonation=False)
FACTOR_CHANGE = TokenRule(
    "adding, replacing or removing a second factor", ELEVATED, impersonation=False
)
CONTACT_CHANGE = TokenRule(
    "adding an email, changing the primary email or phone", ELEVATED, impersonation=False
)
PASSWORD_CHANGE = TokenRule(
    "changing the password with the old one", OWN_PROOF, impersonation=False
)
IDENTITY_LINK = TokenRule("linking or unlinking identities", ALLOW, impersonation=False)
# A password or PIN set without the old one (a token-side profile update): elevation is
# the proof, as for a second factor.
CREDENTIAL_SET = TokenRule(
    "setting a password or PIN without the old one", ELEVATED, impersonation=False
)
# Asking for the account's deletion: the emailed confirmation is the proof, and the decision
# is the holder's alone.
ACCOUNT_DELETE_REQUEST = TokenRule(
    "asking to delete the account (confirmed by email)", ALLOW, impersonation=False
)
# Unlocking the account by a bot-protection challenge (not served: no captcha provider).
ACCOUNT_UNLOCK = TokenRule(
    "unlocking the account by a bot-protection challenge", ALLOW, impersonation=False
)

# A token-side profile update (PUT /identity/v2/auth/account) is ordinary profile data, but
# a field that identifies or protects the account takes the rule of that change when the body
# changes it; sent back as stored, it is ignored (for an impersonation token, which is never
# compared with a stored secret, the rule applies whenever the field is sent).
PROFILE_FIELD_RULES: dict[str, TokenRule] = {
    "Email": CONTACT_CHANGE,
    "PhoneId": CONTACT_CHANGE,
    "Password": CREDENTIAL_SET,
    "PINInfo": CREDENTIAL_SET,
    "SecurityQuestionAnswer": FACTOR_CHANGE,
}

# Every access-token route by URL name (and HTTP method where the methods differ). A route
# missing here is refused: tests/hardening/test_token_model.py checks that every route
# served with an access token is listed.
TOKEN_ROUTES: dict[str, TokenRule | dict[str, TokenRule]] = {
    # Account Session
    "auth_access_token_validate": OWN_SESSION,
    "auth_access_token_invalidate": OWN_SESSION,
    "auth_access_token_info": OWN_SESSION,
    "auth_sliding_token": OWN_SESSION,
    # Accounts and custom objects
    "auth_privacy_policy_history": PROFILE,
    "token_customobject_list": PROFILE,
    "token_customobject_detail": PROFILE,
    "social_identity": IDENTITY_LINK,
    # The account seen from its own token (a profile update also asks PROFILE_FIELD_RULES).
    "auth_account": {"GET": PROFILE, "PUT": PROFILE, "DELETE": ACCOUNT_DELETE_REQUEST},
    "auth_email": {"POST": CONTACT_CHANGE, "DELETE": CONTACT_CHANGE},
    "auth_password_change": PASSWORD_CHANGE,
    "auth_account_unlock": ACCOUNT_UNLOCK,
    # Reauthentication: the proofs elevate the token they were made with
    "reauth_trigger": REAUTH_CHALLENGE,
    "reauth_email_otp_send": REAUTH_CHALLENGE,
    "reauth_password": REAUTH,
    "reauth_pin": REAUTH,
    "reauth_otp": REAUTH,
    "reauth_backupcode": REAUTH,
    "reauth_authenticatorcode": REAUTH,
    "reauth_duo": REAUTH,
    "reauth_email_otp": REAUTH,
    "reauth_securityquestion": REAUTH,
    # Second factors. Reading the settings (and the pending authenticator seed they offer,
    # which is no factor until confirmed) needs no elevation; confirming or changing does.
    "mfa_setup": {"GET": FACTOR_READ, "PUT": FACTOR_CHANGE},
    "mfa_setup_verify_authenticatorcode": FACTOR_CHANGE,
    "mfa_setup_verify_otp": FACTOR_CHANGE,
    "mfa_setup_email_otp": FACTOR_CHANGE,
    "mfa_setup_verify_email_otp": FACTOR_CHANGE,
    "mfa_setup_securityquestion": FACTOR_CHANGE,
    "passkey_account_list": FACTOR_READ,
    "passkey_account_delete": FACTOR_CHANGE,
    "passkey_register_begin": FACTOR_CHANGE,
    "passkey_register_finish": FACTOR_CHANGE,
    "push_device_register": FACTOR_CHANGE,
}


def token_rule(*, route_name: str | None, method: str) -> TokenRule:
    """The rule of an access-token route; 1143 for a route the model does not list."""
    entry = TOKEN_ROUTES.get(route_name or "")
    if isinstance(entry, dict):
        entry = entry.get(method.upper())
    if entry is None:
        raise LRError(1143, NOT_A_TOKEN_ROUTE)
    return entry


def authorize_token(
    *, rule: TokenRule, token, section: str, elevated_until: Callable[[], datetime | None]
) -> None:
    """Refuse (1143, saying why) what `token` may not do under `rule`. `token` is a
    `tokens.selectors.ResolvedAccessToken`; `elevated_until` reads its elevation only when
    the rule asks for it."""
    if token.is_impersonation:
        if not rule.impersonation:
            raise LRError(1143, IMPERSONATION_REFUSED)
        if rule.scoped and token.scopes is not None and section not in token.scopes:
            raise LRError(1143, SCOPE_REFUSED)
        return
    if rule.plain == ELEVATED:
        until = elevated_until()
        if until is None or until <= timezone.now():
            raise LRError(1143, ELEVATION_REQUIRED)

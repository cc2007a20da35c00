"""Reads of account security. Every selector takes the tenant or an account of it."""

from django.db.models import Exists, OuterRef, QuerySet

from accounts import selectors as account_selectors
from accounts.models import Account
from portal.models import Tenant
from security.errors import OTHER_APP_REFUSALS
from security.models import (
    BackupCode,
    DuoConfig,
    OtpFactor,
    PasskeyCredential,
    PushDevice,
    SecurityAnswer,
    TotpFactor,
)


def account_for_login(*, tenant: Tenant, kind: str, login_id: str) -> Account | None:
    """The account a sign-in names (email and username in any case), or None; a malformed
    identifier names none."""
    find = {
        "email": account_selectors.account_get_by_email,
        "username": account_selectors.account_get_by_username,
        "phone": account_selectors.account_get_by_phone,
    }[kind]
    try:
        return find(tenant=tenant, **{kind: login_id.strip()})
    except OTHER_APP_REFUSALS:
        return None


def backup_codes_remaining(*, account: Account) -> int:
    return BackupCode.objects.filter(account=account, used_at__isnull=True).count()


def account_ids_by_mfa(*, tenant: Tenant | None, value: bool) -> QuerySet:
    """Ids of the accounts holding (`value` true) or not holding a second factor a sign-in
    asks for (confirmed TOTP, SMS or email OTP, security questions, push), for use as a
    subquery (the account search's `has_mfa` filter). Without `tenant` the caller's own
    queryset must scope it."""
    ref = OuterRef("pk")
    has = (
        Exists(TotpFactor.objects.filter(account=ref, confirmed=True))
        | Exists(OtpFactor.objects.filter(account=ref, confirmed=True))
        | Exists(SecurityAnswer.objects.filter(account=ref))
        | Exists(PushDevice.objects.filter(account=ref))
    )
    accounts = (
        Account.objects.filter(tenant=tenant) if tenant is not None else Account.objects.all()
    )
    return accounts.filter(has if value else ~has).values("pk")


def _mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:2]}{'*' * max(len(local) - 2, 1)}@{domain}"


def _mask_phone(value: str) -> str:
    return f"{'*' * max(len(value) - 4, 0)}{value[-4:]}"


def second_factor_challenge_json(
    *, account: Account, state: dict, token: str, expires_at: str
) -> dict:
    """The `SecondFactorAuthentication` object of a sign-in that needs a second factor."""
    factors = {
        f.channel: f.destination for f in OtpFactor.objects.filter(account=account, confirmed=True)
    }
    return {
        "SecondFactorAuthenticationToken": token,
        "ExpireIn": expires_at,
        "QRCode": None,
        "ManualEntryCode": None,
        "IsGoogleAuthenticatorVerified": state["totp"],
        "IsAuthenticatorVerified": state["totp"],
        "IsOTPAuthenticatorVerified": state["sms"],
        "IsEmailOtpAuthenticatorVerified": state["email"],
        "IsSecurityQuestionAuthenticatorVerified": state["securityquestion"],
        "IsPushAuthenticatorVerified": state["push"],
        "IsDuoAuthenticatorVerified": state["duo"],
        "OTPPhoneNo": _mask_phone(factors["sms"]) if "sms" in factors else None,
        "OTPStatus": None,
        "Email": [_mask_email(factors["email"])] if "email" in factors else [],
    }


def passkey_list_json(*, account: Account) -> list[dict]:
    return [
        {
            "Id": row.credential_id,
            "Authenticator": row.authenticator,
            "Identifier": row.identifier,
            "CreatedAt": row.created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        }
        for row in PasskeyCredential.objects.filter(account=account).order_by("created", "pk")
    ]


def account_for_identifier(*, tenant: Tenant, identifier: str) -> Account | None:
    """The account an identifier names: an email if it has "@", a phone if it starts with
    "+", a username otherwise."""
    identifier = identifier.strip()
    kind = "email" if "@" in identifier else "phone" if identifier.startswith("+") else "username"
    return account_for_login(tenant=tenant, kind=kind, login_id=identifier)


def account_emails(*, account: Account) -> list[str]:
    return [row.value for row in account.emails.all()]


def duo_config_get(*, tenant: Tenant) -> DuoConfig | None:
    """The tenant's Duo application, if it has one (enabled or not)."""
    return DuoConfig.objects.filter(tenant=tenant).first()

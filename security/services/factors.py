"""What every second factor shares: which factors an account has, the rows that make up
each one, their reset by support, and the notice sent when one is added."""

import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.expressions import BaseExpression

from accounts.models import Account
from accounts.notices import notice_send
from portal import audit, events, slots
from portal.audit import Actor
from portal.models import Tenant
from portal.rows import StandIns
from security.commands import FactorReset
from security.models import (
    DuoConfig,
    DuoEnrollment,
    OtpCode,
    OtpFactor,
    PasskeyCredential,
    PushDevice,
    SecurityAnswer,
    SecurityAnswerChange,
    TotpFactor,
)
from security.services.throttling import verifier_throttle_clear

logger = logging.getLogger("security")

# The factors an admin can reset, and the rows each one owns.
FACTORS = ("totp", "sms", "email", "securityquestion", "passkey", "push", "duo")

FACTOR_NOTICE_TEMPLATE = "factoradded"
FACTOR_NOTICE_NAMES = {
    "totp": "an authenticator app",
    "sms": "a phone number for sign-in codes",
    "email": "an email address for sign-in codes",
    "securityquestion": "security question answers",
    "passkey": "a passkey",
    "push": "a device that approves sign-ins",
}


@events.upkeep
def factor_notice_send(
    *, tenant: Tenant, account: Account, factor: str, fallback_phone: str = ""
) -> None:
    """Tell the account holder that a sign-in factor was added or replaced: the notice
    `factor.added` of the holder notices (accounts/notices.py), by email, else SMS to the
    account's phone, `fallback_phone` or the phone of a confirmed SMS factor. It names the
    kind of factor only, never its secret or address."""
    phone = (
        fallback_phone
        or OtpFactor.objects.filter(account=account, channel=OtpFactor.CHANNEL_SMS, confirmed=True)
        .values_list("destination", flat=True)
        .first()
        or ""
    )
    notice_send(
        "factor.added",
        tenant=tenant,
        account=account,
        what=FACTOR_NOTICE_NAMES.get(factor, "a sign-in method"),
        fallback_phone=phone,
    )


# The factors whose presence makes a password sign-in ask for a second one.
SIGNIN_FACTORS = ("totp", "sms", "email", "securityquestion", "push")
# The annotation prefix of mfa_state_annotations (an account field may bear a factor's name).
_HAS = "has_"
_TENANT_DUO = "tenant_requires_duo"


def _mfa_state_annotations() -> dict[str, Exists]:
    """Expressions for an Account query: whether the account has each factor, and whether
    its tenant requires Duo (duo_prompt.duo_required)."""
    account = OuterRef("pk")
    return {
        f"{_HAS}totp": Exists(TotpFactor.objects.filter(account=account, confirmed=True)),
        f"{_HAS}sms": Exists(
            OtpFactor.objects.filter(account=account, confirmed=True, channel=OtpFactor.CHANNEL_SMS)
        ),
        f"{_HAS}email": Exists(
            OtpFactor.objects.filter(
                account=account, confirmed=True, channel=OtpFactor.CHANNEL_EMAIL
            )
        ),
        f"{_HAS}securityquestion": Exists(SecurityAnswer.objects.filter(account=account)),
        f"{_HAS}passkey": Exists(PasskeyCredential.objects.filter(account=account)),
        f"{_HAS}push": Exists(PushDevice.objects.filter(account=account)),
        f"{_HAS}duo": Exists(DuoEnrollment.objects.filter(account=account)),
        _TENANT_DUO: Exists(DuoConfig.objects.filter(tenant=OuterRef("tenant_id"), enabled=True)),
    }


@dataclass(frozen=True)
class MfaState:
    """The account's factors as account_mfa_state gives them, whether a password sign-in
    must ask for a second factor, and the `extra` values mfa_state_read was asked for."""

    factors: dict[str, bool]
    required: bool
    extra: dict[str, Any]


# The parameters of the query: the account's id (a stand-in), the constants its filters
# compare with (themselves).
_PARAMETERS = StandIns(-7_431_002, OtpFactor.CHANNEL_SMS, OtpFactor.CHANNEL_EMAIL, True)
_MFA_QUERIES: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[int, ...]]] = {}


@events.reads
def mfa_state_read(*, account: Account, **extra: BaseExpression) -> MfaState:
    """The account's MfaState in one query: one per factor otherwise. `extra`: named
    expressions over the account's row read along (the same expression for the same name
    on every call). The ORM writes the SQL once per process (portal.rows): compiling its
    eight subqueries on every sign-in would cost more Python than running them."""
    key = (connection.vendor, tuple(sorted(extra)))
    query = _MFA_QUERIES.get(key)
    if query is None:
        accounts = Account.objects.filter(pk=_PARAMETERS.values[0])
        query = _MFA_QUERIES[key] = _PARAMETERS.sql(
            accounts.values(**_mfa_state_annotations(), **extra)
        )
    sql, slots_taken = query
    with connection.cursor() as cursor:
        parameters = (account.pk, *_PARAMETERS.values[1:])
        cursor.execute(sql, [parameters[slot] for slot in slots_taken])
        names = [column[0] for column in cursor.description]
        row = cursor.fetchone()
    if row is None:
        raise Account.DoesNotExist(f"account {account.pk} is gone")
    values = dict(zip(names, row, strict=True))
    factors = {name: bool(values[_HAS + name]) for name in FACTORS}
    return MfaState(
        factors=factors,
        required=any(factors[name] for name in SIGNIN_FACTORS) or bool(values[_TENANT_DUO]),
        extra={name: values[name] for name in extra},
    )


@events.reads
def account_mfa_state(*, account: Account) -> dict[str, bool]:
    """Which second factors the account has (what a sign-in must ask for)."""
    return mfa_state_read(account=account).factors


@events.reads
def account_has_mfa(*, account: Account) -> bool:
    """Whether a password sign-in of the account must ask for a second factor: it has one
    of SIGNIN_FACTORS, or its tenant requires Duo (duo_prompt.duo_required)."""
    return mfa_state_read(account=account).required


@events.reads
def factor_rows(account: Account, factor: str):
    """The rows that make up one kind of factor of the account."""
    if factor == "totp":
        return TotpFactor.objects.filter(account=account)
    if factor in ("sms", "email"):
        return OtpFactor.objects.filter(account=account, channel=factor)
    if factor == "securityquestion":
        return SecurityAnswer.objects.filter(account=account)
    if factor == "passkey":
        return PasskeyCredential.objects.filter(account=account)
    if factor == "push":
        return PushDevice.objects.filter(account=account)
    if factor == "duo":
        return DuoEnrollment.objects.filter(account=account)
    raise ValueError(f"unknown factor {factor!r}")


@transaction.atomic
@events.emits("mfa_factor.reset")
def mfa_factor_reset(
    command: FactorReset, *, tenant: Tenant, actor: Actor, account: Account
) -> int:
    """Remove one factor of the account (support: lost phone, new device). Its sessions end
    too, since they may have been opened with the factor being withdrawn: the tokens app's
    subscriber of `mfa_factor.reset` revokes them in this transaction, pointing to it."""
    factor = command.factor
    rows = factor_rows(account, factor)
    removed = rows.count()
    rows.delete()
    if factor in ("sms", "email"):
        OtpCode.objects.filter(account=account, channel=factor, used_at__isnull=True).delete()
    if factor == "securityquestion":
        SecurityAnswerChange.objects.filter(account=account).delete()
    verifier_throttle_clear(account=account, verifier=factor)
    sessions = slots.live_sessions_count(tenant=tenant, account=account)
    audit.record(
        tenant=tenant,
        actor=actor,
        action="mfa_factor.reset",
        subject_uid=account.uid,
        reason=command.reason,
        ticket=command.ticket,
        changes={
            "factor": [factor, None],
            "removed": [removed, 0],
            "sessions_revoked": [sessions, 0],
        },
    )
    return removed

"""Reads behind the account result rows and the header typeahead.

A row shows the person (name, primary email), the statuses, the second factors set up and
the last sign-in. All of it comes with the page's one query: the primary email and each
factor are correlated subqueries on indexed foreign keys, evaluated for the listed rows
only, and the lock is joined (security's accounts_with_lockout).
"""

from django.db.models import (
    Case,
    CharField,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Concat, Lower

from accounts.models import Account, AccountEmail
from accounts.selectors import custom_plans
from portal.console import selectors
from portal.models import Tenant
from security import selectors as security_selectors
from security.models import (
    AccountLockout,
    DuoEnrollment,
    OtpFactor,
    PasskeyCredential,
    PushDevice,
    SecurityAnswer,
    TotpFactor,
)

TYPEAHEAD_LIMIT = 8
# Annotation names (`mfa_<factor>`) in the order the MFA column lists them.
ROW_FACTORS = ("totp", "sms", "email", "securityquestion", "passkey", "push", "duo")
FACTOR_SHORT_LABELS = {
    "totp": "App",
    "sms": "SMS",
    "email": "Email",
    "securityquestion": "Questions",
    "passkey": "Passkey",
    "push": "Push",
    "duo": "Duo",
}


def _factor_expressions() -> dict[str, Exists]:
    account = OuterRef("pk")
    return {
        "mfa_totp": Exists(TotpFactor.objects.filter(account=account, confirmed=True)),
        "mfa_sms": Exists(
            OtpFactor.objects.filter(account=account, confirmed=True, channel=OtpFactor.CHANNEL_SMS)
        ),
        "mfa_email": Exists(
            OtpFactor.objects.filter(
                account=account, confirmed=True, channel=OtpFactor.CHANNEL_EMAIL
            )
        ),
        "mfa_securityquestion": Exists(SecurityAnswer.objects.filter(account=account)),
        "mfa_passkey": Exists(PasskeyCredential.objects.filter(account=account)),
        "mfa_push": Exists(PushDevice.objects.filter(account=account)),
        "mfa_duo": Exists(DuoEnrollment.objects.filter(account=account)),
    }


def _primary_email() -> Subquery:
    """The address typed "Primary" (any case), else the oldest one."""
    emails = AccountEmail.objects.filter(account=OuterRef("pk")).order_by(
        Case(
            When(type__iexact="primary", then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "pk",
    )
    return Subquery(emails.values("value")[:1])


def account_rows(qs: QuerySet[Account]) -> QuerySet[Account]:
    """`qs` with what a result row shows loaded in the same query: `primary_email` and a
    `mfa_<factor>` flag per factor (the lock comes from account_search)."""
    return qs.annotate(primary_email=_primary_email(), **_factor_expressions())


def factors_of(account: Account) -> list[str]:
    """The factor names set up on a row loaded through account_rows."""
    return [name for name in ROW_FACTORS if getattr(account, f"mfa_{name}", False)]


def account_typeahead(*, tenant: Tenant, query: str, limit: int = TYPEAHEAD_LIMIT) -> list[Account]:
    """Up to `limit` + 1 newest accounts matching `query` (the extra one tells the caller there
    are more), through the search box's own look-ups: one query with a small LIMIT."""
    query = (query or "").strip()
    if not query:
        return []
    # The results page's own order: the (tenant, created) index walks it newest first and
    # stops at the LIMIT (a tie-breaker column would make PostgreSQL sort every match).
    qs = selectors.account_search(tenant=tenant, query=query).order_by("-created")
    # Planned for the typed fragment: a generic plan of `LIKE $1` walks that index through
    # every account when the fragment is rare.
    with custom_plans():
        return list(qs.annotate(primary_email=_primary_email())[: limit + 1])


def account_typeahead_exact(
    *, tenant: Tenant, query: str, limit: int = TYPEAHEAD_LIMIT
) -> list[Account]:
    """The typeahead of a reader who sees people masked: only accounts the whole query names
    (UID, username, email, phone, or the full name, in any case), never a prefix or a
    fragment, so typing one more character at a time reveals nothing."""
    query = " ".join((query or "").split())
    if not query:
        return []
    lowered = query.lower()
    ids = selectors.exactly_named_ids(tenant=tenant, query=query)
    if " " in query or not ids:
        # A full name: the trigram index narrows by each word, then the whole name must match.
        named = Account.objects.filter(tenant=tenant)
        for word in lowered.split():
            named = named.filter(search_text__contains=word)
        full_names = (
            named.annotate(
                full=Lower(Concat("first_name", Value(" "), "last_name", output_field=CharField()))
            )
            .filter(full=lowered)
            .values_list("pk", flat=True)[: limit + 1]
        )
        ids += list(full_names)
    if not ids:
        return []
    qs = Account.objects.filter(tenant=tenant, pk__in=ids).order_by("-created")
    return list(
        security_selectors.accounts_with_lockout(qs).annotate(primary_email=_primary_email())[
            : limit + 1
        ]
    )


def locked_account_count(*, tenant: Tenant) -> int:
    """Accounts with a lock row: what the search's `locked=yes` filter lists."""
    return AccountLockout.objects.filter(tenant=tenant).count()


def blocked_account_count(*, tenant: Tenant) -> int:
    """Blocked accounts (the partial index on inactive accounts answers it)."""
    return Account.objects.filter(tenant=tenant, is_active=False).count()

"""Reads behind the account result rows and the header typeahead.

A row shows the person (name, primary email), the statuses, the second factors set up and
the last sign-in. The page's query loads the row's own columns and joins the lock
(security's accounts_with_lockout); the primary emails and the factors of the page's rows
follow in one query (`with_row_details`), whatever the page's size.
"""

import functools

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Concat, Lower

from accounts import text_search
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


# Where each factor of ROW_FACTORS is recorded: (name, model, extra condition, its parameter).
_FACTOR_SOURCES = (
    ("totp", TotpFactor, "confirmed", None),
    ("sms", OtpFactor, "confirmed AND channel = %s", OtpFactor.CHANNEL_SMS),
    ("email", OtpFactor, "confirmed AND channel = %s", OtpFactor.CHANNEL_EMAIL),
    ("securityquestion", SecurityAnswer, "", None),
    ("passkey", PasskeyCredential, "", None),
    ("push", PushDevice, "", None),
    ("duo", DuoEnrollment, "", None),
)


@functools.lru_cache(maxsize=64)
def _details_sql(vendor: str, count: int) -> str:
    """One statement reading the addresses and the factors set up of `count` accounts. On
    PostgreSQL their ids are one array per source, so the text is the same for any page:
    psycopg converts it once and prepares it, where an `IN (%s, ...)` list was converted
    anew for every page (a tenth of the search page's CPU). Other databases take the list."""
    ids = "= ANY(%s)" if vendor == "postgresql" else f"IN ({', '.join(['%s'] * count)})"
    emails = connection.ops.quote_name(AccountEmail._meta.db_table)
    # Table names and factor names are this module's constants; values are bound.
    parts = [f"SELECT account_id, 'address', type, value, id FROM {emails} WHERE account_id {ids}"]  # noqa: S608
    for name, model, condition, _parameter in _FACTOR_SOURCES:
        where = f"account_id {ids}" + (f" AND {condition}" if condition else "")
        table = connection.ops.quote_name(model._meta.db_table)
        parts.append(f"SELECT account_id, '{name}', '', '', 0 FROM {table} WHERE {where}")  # noqa: S608
    return " UNION ALL ".join(parts)


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


# The columns a result row reads (portal/console/tables.py AccountTable): an account row is
# wide (profile fields, custom fields), and a page of 25 loaded whole cost more than its cells.
ROW_FIELDS = (
    "uid",
    "first_name",
    "middle_name",
    "last_name",
    "username",
    "phone_id",
    "is_active",
    "email_verified",
    "last_login_date",
    "created",
    f"{security_selectors.LOCKOUT_RELATION}__locked_until",
)


def account_rows(qs: QuerySet[Account]) -> QuerySet[Account]:
    """`qs` loading only what a result row shows; a page of them then gets its primary
    emails and factors from `with_row_details` (the lock comes from account_search)."""
    return qs.only(*ROW_FIELDS)


def with_row_details(accounts: list[Account]) -> list[Account]:
    """`accounts` (a page of account_rows) with `primary_email` and a `mfa_<factor>` flag per
    factor set, in one query for the page: as correlated subqueries of the page's query,
    they cost their compiling and planning on every page, more than running them."""
    if not accounts:
        return accounts
    by_id = {account.pk: account for account in accounts}
    vendor = connection.vendor
    ids = [list(by_id)] if vendor == "postgresql" else list(by_id)
    params: list = [*ids]
    for _name, _model, _condition, parameter in _FACTOR_SOURCES:
        params.extend(ids)
        if parameter is not None:
            params.append(parameter)
    with connection.cursor() as cursor:
        cursor.execute(_details_sql(vendor, len(by_id)), params)
        rows = cursor.fetchall()
    emails: dict[int, tuple[bool, str]] = {}
    found = set()
    # Addresses oldest first: the one typed "Primary" (any case), else the oldest.
    for account_id, kind, email_type, value, _row_id in sorted(rows, key=lambda row: row[4]):
        if kind != "address":
            found.add((account_id, kind))
            continue
        primary = (email_type or "").lower() == "primary"
        if account_id not in emails or (primary and not emails[account_id][0]):
            emails[account_id] = (primary, value)
    for account_id, account in by_id.items():
        account.primary_email = emails.get(account_id, (False, None))[1]
        for name in ROW_FACTORS:
            setattr(account, f"mfa_{name}", (account_id, name) in found)
    return accounts


def factors_of(account: Account) -> list[str]:
    """The factor names set up on a row given its details by with_row_details."""
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
            named = text_search.containing_word(named, word=word)
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

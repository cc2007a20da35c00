"""Reads of accounts. Every selector takes the tenant: another tenant's UID is "not found"."""

import json
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import JSONField, Prefetch, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import profile_fields as pf
from accounts.extensions import profile_fields
from accounts.models import (
    Account,
    AccountEmail,
    AccountIdentity,
    AccountIdentityEmail,
    ConsentLog,
    PrivacyPolicyAcceptance,
)
from portal.errors import AccountNotFound, FieldError, FieldRequired, InvalidInput
from portal.models import Tenant
from portal.rows import StandIns, check_columns, column_names, instances

_EMAIL_FIELDS = ("id", "tenant_id", "type", "value", "verified", "created")
_IDENTITY_FIELDS = ("id", "tenant_id", "provider", "provider_id", "profile", "created")


# The jsonb column `accounts_with_profile` and `accounts_with_emails` add to each account:
# {"emails": [...], "identities": [...], <profile field key>: value, ...}, the rows as they
# were when the account was read.
LOADED_PROFILE = "loaded_profile"


def _loaded(account: Account) -> dict:
    """What the account's query loaded with it (see LOADED_PROFILE); empty if nothing."""
    loaded = getattr(account, LOADED_PROFILE, None)
    if isinstance(loaded, str):  # a raw query's column arrives as text
        loaded = json.loads(loaded)
        setattr(account, LOADED_PROFILE, loaded)
    return loaded or {}


def account_email_rows(account: Account) -> list[dict[str, Any]]:
    """The account's emails (type, value, verified) in creation order: the rows loaded with
    the account when its query loaded them, else its (prefetched) emails."""
    loaded = _loaded(account)
    if "emails" in loaded:
        return loaded["emails"]
    return [
        {"type": e.type, "value": e.value, "verified": e.verified} for e in account.emails.all()
    ]


def _rows_sql(model, fields) -> str:
    """A jsonb array of `model`'s rows (these fields, by id) of the outer query's account."""
    qn = connection.ops.quote_name
    table, outer = qn(model._meta.db_table), qn(Account._meta.db_table)
    columns = ", ".join(f"'{name}', r.{qn(model._meta.get_field(name).column)}" for name in fields)
    # Only model metadata goes into this text, never input.
    return (
        f"(SELECT COALESCE(jsonb_agg(jsonb_build_object({columns}) ORDER BY r.{qn('id')}), '[]'::jsonb) "  # noqa: S608
        f"FROM {table} r WHERE r.{qn('account_id')} = {outer}.{qn('id')})"
    )


_PROFILE_SQL: dict[tuple, str] = {}


def _profile_sql() -> str:
    """One jsonb value with the account's emails, identities and the registered profile
    fields (accounts.extensions). Written as SQL once per process and set of fields: the
    same annotation built from ORM expressions costs more Python per request (compiling
    a subquery each) than the round trips it saves."""
    fields = profile_fields()
    sql = _PROFILE_SQL.get(fields)
    if sql is None:
        qn = connection.ops.quote_name
        account_id = f"{qn(Account._meta.db_table)}.{qn('id')}"
        parts = [
            f"'emails', {_rows_sql(AccountEmail, _EMAIL_FIELDS)}",
            f"'identities', {_rows_sql(AccountIdentity, _IDENTITY_FIELDS)}",
            # A key is a checked identifier (register_profile_field), never input.
            *(f"'{field.key}', {field.sql(outer_account_id=account_id)}" for field in fields),
        ]
        sql = _PROFILE_SQL[fields] = f"jsonb_build_object({', '.join(parts)})"
    return sql


def accounts_with_profile(tenant: Tenant) -> QuerySet[Account]:
    """Accounts of `tenant` with what `account_profile` reads: on PostgreSQL in the same
    query (emails, identities and the sections' profile fields as one jsonb column),
    elsewhere emails and identities prefetched."""
    return accounts_loaded_for_profile(Account.objects.filter(tenant=tenant))


def accounts_loaded_for_profile(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """`accounts` with what `account_profile` reads (see `accounts_with_profile`)."""
    if connection.vendor != "postgresql":
        related = [field.related for field in profile_fields() if field.related]
        if related:  # (select_related() without names would follow every foreign key)
            accounts = accounts.select_related(*related)
        return accounts.prefetch_related(
            Prefetch("emails", queryset=AccountEmail.objects.order_by("id")),
            Prefetch("identities", queryset=AccountIdentity.objects.order_by("id")),
        )
    return accounts.annotate(
        **{LOADED_PROFILE: RawSQL(_profile_sql(), (), output_field=JSONField())}  # noqa: S611 (model metadata only)
    )


def account_profile_page(
    *, accounts: QuerySet[Account], before: int, limit: int
) -> tuple[list[Account], bool]:
    """Up to `limit` of `accounts` (newest first) whose id is below `before` (0: from the
    newest), each loaded for `account_profile`, and whether more follow. One query on
    PostgreSQL; elsewhere one more per related list (emails, identities) and per section
    field read for the whole page, never one per account."""
    page = accounts_loaded_for_profile(accounts).order_by("-id")
    if before:
        page = page.filter(pk__lt=before)
    rows = list(page[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if connection.vendor != "postgresql" and rows:
        for field in profile_fields():
            if field.load_many is None or field.related:
                continue
            values = field.load_many(accounts=rows)
            for account in rows:
                loaded = _loaded(account)
                loaded[field.key] = values.get(account.pk)
                setattr(account, LOADED_PROFILE, loaded)
    return rows, more


def accounts_with_emails(qs: QuerySet[Account]) -> QuerySet[Account]:
    """`qs` with each account's emails loaded (`account_email_rows` reads them): on
    PostgreSQL in the same query (a jsonb column), elsewhere by a prefetch."""
    if connection.vendor != "postgresql":
        return qs.prefetch_related(Prefetch("emails", queryset=AccountEmail.objects.order_by("id")))
    emails = f"jsonb_build_object('emails', {_rows_sql(AccountEmail, _EMAIL_FIELDS)})"
    return qs.annotate(
        **{LOADED_PROFILE: RawSQL(emails, (), output_field=JSONField())}  # noqa: S611 (model metadata only)
    )


def _only(qs: QuerySet[Account]) -> Account | None:
    """The one account a unique look-up finds, or None. Unlike `first()` it adds no ORDER
    BY, which a unique look-up does not need and which costs compiling on every request."""
    rows = list(qs[:1])
    return rows[0] if rows else None


# How each look-up narrows a tenant's accounts to one: (accounts, tenant, value) -> accounts.
_LOOKUPS = {
    "uid": lambda qs, tenant, value: qs.filter(uid=value),
    "phone": lambda qs, tenant, value: qs.filter(phone_id=value),
    "email": lambda qs, tenant, value: qs.filter(
        pk__in=AccountEmail.objects.annotate(value_lower=Lower("value"))
        .filter(tenant=tenant, value_lower=value)
        .values("account_id")
    ),
    "username": lambda qs, tenant, value: qs.annotate(username_lower=Lower("username")).filter(
        username_lower=value
    ),
    # The profile's ID is not unique: the oldest account answers.
    "provider_id": lambda qs, tenant, value: qs.filter(provider_id=value).order_by("pk"),
}


# Each look-up's profile query on PostgreSQL, as the ORM writes it (made once per process
# and set of profile fields, `portal.rows`), and the parameter each placeholder takes.
_STAND_INS = StandIns(-7_431_001, "\x01value\x01")  # the tenant's id, the value
_PROFILE_QUERIES: dict[tuple, tuple[str, tuple[int, ...]]] = {}
_CHECKED_PROFILE_QUERIES: set[str] = set()


def _profile_query(kind: str, *, for_profile: bool = True) -> tuple[str, tuple[int, ...]]:
    key = (kind, profile_fields() if for_profile else None)
    query = _PROFILE_QUERIES.get(key)
    if query is None:
        tenant_id, value = _STAND_INS.values
        tenant = Tenant(pk=tenant_id)
        accounts = (
            accounts_with_profile(tenant) if for_profile else Account.objects.filter(tenant=tenant)
        )
        found = _LOOKUPS[kind](accounts, tenant, value)[:1]
        query = _PROFILE_QUERIES[key] = _STAND_INS.sql(found)
    return query


def _find_one(*, tenant: Tenant, kind: str, value: str, for_profile: bool) -> Account | None:
    """The account of `tenant` that look-up `kind` finds for `value`, or None. With
    `for_profile`, loaded with what `account_profile` reads (see accounts_with_profile).
    Without it, on any database, the plain look-up's SQL is also written once (a sign-in
    finds its account this way on every request)."""
    if not for_profile or connection.vendor == "postgresql":
        sql, slots = _profile_query(kind, for_profile=for_profile)
        values = (tenant.pk, value)
        with connection.cursor() as cursor:
            cursor.execute(sql, [values[slot] for slot in slots])
            row = cursor.fetchone()
            if sql not in _CHECKED_PROFILE_QUERIES:  # the row's layout, checked once
                selected = [column[0] for column in cursor.description]
                check_columns(selected, Account)
                if for_profile and selected[len(column_names(Account))] != LOADED_PROFILE:
                    raise RuntimeError(f"the profile query selects {selected!r}")
                _CHECKED_PROFILE_QUERIES.add(sql)
        if row is None:
            return None
        [account] = instances(row, Account, alias=connection.alias)
        if for_profile:
            setattr(account, LOADED_PROFILE, row[len(column_names(Account))])
        return cast(Account, account)
    return _only(_LOOKUPS[kind](accounts_with_profile(tenant), tenant, value))


def _found(account: Account | None) -> Account:
    if account is None:
        raise AccountNotFound()
    return account


def account_get(*, tenant: Tenant, uid: str | None, for_profile: bool = False) -> Account:
    """The account with this UID in this tenant; AccountNotFound, or FieldRequired without a UID."""
    if not uid or not str(uid).strip():
        raise FieldRequired("uid")
    if "\x00" in str(uid):
        raise AccountNotFound()
    return _found(
        _find_one(tenant=tenant, kind="uid", value=str(uid).strip(), for_profile=for_profile)
    )


def account_get_by_email(
    *, tenant: Tenant, email: str | None, for_profile: bool = False
) -> Account:
    if not email or not email.strip():
        raise FieldRequired("email")
    email = pf.clean_email(email)
    return _found(
        _find_one(tenant=tenant, kind="email", value=email.lower(), for_profile=for_profile)
    )


def account_get_by_username(
    *, tenant: Tenant, username: str | None, for_profile: bool = False
) -> Account:
    if not username or not username.strip():
        raise FieldRequired("username")
    if "\x00" in username:
        raise AccountNotFound()
    return _found(
        _find_one(
            tenant=tenant, kind="username", value=username.strip().lower(), for_profile=for_profile
        )
    )


def account_get_by_phone(
    *, tenant: Tenant, phone: str | None, for_profile: bool = False
) -> Account:
    if not phone or not str(phone).strip():
        raise FieldRequired("phone")
    phone_id = pf.clean_phone(phone)
    return _found(_find_one(tenant=tenant, kind="phone", value=phone_id, for_profile=for_profile))


def account_get_by_query(*, tenant: Tenant, q: str | None, for_profile: bool = False) -> Account:
    """`q=key:value` (v12): email, username, phone/phoneid, uid or id (the profile's ID)."""
    if not q or ":" not in q:
        raise InvalidInput(field_errors=[FieldError("q", "q must look like key:value.")])
    key, _, value = q.partition(":")
    key, value = key.strip().lower(), value.strip()
    if key == "email":
        return account_get_by_email(
            tenant=tenant, email=value.replace(" ", "+"), for_profile=for_profile
        )
    if key == "username":
        return account_get_by_username(tenant=tenant, username=value, for_profile=for_profile)
    if key in ("phone", "phoneid"):
        return account_get_by_phone(
            tenant=tenant, phone=value.replace(" ", "+"), for_profile=for_profile
        )
    if key == "uid":
        return account_get(tenant=tenant, uid=value, for_profile=for_profile)
    if key == "id":
        if not value or "\x00" in value:
            raise AccountNotFound()
        return _found(
            _find_one(tenant=tenant, kind="provider_id", value=value, for_profile=for_profile)
        )
    raise InvalidInput(
        field_errors=[
            FieldError("q", f"{key} is not a searchable field (email, username, phone, uid, id).")
        ]
    )


def accounts_by_email(*, tenant: Tenant, email: str | None) -> list[Account]:
    """Every account that uses `email`: as one of its emails or through a linked identity."""
    if not email or not email.strip():
        raise FieldRequired("email")
    value = pf.clean_email(email).lower()
    own = (
        AccountEmail.objects.annotate(v=Lower("value"))
        .filter(tenant=tenant, v=value)
        .values_list("account_id", flat=True)
    )
    linked = (
        AccountIdentityEmail.objects.annotate(v=Lower("value"))
        .filter(tenant=tenant, v=value)
        .values_list("identity__account_id", flat=True)
    )
    ids = set(own) | set(linked)
    return list(accounts_with_profile(tenant).filter(pk__in=ids).order_by("id")) if ids else []


# ---------------------------------------------------------------- profile JSON


def lr_datetime(value: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds and 'Z', as LoginRadius writes dates."""
    if value is None:
        return None
    value = value.astimezone(UTC) if timezone.is_aware(value) else value
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _identity_rows(account: Account) -> list[dict[str, Any]]:
    """The account's linked identities (provider, provider_id, profile) in linking order:
    the rows loaded with the account when its query loaded them, else its identities."""
    identities = _loaded(account).get("identities")
    if identities is None:
        identities = [
            {"provider": i.provider, "provider_id": i.provider_id, "profile": i.profile}
            for i in account.identities.all()
        ]
    return identities


def account_identity_providers(*, tenant: Tenant, account: Account) -> list[str]:
    """The providers of the account's linked identities, once each in linking order, spelled
    as the forgot-password and email-token responses name them (`["Facebook"]`)."""
    if account.tenant_id != tenant.pk:
        return []
    providers: list[str] = []
    for row in _identity_rows(account):
        name = str(row["provider"] or "")
        name = name[:1].upper() + name[1:]
        if name and name not in providers:
            providers.append(name)
    return providers


def _identity_json(identity: dict[str, Any]) -> dict[str, Any]:
    """An identity (its provider, provider_id and profile) as the profile JSON lists it."""
    data = {k: v for k, v in (identity["profile"] or {}).items() if str(k).lower() != "password"}
    data["Provider"] = identity["provider"]
    data["ID"] = identity["provider_id"]
    data.setdefault("Email", [])
    return data


def account_profile(*, account: Account) -> dict[str, Any]:
    """The LoginRadius profile JSON of `account` (§2.1): every listed key, null when unset.
    `Password` is always null: no response carries the hash but the password endpoint's.

    Reads only `account`, its prefetched emails and identities, and the profile fields the
    sections register (accounts.extensions; loaded with the account by
    `accounts_with_profile` on PostgreSQL, otherwise one query each). Without a section
    its key stays null, as LoginRadius shows an account without roles."""
    stored = account.profile or {}
    loaded = _loaded(account)
    emails = account_email_rows(account)
    identities = _identity_rows(account)
    full_name = account.full_name
    data: dict[str, Any] = {name: None for name in pf.SOCIAL_NULLS}
    for name in (*pf.PROFILE_STRINGS, *pf.PROFILE_ARRAYS, *pf.PROFILE_FLAGS):
        data[name] = stored.get(name)
    data.update(
        {
            "Uid": account.uid,
            "ID": account.provider_id,
            "Provider": account.registration_provider or "Email",
            "RegistrationProvider": account.registration_provider or "Email",
            "Email": [{"Type": e["type"], "Value": e["value"]} for e in emails] or None,
            "EmailVerified": account.email_verified,
            # The addresses not proved yet, in the shape of `Email`; null when there are none.
            "UnverifiedEmail": [
                {"Type": e["type"], "Value": e["value"]} for e in emails if not e["verified"]
            ]
            or None,
            "UserName": account.username,
            "PhoneId": account.phone_id,
            "PhoneIdVerified": account.phone_id_verified,
            "FirstName": account.first_name or None,
            "MiddleName": account.middle_name or None,
            "LastName": account.last_name or None,
            "FullName": full_name or None,
            "Country": stored.get("Country"),
            "CustomFields": account.custom_fields or None,
            "Roles": None,  # a section's profile field (accounts.extensions) fills it
            "PrivacyPolicy": stored.get("PrivacyPolicy"),
            "IsActive": account.is_active,
            "IsDeleted": False,
            # Sign-in locks are security's profile fields (accounts.extensions).
            "IsLoginLocked": False,
            "LoginLockedType": None,
            "IsCustomUid": account.is_custom_uid,
            "IsEmailSubscribed": account.is_email_subscribed,
            "IsPasswordBreached": False,
            "IsSecurePassword": None,
            # Never the hash: only GET .../account/{uid}/password returns it.
            "Password": None,
            "LastPasswordChangeDate": lr_datetime(account.last_password_change_date),
            "PasswordExpirationDate": None,
            "LastPasswordChangeToken": None,
            "PreviousUids": stored.get("PreviousUids"),
            "NoOfLogins": account.no_of_logins,
            "FirstLogin": account.no_of_logins <= 1,
            "PinsCount": 0,
            "SignupDate": lr_datetime(account.signup_date),
            "LastLoginDate": lr_datetime(account.last_login_date),
            "LastLoginLocation": account.last_login_location or None,
            "RegistrationSource": account.registration_source or None,
            "SessionLimit": stored.get("SessionLimit"),
            "CreatedDate": lr_datetime(account.created),
            "ModifiedDate": lr_datetime(account.modified),
            "UpdatedTime": lr_datetime(account.modified),
            "Identities": [_identity_json(i) for i in identities] or None,
        }
    )
    for field in profile_fields():
        value = loaded[field.key] if field.key in loaded else field.load(account=account)
        data[field.key] = field.show(value) if field.show else (value or None)
    return data


# ---------------------------------------------------------------- emails and identities


def _id_page(rows: QuerySet, *, after: int, limit: int) -> tuple[list, bool, int]:
    """Up to `limit` of `rows` in id order after id `after`, whether more follow, and how
    many there are in all."""
    page = list(rows.filter(pk__gt=after).order_by("id")[: limit + 1])
    return page[:limit], len(page) > limit, rows.count()


def account_email_page(
    *, account: Account, after: int, limit: int
) -> tuple[list[AccountEmail], bool, int]:
    """The account's emails in the order they were added (see `_id_page`)."""
    return _id_page(AccountEmail.objects.filter(account=account), after=after, limit=limit)


def account_email_find(*, account: Account, email: str) -> AccountEmail | None:
    """The account's email with this address (any case), or None."""
    return (
        AccountEmail.objects.annotate(v=Lower("value"))
        .filter(account=account, v=email.strip().lower())
        .first()
    )


def account_identity_page(
    *, account: Account, after: int, limit: int
) -> tuple[list[AccountIdentity], bool, int]:
    """The account's linked identities in the order they were linked (see `_id_page`)."""
    return _id_page(AccountIdentity.objects.filter(account=account), after=after, limit=limit)


# ---------------------------------------------------------------- history


def privacy_policy_history(*, tenant: Tenant, account: Account) -> dict[str, Any]:
    rows = list(PrivacyPolicyAcceptance.objects.filter(tenant=tenant, account=account))
    as_json = [
        {
            "Version": r.version,
            "AcceptSource": r.accept_source,
            "AcceptDateTime": lr_datetime(r.accepted_at),
        }
        for r in rows
    ]
    return {"Uid": account.uid, "Current": as_json[0] if as_json else None, "History": as_json[1:]}


def consent_logs(*, tenant: Tenant, account: Account) -> dict[str, Any]:
    rows = ConsentLog.objects.filter(tenant=tenant, account=account)
    return {
        "Uid": account.uid,
        "ConsentLogs": [
            {
                "Id": r.log_id,
                "UpdateType": r.update_type,
                "CurrentConsentFormsVersions": r.form_versions,
                "LoggedOnDate": lr_datetime(r.logged_at),
                "UserAgent": r.user_agent,
                "IP": r.ip,
                "Host": r.host,
                "ConsentLogs": r.consents,
            }
            for r in rows
        ],
    }


# ---------------------------------------------------------------- search


@contextmanager
def custom_plans(*, needed: bool = True):
    """With `needed`, a block whose queries PostgreSQL plans for their values on every run,
    even once psycopg has prepared them: the generic plan of the email-prefix search's
    `LIKE $1` cannot use the prefix index and walks every account. The setting lasts to
    the end of the transaction (this block's, or the caller's when it has one)."""
    if not needed or connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield


def account_search(*, tenant: Tenant, params: Any) -> QuerySet[Account]:
    """Accounts of `tenant` matching the native search filters (see accounts.filters);
    newest first. Raises InvalidInput naming the filters whose values are wrong."""
    from accounts.filters import AccountFilter

    filterset = AccountFilter(params, queryset=Account.objects.filter(tenant=tenant), tenant=tenant)
    if not filterset.is_valid():
        raise InvalidInput(
            field_errors=[
                FieldError(name, " ".join(str(m) for m in messages))
                for name, messages in filterset.errors.items()
            ]
        )
    return filterset.qs.order_by("-id")


# ---------------------------------------------------------------- version


def account_version(account: Account) -> str:
    """The account's version, as a command's `expected_version` names it: the time it was
    last changed, RFC 3339 in UTC with microseconds. Every account service moves it on."""
    return account.modified.astimezone(UTC).isoformat(timespec="microseconds")

"""Reads of accounts. Every selector takes the tenant: another tenant's UID is "not found"."""

import weakref
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import JSONField, Prefetch, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_datetime

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
from portal.db import CompiledQuery
from portal.lrapi.errors import LRError, required
from portal.models import Tenant

_EMAIL_FIELDS = ("id", "tenant_id", "type", "value", "verified", "created")
_IDENTITY_FIELDS = ("id", "tenant_id", "provider", "provider_id", "profile", "created")


class ProfileQuerySet(QuerySet):
    """Accounts loaded with their emails, identities and the sections' profile fields in the
    same row (one JSON column on PostgreSQL): each fetched account gets them as if
    prefetched, so `account.emails.all()`, `account.identities.all()` and `account_profile`
    query nothing."""

    def _fetch_all(self):
        super()._fetch_all()
        for account in self._result_cache or ():
            if isinstance(account, Account) and "_profile" in account.__dict__:
                _adopt_profile_rows(account)


def _rows(model, account: Account, items, fields) -> list:
    objs = []
    for item in items or ():
        values = {name: item.get(name) for name in fields}
        values["created"] = parse_datetime(values["created"]) if values["created"] else None
        obj = model(account_id=account.pk, **values)
        obj._state.adding, obj._state.db = False, account._state.db
        model.account.field.set_cached_value(obj, account)
        objs.append(obj)
    return objs


class _LoadedRelations(dict):
    """The `_prefetched_objects_cache` of an account whose emails and identities came as
    rows of its profile column: their model instances are built when first asked for, as
    Django's related managers and prefetching ask (item, `in`, get, pop, del). The profile
    JSON reads the rows themselves (`_loaded_rows`), so a read of one account builds none."""

    def __init__(self, account: Account, rows: dict[str, list], existing: dict):
        super().__init__(existing)
        self._account = weakref.ref(account)
        self._rows = rows

    def rows(self, name: str) -> list | None:
        """The loaded rows of relation `name` while its objects are not built, else None."""
        return self._rows.get(name)

    def _build(self, name: str):
        account, rows = self._account(), self._rows.pop(name)
        model, fields = _LOADED_RELATIONS[name]
        # With the rows taken out, the related manager finds nothing here and makes the
        # account's filtered queryset, which then holds the built objects.
        queryset = getattr(account, name).get_queryset()
        queryset._result_cache, queryset._prefetch_done = _rows(model, account, rows, fields), True
        dict.__setitem__(self, name, queryset)
        return queryset

    def _build_all(self) -> None:
        for name in list(self._rows):
            self._build(name)

    def __missing__(self, name):
        if name not in self._rows:
            raise KeyError(name)
        return self._build(name)

    def __contains__(self, name) -> bool:
        return dict.__contains__(self, name) or name in self._rows

    def get(self, name, default=None):
        if name in self._rows and not dict.__contains__(self, name):
            return self._build(name)
        return dict.get(self, name, default)

    def __setitem__(self, name, value) -> None:
        self._rows.pop(name, None)
        dict.__setitem__(self, name, value)

    def __delitem__(self, name) -> None:
        if self._rows.pop(name, None) is not None and not dict.__contains__(self, name):
            return
        dict.__delitem__(self, name)

    def pop(self, name, *default):
        if name in self._rows and not dict.__contains__(self, name):
            self._build(name)
        return dict.pop(self, name, *default)

    def clear(self) -> None:
        self._rows.clear()
        dict.clear(self)

    def __iter__(self):
        self._build_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        return dict.__len__(self) + len(self._rows)

    def keys(self):
        self._build_all()
        return dict.keys(self)

    def values(self):
        self._build_all()
        return dict.values(self)

    def items(self):
        self._build_all()
        return dict.items(self)

    def __reduce__(self):  # pickled and copied as the plain dict it stands for
        self._build_all()
        return dict, (dict(dict.items(self)),)


_LOADED_RELATIONS = {
    "emails": (AccountEmail, _EMAIL_FIELDS),
    "identities": (AccountIdentity, _IDENTITY_FIELDS),
}


def _loaded_rows(account: Account, name: str) -> list[dict] | None:
    """Relation `name` of `account` as the rows its query loaded, when they are still
    what the account holds (not built into objects, replaced or dropped); else None."""
    cached = account.__dict__.get("_prefetched_objects_cache")
    return cached.rows(name) if isinstance(cached, _LoadedRelations) else None


def _adopt_profile_rows(account: Account) -> None:
    """Hand the rows of the loaded `_profile` column to the account as prefetched (only
    those the column carries: a list page loads the emails alone)."""
    loaded = account.__dict__.pop("_profile") or {}
    rows = {name: loaded[name] or [] for name in _LOADED_RELATIONS if name in loaded}
    if rows:
        existing = account.__dict__.get("_prefetched_objects_cache") or {}
        account.__dict__["_prefetched_objects_cache"] = _LoadedRelations(account, rows, existing)
    fields = {field.key: loaded[field.key] for field in profile_fields() if field.key in loaded}
    if fields:
        account.loaded_profile_fields = fields


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
    if connection.vendor != "postgresql":
        return Account.objects.filter(tenant=tenant).prefetch_related(
            Prefetch("emails", queryset=AccountEmail.objects.order_by("id")),
            Prefetch("identities", queryset=AccountIdentity.objects.order_by("id")),
        )
    return (
        ProfileQuerySet(Account)
        .filter(tenant=tenant)
        .annotate(
            _profile=RawSQL(_profile_sql(), (), output_field=JSONField())  # noqa: S611 (model metadata only)
        )
    )


def accounts_with_emails(qs: QuerySet[Account]) -> QuerySet[Account]:
    """`qs` with each account's emails loaded as if prefetched: on PostgreSQL in the same
    query (a jsonb column), elsewhere by a prefetch."""
    if connection.vendor != "postgresql":
        return qs.prefetch_related(Prefetch("emails", queryset=AccountEmail.objects.order_by("id")))
    emails = f"jsonb_build_object('emails', {_rows_sql(AccountEmail, _EMAIL_FIELDS)})"
    return ProfileQuerySet(model=Account, query=qs.query.chain(), using=qs.db).annotate(
        _profile=RawSQL(emails, (), output_field=JSONField())  # noqa: S611 (model metadata only)
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

# Stand-ins for the two parameters while a look-up's SQL is compiled; never sent.
_TENANT_STAND_IN = -7_431_001
_VALUE_STAND_IN = "\x01value\x01"


# The profile query of each look-up and set of profile fields, compiled once per process:
# compiling the account's columns and the profile column cost more per request than
# running the query.
_PROFILE_QUERIES: dict[tuple, CompiledQuery] = {}


def _profile_query(kind: str) -> CompiledQuery:
    key = (kind, profile_fields())
    query = _PROFILE_QUERIES.get(key)
    if query is None:

        def build(tenant_id: int, value: str) -> QuerySet[Account]:
            tenant = Tenant(pk=tenant_id)
            return _LOOKUPS[kind](accounts_with_profile(tenant), tenant, value)[:1]

        query = _PROFILE_QUERIES[key] = CompiledQuery(
            build, stand_ins=(_TENANT_STAND_IN, _VALUE_STAND_IN)
        )
    return query


def _find_one(*, tenant: Tenant, kind: str, value: str, for_profile: bool) -> Account | None:
    """The account of `tenant` that look-up `kind` finds for `value`, or None. With
    `for_profile`, loaded with what `account_profile` reads (see accounts_with_profile)."""
    if not for_profile or connection.vendor != "postgresql":
        qs = accounts_with_profile(tenant) if for_profile else Account.objects.filter(tenant=tenant)
        return _only(_LOOKUPS[kind](qs, tenant, value))
    account = _profile_query(kind).first(tenant.pk, value)
    if account is not None:
        _adopt_profile_rows(account)
    return account


def _found(account: Account | None) -> Account:
    if account is None:
        raise LRError(938)
    return account


def account_get(*, tenant: Tenant, uid: str | None, for_profile: bool = False) -> Account:
    """The account with this UID in this tenant, or LoginRadius 938 (908 without a UID)."""
    if not uid or not str(uid).strip():
        raise required("uid")
    if "\x00" in str(uid):
        raise LRError(938)
    return _found(
        _find_one(tenant=tenant, kind="uid", value=str(uid).strip(), for_profile=for_profile)
    )


def account_get_by_email(
    *, tenant: Tenant, email: str | None, for_profile: bool = False
) -> Account:
    if not email or not email.strip():
        raise required("email")
    email = pf.clean_email(email)
    return _found(
        _find_one(tenant=tenant, kind="email", value=email.lower(), for_profile=for_profile)
    )


def account_get_by_username(
    *, tenant: Tenant, username: str | None, for_profile: bool = False
) -> Account:
    if not username or not username.strip():
        raise required("username")
    if "\x00" in username:
        raise LRError(938)
    return _found(
        _find_one(
            tenant=tenant, kind="username", value=username.strip().lower(), for_profile=for_profile
        )
    )


def account_get_by_phone(
    *, tenant: Tenant, phone: str | None, for_profile: bool = False
) -> Account:
    if not phone or not str(phone).strip():
        raise required("phone")
    phone_id = pf.clean_phone(phone)
    return _found(_find_one(tenant=tenant, kind="phone", value=phone_id, for_profile=for_profile))


def account_get_by_query(*, tenant: Tenant, q: str | None, for_profile: bool = False) -> Account:
    """`q=key:value` (v12): email, username, phone/phoneid, uid or id (the profile's ID)."""
    if not q or ":" not in q:
        raise LRError(
            1134, errors=[{"FieldName": "q", "ErrorMessage": "q must look like key:value."}]
        )
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
            raise LRError(938)
        return _found(
            _find_one(tenant=tenant, kind="provider_id", value=value, for_profile=for_profile)
        )
    raise LRError(
        1134,
        errors=[
            {
                "FieldName": "q",
                "ErrorMessage": f"{key} is not a searchable field (email, username, phone, uid, id).",
            }
        ],
    )


def accounts_by_email(*, tenant: Tenant, email: str | None) -> list[Account]:
    """Every account that uses `email`: as one of its emails or through a linked identity."""
    if not email or not email.strip():
        raise required("email")
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


def is_login_locked(account: Account, *, now: datetime | None = None) -> bool:
    if not account.is_login_locked:
        return False
    until = account.login_locked_until
    return until is None or until > (now or timezone.now())


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
    emails = _loaded_rows(account, "emails")
    if emails is None:
        emails = [{"type": e.type, "value": e.value} for e in account.emails.all()]
    identities = _loaded_rows(account, "identities")
    if identities is None:
        identities = [
            {"provider": i.provider, "provider_id": i.provider_id, "profile": i.profile}
            for i in account.identities.all()
        ]
    locked = is_login_locked(account)
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
            "UnverifiedEmail": None,
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
            "IsLoginLocked": locked,
            "LoginLockedType": (account.login_locked_type or None) if locked else None,
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
    loaded = getattr(account, "loaded_profile_fields", {})
    for field in profile_fields():
        value = loaded[field.key] if field.key in loaded else field.load(account=account)
        data[field.key] = value or None
    return data


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


def account_search(*, tenant: Tenant, params: Any) -> QuerySet[Account]:
    """Accounts of `tenant` matching the native search filters (see accounts.filters);
    newest first. Raises 1134 naming the filters whose values are wrong."""
    from accounts.filters import AccountFilter

    filterset = AccountFilter(params, queryset=Account.objects.filter(tenant=tenant), tenant=tenant)
    if not filterset.is_valid():
        raise LRError(
            1134,
            errors=[
                {"FieldName": name, "ErrorMessage": " ".join(str(m) for m in messages)}
                for name, messages in filterset.errors.items()
            ],
        )
    return filterset.qs.order_by("-id")

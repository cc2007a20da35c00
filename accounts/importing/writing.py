"""Writing checked rows: the identifiers the tenant already holds, bulk inserts (COPY on
PostgreSQL) and one transaction per batch with its events: the batch's `account.imported`
(counts) and, pointing to it, one `account.created` per account marked imported, so each
account's history starts where it was imported."""

import json
import os
from types import SimpleNamespace
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.importing.rows import Row
from accounts.models import Account, AccountEmail, new_uid
from accounts.services import account_search_text
from portal import audit, events
from portal.audit import Actor
from portal.models import Tenant

ACTOR = Actor.system("accounts_import")


def _any(sql: str, tenant: Tenant, values: set[str]) -> set[str]:
    if not values:
        return set()
    with connection.cursor() as c:
        c.execute(sql, [tenant.pk, list(values)])
        return {row[0] for row in c.fetchall()}


def taken_in_tenant(tenant: Tenant, rows: list[Row]) -> dict[int, str]:
    """{line: reason} for rows whose identifiers the tenant already holds (4 indexed queries)."""
    uids = {r.uid for r in rows}
    emails = {e.lower() for r in rows for _, e in r.emails}
    phones = {r.phone for r in rows if r.phone}
    names = {r.username.lower() for r in rows if r.username}
    if connection.vendor == "postgresql":
        # One array parameter per query instead of thousands of IN placeholders.
        taken_uids = _any(
            "SELECT uid FROM accounts_account WHERE tenant_id = %s AND uid = ANY(%s)", tenant, uids
        )
        taken_emails = _any(
            "SELECT lower(value) FROM accounts_accountemail WHERE tenant_id = %s "
            "AND lower(value) = ANY(%s)",
            tenant,
            emails,
        )
        taken_phones = _any(
            "SELECT phone_id FROM accounts_account WHERE tenant_id = %s AND phone_id = ANY(%s)",
            tenant,
            phones,
        )
        taken_names = _any(
            "SELECT lower(username) FROM accounts_account WHERE tenant_id = %s "
            "AND lower(username) = ANY(%s)",
            tenant,
            names,
        )
    else:
        taken_uids = set(
            Account.objects.filter(tenant=tenant, uid__in=uids).values_list("uid", flat=True)
        )
        taken_emails = (
            set(
                AccountEmail.objects.annotate(v=Lower("value"))
                .filter(tenant=tenant, v__in=emails)
                .values_list("v", flat=True)
            )
            if emails
            else set()
        )
        taken_phones = (
            set(
                Account.objects.filter(tenant=tenant, phone_id__in=phones).values_list(
                    "phone_id", flat=True
                )
            )
            if phones
            else set()
        )
        taken_names = (
            set(
                Account.objects.annotate(u=Lower("username"))
                .filter(tenant=tenant, u__in=names)
                .values_list("u", flat=True)
            )
            if names
            else set()
        )
    result = {}
    for r in rows:
        if r.uid in taken_uids:
            result[r.line] = "duplicate uid (already in the tenant)"
        elif any(e.lower() in taken_emails for _, e in r.emails):
            result[r.line] = "duplicate email (already in the tenant)"
        elif r.phone and r.phone in taken_phones:
            result[r.line] = "duplicate phone (already in the tenant)"
        elif r.username and r.username.lower() in taken_names:
            result[r.line] = "duplicate username (already in the tenant)"
    return result


def _account(tenant: Tenant, row: Row) -> Account:
    account = Account(
        tenant=tenant,
        uid=row.uid,
        is_custom_uid=row.is_custom_uid,
        username=row.username,
        phone_id=row.phone,
        phone_id_verified=row.phone_verified,
        email_verified=row.email_verified,
        password=row.password,
        first_name=row.first_name,
        middle_name=row.middle_name,
        last_name=row.last_name,
        profile=row.profile,
        custom_fields=row.custom_fields,
        is_active=row.is_active,
        is_email_subscribed=row.is_email_subscribed,
        registration_provider=row.registration_provider,
        registration_source=row.registration_source,
    )
    account.search_text = account_search_text(account, [e for _, e in row.emails])
    return account


class _Copier:
    """PostgreSQL COPY of model rows given as {attname: value}; unlisted fields take their
    model default, the primary key its identity default unless given."""

    def __init__(self, model, *, with_pk: bool) -> None:
        self.table = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        now = timezone.now()
        self.defaults = {}
        for f in self.fields:
            auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            self.defaults[f.attname] = now if auto else (None if f.primary_key else f.get_default())
        self.json = {f.attname for f in self.fields if f.get_internal_type() == "JSONField"}
        self.sql = f'COPY "{self.table}" ({", ".join(chr(34) + f.column + chr(34) for f in self.fields)}) FROM STDIN'

    def copy(self, rows: list[dict[str, Any]]) -> None:
        names = [f.attname for f in self.fields]
        with (
            connection.wrap_database_errors,
            connection.cursor() as c,
            c.cursor.copy(self.sql) as cp,
        ):
            for row in rows:
                cp.write_row(
                    [
                        json.dumps(v)
                        if (v := row.get(n, self.defaults[n])) is not None and n in self.json
                        else v
                        for n in names
                    ]
                )


_copiers: dict[str, _Copier] = {}


def _copier(model, *, with_pk: bool) -> _Copier:
    key = f"{model._meta.label}:{with_pk}"
    if key not in _copiers:
        _copiers[key] = _Copier(model, with_pk=with_pk)
    return _copiers[key]


def copy_rows(tenant: Tenant, rows: list[Row], roles: dict[str, Any]) -> None:
    """PostgreSQL: the same rows as write_rows with COPY (ids drawn from the sequence first)."""
    from roles.models import AccountRole

    with connection.cursor() as c:
        c.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Account._meta.db_table, len(rows)],
        )
        ids = [x[0] for x in c.fetchall()]
    now = timezone.now()
    accounts = []
    for pk, r in zip(ids, rows, strict=True):
        shape = SimpleNamespace(
            uid=r.uid,
            username=r.username,
            phone_id=r.phone,
            first_name=r.first_name,
            middle_name=r.middle_name,
            last_name=r.last_name,
        )
        accounts.append(
            {
                "id": pk,
                "tenant_id": tenant.pk,
                "uid": r.uid,
                "provider_id": new_uid(),
                "is_custom_uid": r.is_custom_uid,
                "username": r.username,
                "phone_id": r.phone,
                "phone_id_verified": r.phone_verified,
                "email_verified": r.email_verified,
                "password": r.password,
                "first_name": r.first_name,
                "middle_name": r.middle_name,
                "last_name": r.last_name,
                "profile": r.profile,
                "custom_fields": r.custom_fields,
                "is_active": r.is_active,
                "is_email_subscribed": r.is_email_subscribed,
                "registration_provider": r.registration_provider,
                "registration_source": r.registration_source,
                "search_text": account_search_text(shape, [e for _, e in r.emails]),
                "signup_date": now,
                "created": now,
                "modified": now,
            }
        )
    _copier(Account, with_pk=True).copy(accounts)
    _copier(AccountEmail, with_pk=False).copy(
        [
            {
                "tenant_id": tenant.pk,
                "account_id": pk,
                "type": kind,
                "value": value,
                "verified": r.email_verified,
            }
            for pk, r in zip(ids, rows, strict=True)
            for kind, value in r.emails
        ]
    )
    assignments = [
        {"tenant_id": tenant.pk, "account_id": pk, "role_id": roles[name].pk}
        for pk, r in zip(ids, rows, strict=True)
        for name in r.roles
    ]
    if assignments:
        _copier(AccountRole, with_pk=False).copy(assignments)


def write_rows(tenant: Tenant, rows: list[Row], roles: dict[str, Any]) -> None:
    """Insert `rows` (already checked) with one bulk insert per table (COPY on PostgreSQL)."""
    from roles.models import AccountRole

    if connection.vendor == "postgresql" and len(rows) > 1:
        copy_rows(tenant, rows, roles)
        return

    accounts = Account.objects.bulk_create([_account(tenant, r) for r in rows])
    if any(a.pk is None for a in accounts):  # backends that cannot return ids
        ids = dict(
            Account.objects.filter(tenant=tenant, uid__in=[a.uid for a in accounts]).values_list(
                "uid", "pk"
            )
        )
        for a in accounts:
            a.pk = ids[a.uid]
    AccountEmail.objects.bulk_create(
        [
            AccountEmail(
                tenant=tenant, account_id=a.pk, type=kind, value=value, verified=r.email_verified
            )
            for a, r in zip(accounts, rows, strict=True)
            for kind, value in r.emails
        ]
    )
    assignments = [
        AccountRole(tenant=tenant, account_id=a.pk, role=roles[name])
        for a, r in zip(accounts, rows, strict=True)
        for name in r.roles
    ]
    if assignments:
        AccountRole.objects.bulk_create(assignments)


def created_changes(row: Row) -> dict[str, Any]:
    """The imported account's creation diff, with the keys `account.created` uses
    (accounts.services.snapshot) and the roles it was given."""
    values: dict[str, Any] = {
        "Uid": row.uid,
        "UserName": row.username,
        "PhoneId": row.phone,
        "PhoneIdVerified": row.phone_verified,
        "EmailVerified": row.email_verified,
        "Email": [f"{kind}:{value}" for kind, value in row.emails],
        "FirstName": row.first_name,
        "MiddleName": row.middle_name,
        "LastName": row.last_name,
        "IsActive": row.is_active,
        "IsEmailSubscribed": row.is_email_subscribed,
        "CustomFields": dict(row.custom_fields or {}),
        "RegistrationSource": row.registration_source,
        "Roles": sorted(row.roles) or None,
    }
    for key, value in (row.profile or {}).items():
        values.setdefault(key, value)
    return audit.diff({}, values)


@events.flow("account.imported", "account.created")
def batch_commit(
    *,
    tenant: Tenant,
    rows: list[Row],
    roles: dict[str, Any],
    rejected: int,
    first_line: int,
    last_line: int,
    source: str,
) -> tuple[list[Row], list[tuple[Row, str]]]:
    """Write a batch with its audit event; if a concurrent writer took an identifier
    meanwhile, redo the batch row by row so only the clashing rows are rejected."""

    def audit_batch(written: list[Row], refused: int) -> None:
        batch = audit.record(
            tenant=tenant,
            actor=ACTOR,
            action="account.imported",
            changes={
                "imported": len(written),
                "rejected": refused,
                "first_line": first_line,
                "last_line": last_line,
                "source": os.path.basename(source),
            },
        )
        if written:
            with events.caused_by(batch.pk):
                audit.record_imported(
                    tenant=tenant,
                    actor=ACTOR,
                    action="account.created",
                    subjects=[(r.uid, created_changes(r)) for r in written],
                )

    try:
        with transaction.atomic():
            if rows:
                write_rows(tenant, rows, roles)
            audit_batch(rows, rejected)
        return rows, []
    except IntegrityError:
        pass
    good, conflicts = [], []
    with transaction.atomic():
        for r in rows:
            try:
                with transaction.atomic():
                    write_rows(tenant, [r], roles)
                good.append(r)
            except IntegrityError:
                conflicts.append((r, "duplicate identifier (taken while importing)"))
        audit_batch(good, rejected + len(conflicts))
    return good, conflicts

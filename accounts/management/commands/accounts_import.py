"""Bulk import of accounts from JSON Lines or CSV.

Each record is a LoginRadius profile (keys in any case): `Uid`, `Email` (a list of
`{"Type","Value"}`, a list of strings or one string; in CSV `a@x;b@y`), `EmailVerified`,
`PhoneId`, `PhoneIdVerified`, `UserName`, `FirstName`, `MiddleName`, `LastName`,
`Password` (a hash only: any Django hasher format, or LoginRadius's
`Rfc2898DeriveBytes$iterations$salt$hash`), `Roles` (names of existing roles; CSV
`a;b`), `CustomFields` (object; CSV: JSON text), `IsActive`, `IsEmailSubscribed`,
`RegistrationProvider`, `RegistrationSource` and the free-text and array profile fields.
Read-only and unknown keys (an exported profile carries many) are ignored.

Rows are checked, then written in batches with bulk inserts, one transaction and one
audit event (`account.imported`, counts only) per batch. A row that cannot be imported
is skipped and written to the error report (line number and reason). After each
committed batch the checkpoint file records the last line read, so `--resume` continues
after it. Passwords keep their hash: Django checks it on the first sign-in and replaces
it with the default hasher's (Argon2).
"""

import csv
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.hashers import identify_hasher
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import profile_fields as pf
from accounts.models import Account, AccountEmail, new_uid
from accounts.services import _search_text
from portal import audit
from portal.audit import Actor
from portal.lrapi.errors import LRError
from portal.models import Tenant

ACTOR = Actor.system("accounts_import")
STRING_MAX = pf.PROFILE_STRING_MAX_LENGTH
IGNORED = frozenset(k.lower() for k in pf.READ_ONLY) - {"roles"}
BOOL_FIELDS = {"emailverified", "phoneidverified", "isactive", "isemailsubscribed"}


class RowError(Exception):
    """Why one input row is not imported."""


@dataclass
class Row:
    line: int
    uid: str
    is_custom_uid: bool
    emails: list[tuple[str, str]]
    email_verified: bool = False
    phone: str | None = None
    phone_verified: bool = False
    username: str | None = None
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    password: str = ""
    roles: list[str] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    is_active: bool = True
    is_email_subscribed: bool = False
    registration_provider: str = "Email"
    registration_source: str = ""


# ---------------------------------------------------------------- reading


def find_tenant(value: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=value).first() or Tenant.objects.filter(api_key=value).first()
    if tenant is None and value.isdigit():
        tenant = Tenant.objects.filter(pk=int(value)).first()
    if tenant is None:
        raise CommandError(f"no tenant with slug, API key or id {value!r}")
    return tenant


def detect_format(path: str, fmt: str | None) -> str:
    if fmt:
        return fmt
    lower = path.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise CommandError("cannot tell the format from the file name; pass --format jsonl|csv")


def records(stream: io.TextIOBase, fmt: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, record, error) for every record of the input, in order."""
    if fmt == "jsonl":
        for number, text in enumerate(stream, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except ValueError:
                yield number, None, "not valid JSON"
                continue
            if not isinstance(value, dict):
                yield number, None, "a line must hold a JSON object"
                continue
            yield number, value, ""
        return
    reader = csv.DictReader(stream)
    for raw in reader:
        if None in raw:
            yield reader.line_num, None, "more values than header columns"
            continue
        yield reader.line_num, {k: v for k, v in raw.items() if k and v not in (None, "")}, ""


def count_lines(path: str) -> int:
    total = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            total += chunk.count(b"\n")
    return total


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", ""):
        return False
    raise RowError(f"{name} must be true or false")


def _json_text(name: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise RowError(f"{name} must be JSON") from exc
    return value


def _emails(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, str):
        text = value.strip()
        items: list[Any] = _json_text("Email", text) if text.startswith("[") else [v for v in text.split(";") if v.strip()]
    elif isinstance(value, list):
        items = value
    else:
        raise RowError("Email must be a list or a string")
    result: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, dict):
            low = pf.lower_keys(item)
            kind, address = str(low.get("type") or "Primary"), low.get("value")
        else:
            kind, address = "Primary", item
        try:
            address = pf.clean_email(address)
        except LRError as exc:
            raise RowError("bad email") from exc
        result.append((pf.canonical_email_type(kind) if kind else "Primary", address))
    return result


def _password(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return ""
    if value.startswith("!"):  # Django's unusable password
        return ""
    try:
        identify_hasher(value)
    except ValueError as exc:
        raise RowError("password is not a recognised hash (plain-text passwords are not imported)") from exc
    if len(value) > 256:
        raise RowError("password hash too long")
    return value


def _string(name: str, value: Any, max_length: int) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise RowError(f"{name} must be a string")
    text = str(value)
    if len(text) > max_length or "\x00" in text:
        raise RowError(f"{name} is too long or holds a NUL character")
    return text


def parse_row(line: int, record: dict[str, Any]) -> Row:
    """The checked row of one record; RowError names the first problem."""
    data = {str(k).strip().lower(): v for k, v in record.items()}
    uid_value = data.get("uid")
    if uid_value not in (None, ""):
        try:
            uid, custom = pf.clean_uid(uid_value), True
        except LRError as exc:
            raise RowError("bad uid") from exc
    else:
        uid, custom = new_uid(), False
    row = Row(line=line, uid=uid, is_custom_uid=custom, emails=_emails(data["email"]) if data.get("email") else [])
    for key, value in data.items():
        if value is None or key in ("uid", "email") or key in IGNORED:
            continue
        canonical = pf.KNOWN.get(key)
        if key in BOOL_FIELDS:
            setattr(row, {"emailverified": "email_verified", "phoneidverified": "phone_verified",
                          "isactive": "is_active", "isemailsubscribed": "is_email_subscribed"}[key], _bool(canonical, value))
        elif key == "phoneid":
            try:
                row.phone = pf.clean_phone(value)
            except LRError as exc:
                raise RowError("bad phone") from exc
        elif key == "username":
            row.username = _string("UserName", value, 100)
            if not pf.USERNAME_RE.match(row.username):
                raise RowError("bad username")
        elif key == "password":
            row.password = _password(value)
        elif canonical in pf.NAME_COLUMNS:
            setattr(row, pf.NAME_COLUMNS[canonical], _string(canonical, value, pf.NAME_MAX_LENGTH))
        elif key == "roles":
            names = value.split(";") if isinstance(value, str) else value
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise RowError("Roles must be a list of role names")
            row.roles = sorted({n.strip() for n in names if n.strip()})
        elif key == "customfields":
            value = _json_text("CustomFields", value)
            if not isinstance(value, dict):
                raise RowError("CustomFields must be an object")
            row.custom_fields = value
        elif key in ("registrationprovider", "registrationsource"):
            attr = "registration_provider" if key == "registrationprovider" else "registration_source"
            setattr(row, attr, _string(canonical, value, 40 if attr == "registration_provider" else 300))
        elif canonical in pf.PROFILE_STRINGS:
            row.profile[canonical] = _string(canonical, value, STRING_MAX)
        elif canonical in pf.PROFILE_ARRAYS:
            value = _json_text(canonical, value)
            if not isinstance(value, list) or len(value) > pf.ARRAY_MAX_ITEMS:
                raise RowError(f"{canonical} must be a list of at most {pf.ARRAY_MAX_ITEMS} items")
            row.profile[canonical] = value
        elif canonical in pf.PROFILE_FLAGS:
            row.profile[canonical] = _bool(canonical, value)
        elif canonical == "Country":
            value = _json_text("Country", value) if isinstance(value, str) and value.startswith("{") else value
            row.profile["Country"] = value if isinstance(value, dict) else {"Code": "", "Name": str(value)}
    if not row.emails and not row.phone and not row.username:
        raise RowError("needs an email, a phone id or a username")
    row.email_verified = row.email_verified and bool(row.emails)
    row.phone_verified = row.phone_verified and bool(row.phone)
    return row


# ---------------------------------------------------------------- checking against the tenant


class Seen:
    """Identifiers taken in the input so far (the database answers for the rest)."""

    def __init__(self) -> None:
        self.uids: set[str] = set()
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.usernames: set[str] = set()

    def clash(self, row: Row) -> str:
        if row.uid in self.uids:
            return "duplicate uid in the file"
        if any(e.lower() in self.emails for _, e in row.emails) or len({e.lower() for _, e in row.emails}) < len(row.emails):
            return "duplicate email in the file"
        if row.phone and row.phone in self.phones:
            return "duplicate phone in the file"
        if row.username and row.username.lower() in self.usernames:
            return "duplicate username in the file"
        return ""

    def add(self, row: Row) -> None:
        self.uids.add(row.uid)
        self.emails.update(e.lower() for _, e in row.emails)
        if row.phone:
            self.phones.add(row.phone)
        if row.username:
            self.usernames.add(row.username.lower())


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
        taken_uids = _any("SELECT uid FROM accounts_account WHERE tenant_id = %s AND uid = ANY(%s)", tenant, uids)
        taken_emails = _any("SELECT lower(value) FROM accounts_accountemail WHERE tenant_id = %s "
                            "AND lower(value) = ANY(%s)", tenant, emails)
        taken_phones = _any("SELECT phone_id FROM accounts_account WHERE tenant_id = %s AND phone_id = ANY(%s)",
                            tenant, phones)
        taken_names = _any("SELECT lower(username) FROM accounts_account WHERE tenant_id = %s "
                           "AND lower(username) = ANY(%s)", tenant, names)
    else:
        taken_uids = set(Account.objects.filter(tenant=tenant, uid__in=uids).values_list("uid", flat=True))
        taken_emails = set(AccountEmail.objects.annotate(v=Lower("value")).filter(tenant=tenant, v__in=emails)
                           .values_list("v", flat=True)) if emails else set()
        taken_phones = set(Account.objects.filter(tenant=tenant, phone_id__in=phones)
                           .values_list("phone_id", flat=True)) if phones else set()
        taken_names = set(Account.objects.annotate(u=Lower("username")).filter(tenant=tenant, u__in=names)
                          .values_list("u", flat=True)) if names else set()
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


# ---------------------------------------------------------------- writing


def _account(tenant: Tenant, row: Row) -> Account:
    account = Account(
        tenant=tenant, uid=row.uid, is_custom_uid=row.is_custom_uid, username=row.username,
        phone_id=row.phone, phone_id_verified=row.phone_verified, email_verified=row.email_verified,
        password=row.password, first_name=row.first_name, middle_name=row.middle_name,
        last_name=row.last_name, profile=row.profile, custom_fields=row.custom_fields,
        is_active=row.is_active, is_email_subscribed=row.is_email_subscribed,
        registration_provider=row.registration_provider, registration_source=row.registration_source,
    )
    account.search_text = _search_text(account, [e for _, e in row.emails])
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
        with connection.wrap_database_errors, connection.cursor() as c, c.cursor.copy(self.sql) as cp:
            for row in rows:
                cp.write_row([
                    json.dumps(v) if (v := row.get(n, self.defaults[n])) is not None and n in self.json else v
                    for n in names
                ])


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
        c.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                  [Account._meta.db_table, len(rows)])
        ids = [x[0] for x in c.fetchall()]
    now = timezone.now()
    accounts = []
    for pk, r in zip(ids, rows, strict=True):
        shape = SimpleNamespace(uid=r.uid, username=r.username, phone_id=r.phone, first_name=r.first_name,
                                middle_name=r.middle_name, last_name=r.last_name)
        accounts.append({
            "id": pk, "tenant_id": tenant.pk, "uid": r.uid, "provider_id": new_uid(), "is_custom_uid": r.is_custom_uid,
            "username": r.username, "phone_id": r.phone, "phone_id_verified": r.phone_verified,
            "email_verified": r.email_verified, "password": r.password, "first_name": r.first_name,
            "middle_name": r.middle_name, "last_name": r.last_name, "profile": r.profile,
            "custom_fields": r.custom_fields, "is_active": r.is_active, "is_email_subscribed": r.is_email_subscribed,
            "registration_provider": r.registration_provider, "registration_source": r.registration_source,
            "search_text": _search_text(shape, [e for _, e in r.emails]), "signup_date": now, "created": now,
            "modified": now,
        })
    _copier(Account, with_pk=True).copy(accounts)
    _copier(AccountEmail, with_pk=False).copy([
        {"tenant_id": tenant.pk, "account_id": pk, "type": kind, "value": value, "verified": r.email_verified}
        for pk, r in zip(ids, rows, strict=True) for kind, value in r.emails
    ])
    assignments = [
        {"tenant_id": tenant.pk, "account_id": pk, "role_id": roles[name].pk}
        for pk, r in zip(ids, rows, strict=True) for name in r.roles
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
        ids = dict(Account.objects.filter(tenant=tenant, uid__in=[a.uid for a in accounts]).values_list("uid", "pk"))
        for a in accounts:
            a.pk = ids[a.uid]
    AccountEmail.objects.bulk_create(
        [
            AccountEmail(tenant=tenant, account_id=a.pk, type=kind, value=value, verified=r.email_verified)
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


# ---------------------------------------------------------------- progress


class Progress:
    """A one-line progress bar with rate and ETA on stderr."""

    def __init__(self, stream, total: int | None, enabled: bool) -> None:
        self.stream, self.total, self.enabled = stream, total, enabled
        self.started = time.monotonic()
        self.last = 0.0
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def update(self, done: int, imported: int | None = None, failed: int | None = None, *, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and now - self.last < (0.25 if self.tty else 5.0):
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        if self.total:
            share = min(done / self.total, 1.0)
            bar = "#" * int(share * 30)
            eta = (self.total - done) / rate if rate > 0 else 0
            text = (f"[{bar:<30}] {share:6.1%} {done}/{self.total} rows  {rate:,.0f} rows/s  "
                    f"ETA {int(eta) // 60}:{int(eta) % 60:02d}")
        else:
            text = f"{done} rows  {rate:,.0f} rows/s"
        if imported is not None:
            text += f"  imported {imported}  rejected {failed}"
        self.stream.write(("\r" + text) if self.tty else text + "\n")
        if final and self.tty:
            self.stream.write("\n")
        self.stream.flush()


# ---------------------------------------------------------------- command


class Command(BaseCommand):
    help = "Import accounts from a JSON Lines or CSV file (pre-hashed passwords) into a tenant."

    def add_arguments(self, parser):
        parser.add_argument("file", help="input file (.jsonl or .csv), or - for standard input")
        parser.add_argument("--tenant", required=True, help="tenant slug, API key or id")
        parser.add_argument("--format", choices=["jsonl", "csv"], help="default: from the file name")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--errors", help="error report (CSV: line,reason); default FILE.errors.csv")
        parser.add_argument("--checkpoint", help="checkpoint file; default FILE.checkpoint")
        parser.add_argument("--resume", action="store_true", help="skip the lines the checkpoint says are done")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, file, tenant, format, batch_size, dry_run, errors, checkpoint, resume, no_progress, **options):
        tenant_obj = find_tenant(tenant)
        fmt = detect_format(file, format) if file != "-" else (format or "jsonl")
        base = file if file != "-" else "stdin"
        errors_path = errors or f"{base}.errors.csv"
        checkpoint_path = checkpoint or f"{base}.checkpoint"
        start_after = 0
        if resume:
            if file == "-":
                raise CommandError("--resume needs a file")
            if os.path.exists(checkpoint_path):
                with open(checkpoint_path) as fh:
                    start_after = int(json.load(fh)["line"])
        from roles.models import Role

        roles = {r.name: r for r in Role.objects.filter(tenant=tenant_obj)}
        total = count_lines(file) - (1 if fmt == "csv" else 0) if file != "-" else None
        progress = Progress(self.stderr._out, total, not no_progress)
        stream = sys.stdin if file == "-" else open(file, newline="" if fmt == "csv" else None, encoding="utf-8-sig")  # noqa: SIM115
        report = open(errors_path, "a" if resume else "w", newline="", encoding="utf-8")  # noqa: SIM115
        writer = csv.writer(report)
        if report.tell() == 0:
            writer.writerow(["line", "reason"])
        seen = Seen()
        done = imported = failed = 0
        batch: list[Row] = []
        batch_errors: list[tuple[int, str]] = []
        first_line = last_line = 0

        def process(rows: list[Row], problems: list[tuple[int, str]], first: int, last: int) -> tuple[int, int]:
            """Check a batch against the tenant, write it, report its rejects, move the checkpoint."""
            clashes = taken_in_tenant(tenant_obj, rows) if rows else {}
            good = [r for r in rows if r.line not in clashes]
            problems += clashes.items()
            if not dry_run:
                good, conflicts = self._commit(tenant_obj, good, roles, len(problems), first, last, base)
                problems += [(r.line, reason) for r, reason in conflicts]
            writer.writerows(sorted(problems))
            report.flush()
            if not dry_run:
                with open(checkpoint_path + ".tmp", "w") as fh:
                    json.dump({"file": os.path.abspath(base), "line": last}, fh)
                os.replace(checkpoint_path + ".tmp", checkpoint_path)
            return len(good), len(problems)

        # On PostgreSQL outside a transaction, one writer thread (its own connection) writes
        # batch k while this thread parses batch k+1; batches still commit in file order.
        pipelined = connection.vendor == "postgresql" and not connection.in_atomic_block and not dry_run
        writer_thread = ThreadPoolExecutor(max_workers=1) if pipelined else None
        pending: list[Future] = []

        def collect() -> None:
            nonlocal imported, failed
            while pending:
                good, bad = pending.pop(0).result()
                imported += good
                failed += bad

        def flush() -> None:
            nonlocal batch, batch_errors, first_line, imported, failed
            args = (batch, batch_errors, first_line, last_line)
            batch, batch_errors, first_line = [], [], 0
            if writer_thread is None:
                good, bad = process(*args)
                imported += good
                failed += bad
                return
            collect()
            pending.append(writer_thread.submit(process, *args))

        try:
            for line, record, problem in records(stream, fmt):
                if line <= start_after:
                    continue
                done += 1
                first_line = first_line or line
                last_line = line
                if not problem:
                    try:
                        row = parse_row(line, record)
                        problem = seen.clash(row)
                    except RowError as exc:
                        problem = str(exc)
                if not problem:
                    missing = [n for n in row.roles if n not in roles]
                    if missing:
                        problem = f"unknown role {missing[0]!r}"
                if problem:
                    batch_errors.append((line, problem))
                else:
                    seen.add(row)
                    batch.append(row)
                if len(batch) + len(batch_errors) >= batch_size:
                    flush()
                progress.update(done, imported, failed)
            if batch or batch_errors:
                flush()
            collect()
        finally:
            if writer_thread is not None:
                for future in pending:
                    future.exception()  # wait: the batch in flight commits or fails before we stop
                writer_thread.submit(lambda: connection.close()).result()  # the writer thread's own connection
                writer_thread.shutdown()
            progress.update(done, imported, failed, final=True)
            report.close()
            if stream is not sys.stdin:
                stream.close()
        verb = "would import" if dry_run else "imported"
        self.stdout.write(f"{verb} {imported} accounts, rejected {failed} rows (report: {errors_path})")

    def _commit(self, tenant, rows, roles, rejected, first_line, last_line, source):
        """Write a batch with its audit event; if a concurrent writer took an identifier
        meanwhile, redo the batch row by row so only the clashing rows are rejected."""
        def audit_batch(count: int, refused: int) -> None:
            audit.record(
                tenant=tenant, actor=ACTOR, action="account.imported",
                changes={"imported": count, "rejected": refused, "first_line": first_line,
                         "last_line": last_line, "source": os.path.basename(source)},
            )

        try:
            with transaction.atomic():
                if rows:
                    write_rows(tenant, rows, roles)
                audit_batch(len(rows), rejected)
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
            audit_batch(len(good), rejected + len(conflicts))
        return good, conflicts

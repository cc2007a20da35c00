"""Seed the benchmark tenant up to N accounts, fast.

On PostgreSQL rows go in with COPY (ids allocated up front, sequences moved afterwards),
and the secondary indexes of the two big tables are dropped and rebuilt when many rows
are added; on SQLite they go in with bulk_create. Each account gets one or two emails, a
phone, names, profile fields and one or two roles; every 10th a role context, every 5th
a custom object record, every 20th a session (token family, refresh and access token).
The tenant, its API credential, a console staff session and the token pools the load
needs (live sessions issued through the project's own service) are written to
`var/bench/state.json`.

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.seed --accounts 1000000
"""

import argparse
import hashlib
import json
import os
import sys
import time
import uuid
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from types import SimpleNamespace

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Account, AccountEmail  # noqa: E402
from accounts.services import account_search_text  # noqa: E402
from customobjects.models import CustomObjectRecord, CustomObjectType  # noqa: E402
from portal.audit import Actor  # noqa: E402
from portal.crypto import token_hash  # noqa: E402
from portal.models import Tenant  # noqa: E402
from roles.models import AccountRole, Role, RoleContext  # noqa: E402
from tokens.models import AccessToken, RefreshToken, TokenFamily  # noqa: E402

STATE_DIR = Path(settings.BASE_DIR) / "var" / "bench"
SYSTEM = Actor.system("bench")
FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "Dmitri",
    "Elif",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Keira",
    "Liam",
    "Maya",
    "Noor",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zofia",
]
LAST = [
    a + b
    for a in (
        "Kowal",
        "Anders",
        "Bright",
        "Castell",
        "Dubois",
        "Eriks",
        "Fuente",
        "Garcia",
        "Hassan",
        "Ivanov",
        "Jansen",
        "Kim",
        "Larsen",
        "Moreau",
        "Nakam",
        "Okafor",
        "Petrov",
        "Quinn",
        "Rossi",
        "Schmidt",
    )
    for b in ("ski", "son", "well", "ano", "mann", "ura", "ez", "berg", "ova", "ford")
]
CITIES = ("Berlin", "Lagos", "Osaka", "Lima", "Oslo", "Pune", "Quito", "Tunis")
PASSWORD = "pbkdf2_sha256$1000$benchsalt$" + "A" * 43 + "="
# The password of the sign-in pool, hashed with the production hasher when the pool is set.
SIGNIN_PASSWORD = "bench-sign-in-Passw0rd"
SIGNIN_POOL = 256
ROLES = [(f"role{i}", [f"perm{i}.read", f"perm{i}.write", "common.read"]) for i in range(10)]


def uid_of(i: int) -> str:
    return hashlib.md5(f"bench-{i}".encode()).hexdigest()  # noqa: S324 (an identifier, not a secret)


def email_of(i: int) -> str:
    return f"user{i:07d}@bench{i % 50}.example"


def phone_of(i: int) -> str:
    return f"+1{200 + i // 10_000_000}{i % 10_000_000:07d}"


def names_of(i: int) -> tuple[str, str]:
    return FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]


def record_id_of(i: int) -> str:
    return hashlib.md5(f"rec-{i}".encode()).hexdigest()  # noqa: S324


# ---------------------------------------------------------------- generic loaders


def _defaults(model) -> dict:
    out = {}
    for f in model._meta.concrete_fields:
        value = f.get_default()
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = timezone.now()
        out[f.attname] = value
    return out


class Loader:
    """COPY on PostgreSQL, bulk_create elsewhere; rows are dicts of attname -> value."""

    def __init__(self, model):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.defaults = _defaults(model)
        self.pg = connection.vendor == "postgresql"

    def load(self, rows) -> int:
        n = 0
        if self.pg:
            cols = ", ".join(f'"{f.column}"' for f in self.fields)
            with (
                connection.cursor() as c,
                c.cursor.copy(f'COPY "{self.model._meta.db_table}" ({cols}) FROM STDIN') as cp,
            ):
                for row in rows:
                    cp.write_row([self._value(f, row) for f in self.fields])
                    n += 1
            return n
        chunk = []
        for row in rows:
            chunk.append(self.model(**{**self.defaults, **row}))
            if len(chunk) >= 5000:
                self.model.objects.bulk_create(chunk)
                n += len(chunk)
                chunk = []
        if chunk:
            self.model.objects.bulk_create(chunk)
            n += len(chunk)
        return n

    def _value(self, f, row):
        value = row.get(f.attname, self.defaults[f.attname])
        if f.get_internal_type() == "JSONField" and value is not None:
            return json.dumps(value)
        return value


def next_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def fix_sequences(*models) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as c:
        for model in models:
            table = model._meta.db_table
            sql = f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), COALESCE((SELECT MAX(id) FROM \"{table}\"), 1))"  # noqa: S608
            c.execute(sql)


def secondary_indexes(*tables: str) -> list[tuple[str, str]]:
    """(name, definition) of the non-unique, non-primary indexes of `tables`."""
    with connection.cursor() as c:
        c.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = ANY(%s) AND NOT x.indisunique "
            "AND NOT x.indisprimary",
            [list(tables)],
        )
        return c.fetchall()


# ---------------------------------------------------------------- the tenant


def _secret_works(state: dict) -> bool:
    """Whether the saved secret still authenticates: secrets are stored as hashes keyed by
    SECRET_KEY, so a run under another key needs a new credential."""
    from portal.lrapi import auth
    from portal.lrapi.errors import LRError

    try:
        auth.credential_for_secret(state["api_key"], state.get("api_secret"))
    except LRError:
        return False
    return True


# Production code path (every limit counted in Redis), with limits the load cannot reach.
UNREACHABLE_LIMITS = {
    "rate_limit_per_tenant": 10**9,
    "rate_limit_per_credential": 10**9,
    "rate_limit_per_ip": 10**9,
    "rate_limit_key_only_per_tenant": 10**9,
    "rate_limit_key_only_per_ip": 10**9,
    "rate_limit_signin": 10**9,  # the sign-in load presents each pool account many times
}


def limits_unreachable(tenant: Tenant) -> None:
    if any(tenant.settings.get(name) != value for name, value in UNREACHABLE_LIMITS.items()):
        tenant.settings = {**(tenant.settings or {}), **UNREACHABLE_LIMITS}
        tenant.save(update_fields=["settings"])


def bench_tenant(slug: str) -> tuple[Tenant, dict]:
    from portal import services
    from portal.tenant_commands import TenantCreate

    state_path = STATE_DIR / f"{slug}.json"
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant and state_path.exists():
        state = json.loads(state_path.read_text())
        if state.get("api_key") == tenant.api_key and _secret_works(state):
            limits_unreachable(tenant)  # a tenant seeded before a limit was added gets it too
            return tenant, state
    if tenant is None:
        tenant, issued = services.tenant_create(
            TenantCreate(name=f"Benchmark {slug}", slug=slug), actor=SYSTEM
        )
    else:
        from portal.models import ApiCredential

        cred = ApiCredential(tenant=tenant, label="bench")
        raw = str(uuid.uuid4())  # the canonical form the API hashes
        cred.set_secret(raw)
        cred.save()
        issued = SimpleNamespace(raw_secret=raw)
    limits_unreachable(tenant)
    state = {
        "tenant_id": tenant.pk,
        "slug": slug,
        "api_key": tenant.api_key,
        "api_secret": issued.raw_secret,
    }
    return tenant, state


def ensure_catalogue(tenant: Tenant) -> tuple[dict, CustomObjectType]:
    for name, perms in ROLES:
        Role.objects.get_or_create(
            tenant=tenant, name=name, defaults={"permissions": sorted(perms)}
        )
    roles = {r.name: r.pk for r in Role.objects.filter(tenant=tenant)}
    otype, _ = CustomObjectType.objects.get_or_create(tenant=tenant, name="orders")
    return roles, otype


def seed_accounts(tenant: Tenant, target: int, log) -> int:
    have = Account.objects.filter(tenant=tenant).count()
    if have >= target:
        log(f"tenant {tenant.slug} already holds {have} accounts")
        return have
    roles, otype = ensure_catalogue(tenant)
    role_ids = [roles[name] for name, _ in ROLES]
    start, end = have, target
    adding = end - start
    pg = connection.vendor == "postgresql"
    dropped: list[tuple[str, str]] = []
    big = ("accounts_account", "accounts_accountemail", "roles_accountrole")
    if pg and adding >= 100_000:
        dropped = secondary_indexes(*big)
        with connection.cursor() as c:
            for name, _ in dropped:
                c.execute(f'DROP INDEX IF EXISTS "{name}"')
        log(f"dropped {len(dropped)} secondary indexes for the load")
    now = timezone.now()
    step = 100_000
    t0 = time.monotonic()
    for lo in range(start, end, step):
        hi = min(lo + step, end)
        with transaction.atomic():
            _seed_chunk(tenant, lo, hi, role_ids, otype, now)
        rate = (hi - start) / (time.monotonic() - t0)
        log(f"accounts {hi}/{end}  {rate:,.0f}/s")
    if dropped:
        t1 = time.monotonic()
        with connection.cursor() as c:
            c.execute("SET maintenance_work_mem = '512MB'")
            for _, definition in dropped:
                c.execute(definition)
        log(f"rebuilt {len(dropped)} indexes in {time.monotonic() - t1:.0f}s")
    fix_sequences(
        Account,
        AccountEmail,
        AccountRole,
        RoleContext,
        CustomObjectRecord,
        TokenFamily,
        RefreshToken,
        AccessToken,
    )
    if pg:
        with connection.cursor() as c:
            for table in (
                *big,
                "roles_rolecontext",
                "customobjects_customobjectrecord",
                "tokens_tokenfamily",
                "tokens_refreshtoken",
                "tokens_accesstoken",
            ):
                c.execute(f'ANALYZE "{table}"')
    return end


def _seed_chunk(tenant, lo, hi, role_ids, otype, now) -> None:
    tid = tenant.pk
    first_id = {
        m: next_id(m)
        for m in (
            Account,
            AccountEmail,
            AccountRole,
            RoleContext,
            CustomObjectRecord,
            TokenFamily,
            RefreshToken,
            AccessToken,
        )
    }
    ids = dict(first_id)
    account_ids = {}

    def accounts():
        for i in range(lo, hi):
            pk = ids[Account]
            ids[Account] += 1
            account_ids[i] = pk
            first, last = names_of(i)
            emails = [email_of(i)] + ([f"alt{i:07d}@bench.example"] if i % 4 == 0 else [])
            shape = SimpleNamespace(
                uid=uid_of(i),
                username=None,
                phone_id=phone_of(i),
                first_name=first,
                middle_name="",
                last_name=last,
            )
            yield {
                "id": pk,
                "tenant_id": tid,
                "uid": shape.uid,
                "provider_id": shape.uid,
                "phone_id": shape.phone_id,
                "phone_id_verified": i % 3 == 0,
                "email_verified": i % 2 == 0,
                "password": PASSWORD,
                "first_name": first,
                "last_name": last,
                "profile": {"Gender": "FM"[i % 2], "City": CITIES[i % len(CITIES)]},
                "custom_fields": {"plan": "gold" if i % 7 == 0 else "basic"},
                "search_text": account_search_text(shape, emails),
                "signup_date": now,
                "created": now,
                "modified": now,
            }

    Loader(Account).load(accounts())

    def emails():
        for i in range(lo, hi):
            values = [("Primary", email_of(i))] + (
                [("Secondary", f"alt{i:07d}@bench.example")] if i % 4 == 0 else []
            )
            for kind, value in values:
                yield {
                    "id": None,
                    "tenant_id": tid,
                    "account_id": account_ids[i],
                    "type": kind,
                    "value": value,
                    "verified": i % 2 == 0,
                    "created": now,
                }

    Loader(AccountEmail).load(_numbered(emails(), ids, AccountEmail))

    def assignments():
        for i in range(lo, hi):
            picks = {role_ids[i % 10], role_ids[(i * 7 + 3) % 10]}
            for rid in sorted(picks):
                yield {
                    "id": None,
                    "tenant_id": tid,
                    "account_id": account_ids[i],
                    "role_id": rid,
                    "created": now,
                }

    Loader(AccountRole).load(_numbered(assignments(), ids, AccountRole))

    contexts = []

    def role_contexts():
        for i in range(lo, hi, 10):
            pk = ids[RoleContext]
            ids[RoleContext] += 1
            contexts.append((pk, role_ids[(i + 5) % 10]))
            yield {
                "id": pk,
                "tenant_id": tid,
                "account_id": account_ids[i],
                "name": "Home",
                "additional_permissions": ["home.extra"],
                "expiration": now + timedelta(days=365) if i % 20 == 0 else None,
                "created": now,
                "modified": now,
            }

    Loader(RoleContext).load(role_contexts())
    through = RoleContext.roles.through
    if connection.vendor == "postgresql":
        _copy_through(through, contexts)
    else:
        through.objects.bulk_create(
            [through(rolecontext_id=pk, role_id=rid) for pk, rid in contexts]
        )

    def records():
        for i in range(lo - lo % 5 + (5 if lo % 5 else 0), hi, 5):
            pk = ids[CustomObjectRecord]
            ids[CustomObjectRecord] += 1
            yield {
                "id": pk,
                "tenant_id": tid,
                "object_type_id": otype.pk,
                "account_id": account_ids[i],
                "record_id": record_id_of(i),
                "data": {"order": i, "total": i % 1000, "items": ["a", "b"]},
                "created": now,
                "modified": now,
            }

    Loader(CustomObjectRecord).load(records())

    families = []

    def token_families():
        for i in range(lo - lo % 20 + (20 if lo % 20 else 0), hi, 20):
            pk = ids[TokenFamily]
            ids[TokenFamily] += 1
            families.append((pk, i))
            yield {
                "id": pk,
                "tenant_id": tid,
                "account_id": account_ids[i],
                "created": now,
                "expires_at": now + timedelta(days=365),
                "login_date": now,
                "actor_type": "account",
                "actor_id": uid_of(i),
                "actor_label": uid_of(i),
                "browser": "curl",
                "os": "Linux",
            }

    Loader(TokenFamily).load(token_families())

    def refresh_tokens():
        for pk, i in families:
            rid = ids[RefreshToken]
            ids[RefreshToken] += 1
            yield {
                "id": rid,
                "tenant_id": tid,
                "account_id": account_ids[i],
                "family_id": pk,
                "token_hash": hashlib.sha256(f"r-{tid}-{i}".encode()).hexdigest(),
                "created": now,
                "expires_at": now + timedelta(days=60),
            }

    Loader(RefreshToken).load(refresh_tokens())

    def access_tokens():
        for pk, i in families:
            aid = ids[AccessToken]
            ids[AccessToken] += 1
            yield {
                "id": aid,
                "tenant_id": tid,
                "account_id": account_ids[i],
                "family_id": pk,
                "token_hash": hashlib.sha256(f"a-{tid}-{i}".encode()).hexdigest(),
                "hint": "bench000",
                "created": now,
                "expires_at": now + timedelta(hours=1),
            }

    Loader(AccessToken).load(access_tokens())


def _numbered(rows, ids, model):
    for row in rows:
        row["id"] = ids[model]
        ids[model] += 1
        yield row


def _copy_through(through, contexts) -> None:
    table = through._meta.db_table
    with (
        connection.cursor() as c,
        c.cursor.copy(f'COPY "{table}" (rolecontext_id, role_id) FROM STDIN') as cp,
    ):
        for pk, rid in contexts:
            cp.write_row((pk, rid))


# ---------------------------------------------------------------- live pools for the load


def live_pools(tenant: Tenant, state: dict, *, sessions: int, log) -> dict:
    """Sessions issued by the project's own service (usable tokens), a console session,
    and samples of seeded identifiers for the request files."""
    from tokens.commands import SessionIssue
    from tokens.services.sessions import session_issue

    total = Account.objects.filter(tenant=tenant).count()
    step = max(total // sessions, 1)
    pks = Account.objects.filter(tenant=tenant).order_by("pk").values_list("pk", flat=True)
    picked = list(
        Account.objects.filter(pk__in=list(pks[: sessions * step])[::step]).order_by("pk")
    )
    t0 = time.monotonic()
    refresh, access = [], []
    for k, account in enumerate(picked):
        issued = session_issue(
            SessionIssue(), tenant=tenant, account=account, actor=Actor.account(account.uid)
        )
        (refresh if k % 2 else access).append(
            issued.refresh_token if k % 2 else issued.access_token
        )
    log(f"issued {len(picked)} live sessions in {time.monotonic() - t0:.1f}s")
    state["refresh_tokens"] = refresh
    state["access_tokens"] = access
    # The floors rotate seeded (not live) refresh tokens: they neither check nor consume them.
    state["floor_refresh_hashes"] = [
        hashlib.sha256(f"r-{tenant.pk}-{i}".encode()).hexdigest()
        for i in range(0, min(total, 10_000), 20)
    ]
    state["floor_refresh_subjects"] = [uid_of(i) for i in range(0, min(total, 10_000), 20)]
    # The bare floor reads access tokens by their stored hash (it imports nothing of the project).
    state["floor_access_hashes"] = [token_hash(t) for t in access]
    state["signin_emails"] = signin_pool(tenant, total=total, log=log)
    state["signin_password"] = SIGNIN_PASSWORD
    state["accounts"] = total
    state["console_cookie"] = console_session(tenant)
    state["console_searches"] = console_searches(state["console_cookie"], total=total)
    return state


def signin_pool(tenant: Tenant, *, total: int, log) -> list[str]:
    """Emails of accounts (spread over the table, verified ones) whose password is
    SIGNIN_PASSWORD hashed with the production hasher of this run's settings: one hash
    shared by the pool, set again on every seeding so a change of hasher parameters takes."""
    from django.contrib.auth.hashers import make_password

    indexes = list(range(0, total, 2 * max(total // (2 * SIGNIN_POOL), 1)))[:SIGNIN_POOL]
    t0 = time.monotonic()
    encoded = make_password(SIGNIN_PASSWORD)
    Account.objects.filter(tenant=tenant, uid__in=[uid_of(i) for i in indexes]).update(
        password=encoded
    )
    log(
        f"sign-in pool: {len(indexes)} accounts, {'$'.join(encoded.split('$')[:4])} "
        f"({time.monotonic() - t0:.1f}s)"
    )
    return [email_of(i) for i in indexes]


def console_session(tenant: Tenant) -> str:
    """A signed-in (password + TOTP) console session for a staff agent of the tenant."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.auth.models import Group
    from django_otp import DEVICE_ID_SESSION_KEY
    from guardian.shortcuts import assign_perm

    from portal import staff
    from portal.models import StaffTotpDevice
    from portal.staff_session import (
        LAST_SEEN_SESSION_KEY,
        SIGNED_IN_AT_SESSION_KEY,
        TENANT_SESSION_KEY,
    )

    User = get_user_model()
    user, created = User.objects.get_or_create(username=f"bench-agent-{tenant.slug}")
    if created:
        user.set_password(os.urandom(16).hex())
        user.save()
        user.groups.add(Group.objects.get_or_create(name="Agent")[0])
        for perm in staff.TENANT_PERMISSIONS:
            assign_perm(f"portal.{perm}", user, tenant)
    device = StaffTotpDevice.objects.filter(
        user=user, confirmed=True
    ).first() or StaffTotpDevice.objects.create(user=user, name="bench", confirmed=True)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    now = int(time.time())
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store[TENANT_SESSION_KEY] = tenant.pk
    store[LAST_SEEN_SESSION_KEY] = store[SIGNED_IN_AT_SESSION_KEY] = now
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


# How many sealed searches the load bench's console search page cycles through.
CONSOLE_SEARCHES = 20


def console_searches(cookie: str, *, total: int) -> list[str]:
    """Search texts sealed for the console session of `cookie`, as the search box seals what
    it is sent (the results page opens its token, never reads the text from the URL):
    last-name substrings of accounts spread over the table."""
    from portal.console.search_texts import sealed_search

    session_key = cookie.split("=", 1)[1]
    step = max(total // CONSOLE_SEARCHES, 1)
    texts = {names_of(i)[1].lower()[1:7] for i in range(step // 2, total, step)}
    return [
        sealed_search(session_key=session_key, text=text)
        for text in sorted(texts)[:CONSOLE_SEARCHES]
    ]


def main(argv=None) -> dict:
    default = 1_000_000 if connection.vendor == "postgresql" else 20_000
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=default)
    parser.add_argument("--tenant", default="bench")
    parser.add_argument(
        "--sessions", type=int, default=4000, help="live sessions issued for the load"
    )
    args = parser.parse_args(argv)

    def log(msg):
        print(f"[seed] {msg}", file=sys.stderr, flush=True)

    STATE_DIR.mkdir(parents=True, exist_ok=True)
    tenant, state = bench_tenant(args.tenant)
    t0 = time.monotonic()
    seed_accounts(tenant, args.accounts, log)
    log(f"seeding took {time.monotonic() - t0:.0f}s")
    state = live_pools(tenant, state, sessions=args.sessions, log=log)
    (STATE_DIR / f"{args.tenant}.json").write_text(json.dumps(state))
    return state


if __name__ == "__main__":
    main()

import base64
import hashlib
import json

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import services as account_services
from accounts.importing import writing as import_writing
from accounts.models import Account, AccountEmail
from portal.models import AuditEvent
from roles.models import AccountRole
from tests.factories import AccountFactory
from tests.perf.conftest import error_rows

pytestmark = pytest.mark.django_db

ALICE = {
    "Uid": "alice-1",
    "Email": [
        {"Type": "Primary", "Value": "Alice@Example.com"},
        {"Type": "Secondary", "Value": "a2@example.com"},
    ],
    "EmailVerified": True,
    "PhoneId": "+14155550100",
    "PhoneIdVerified": True,
    "FirstName": "Alice",
    "LastName": "Liddell",
    "Gender": "F",
    "Addresses": [{"Type": "Primary", "City": "Oxford"}],
    "CustomFields": {"tier": "gold"},
    "Roles": ["editor"],
    "Password": "pbkdf2_sha256$1000$salt$" + base64.b64encode(b"x" * 32).decode(),
    "NoOfLogins": 7,  # read-only in the profile: ignored
}

# The settings production uses, so identify_hasher knows every imported format.
PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "accounts.hashers.LoginRadiusPBKDF2PasswordHasher",
]


@pytest.fixture(autouse=True)
def _hashers(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS


def test_jsonl_import_creates_accounts_with_emails_phone_profile_and_roles(
    tenant, roles, run_import
):
    path = run_import(
        tenant,
        [ALICE, {"Email": "bob@example.com", "FirstName": "Bob", "Roles": ["viewer", "editor"]}],
    )

    alice = Account.objects.get(tenant=tenant, uid="alice-1")
    assert alice.is_custom_uid
    assert [(e.type, e.value, e.verified) for e in alice.emails.order_by("id")] == [
        ("Primary", "Alice@Example.com", True),
        ("Secondary", "a2@example.com", True),
    ]
    assert (alice.phone_id, alice.phone_id_verified, alice.email_verified) == (
        "+14155550100",
        True,
        True,
    )
    assert (alice.first_name, alice.last_name) == ("Alice", "Liddell")
    assert alice.profile == {"Gender": "F", "Addresses": [{"Type": "Primary", "City": "Oxford"}]}
    assert alice.custom_fields == {"tier": "gold"}
    assert alice.password == ALICE["Password"]
    assert alice.no_of_logins == 0
    assert "alice@example.com" in alice.search_text and "liddell" in alice.search_text
    bob = Account.objects.get(tenant=tenant, emails__value="bob@example.com")
    assert not bob.is_custom_uid and len(bob.uid) == 32
    assert sorted(AccountRole.objects.filter(account=bob).values_list("role__name", flat=True)) == [
        "editor",
        "viewer",
    ]
    assert list(AccountRole.objects.filter(account=alice).values_list("role__name", flat=True)) == [
        "editor"
    ]
    assert error_rows(path) == []
    # Findable by the selectors every endpoint uses.
    from accounts.selectors import account_get_by_email

    assert account_get_by_email(tenant=tenant, email="alice@example.com") == alice


def test_csv_import(tenant, roles, run_import):
    text = (
        "Uid,Email,PhoneId,FirstName,LastName,Roles,CustomFields,EmailVerified,Password,City\n"
        'c-1,carol@example.com;c2@example.com,+442071838750,Carol,Ng,editor;viewer,"{""k"": 1}",true,,Leeds\n'
        "c-2,dan@example.com,,Dan,Oh,,,false,,\n"
    )
    path = run_import(tenant, text, suffix=".csv")

    carol = Account.objects.get(tenant=tenant, uid="c-1")
    assert list(carol.emails.order_by("id").values_list("value", flat=True)) == [
        "carol@example.com",
        "c2@example.com",
    ]
    assert carol.phone_id == "+442071838750" and carol.email_verified
    assert carol.custom_fields == {"k": 1} and carol.profile == {"City": "Leeds"}
    assert sorted(
        AccountRole.objects.filter(account=carol).values_list("role__name", flat=True)
    ) == ["editor", "viewer"]
    dan = Account.objects.get(tenant=tenant, uid="c-2")
    assert dan.phone_id is None and not dan.email_verified and dan.password == ""
    assert error_rows(path) == []


def test_dry_run_writes_nothing_but_reports(tenant, roles, run_import):
    before_audit = AuditEvent.objects.count()
    path = run_import(tenant, [ALICE, {"Email": "not-an-email"}], args=["--dry-run"])

    assert Account.objects.filter(tenant=tenant).count() == 0
    assert AccountEmail.objects.count() == 0
    assert AuditEvent.objects.count() == before_audit
    assert error_rows(path) == [["2", "bad email"]]
    assert not (path.parent / (path.name + ".checkpoint")).exists()


def test_error_report_names_line_and_reason_and_imports_the_rest(tenant, roles, run_import):
    AccountFactory(tenant=tenant, email="taken@example.com")
    lines = [
        {"Email": "ok1@example.com"},
        {"Email": "TAKEN@example.com"},
        {"Email": "ok2@example.com", "PhoneId": "12"},
        "{not json",
        {"Email": "ok1@example.com"},
        {"Email": "plain@example.com", "Password": "hunter2hunter2"},
        {"Email": "role@example.com", "Roles": ["nope"]},
        {"FirstName": "No identifier"},
        {"Email": "ok3@example.com"},
    ]
    path = run_import(tenant, lines)

    assert error_rows(path) == [
        ["2", "duplicate email (already in the tenant)"],
        ["3", "bad phone"],
        ["4", "not valid JSON"],
        ["5", "duplicate email in the file"],
        ["6", "password is not a recognised hash (plain-text passwords are not imported)"],
        ["7", "unknown role 'nope'"],
        ["8", "needs an email, a phone id or a username"],
    ]
    assert sorted(AccountEmail.objects.filter(tenant=tenant).values_list("value", flat=True)) == [
        "ok1@example.com",
        "ok3@example.com",
        "taken@example.com",
    ]


def test_one_audit_event_per_batch_with_counts_only(tenant, run_import):
    lines = [{"Email": f"u{i}@example.com"} for i in range(5)] + [{"Email": "bad"}]
    run_import(tenant, lines, args=["--batch-size", "3"])

    events = list(
        AuditEvent.objects.filter(tenant=tenant, action="account.imported").order_by("id")
    )
    assert [(e.diff["imported"], e.diff["rejected"]) for e in events] == [(3, 0), (2, 1)]
    assert all("@" not in json.dumps(e.diff) for e in events)
    assert Account.objects.filter(tenant=tenant).count() == 5


def test_resume_continues_after_the_last_committed_batch(tenant, run_import, monkeypatch, tmp_path):
    lines = [{"Email": f"r{i}@example.com"} for i in range(6)]
    real_write = import_writing.write_rows
    calls = []

    def failing_write(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(import_writing, "write_rows", failing_write)
    with pytest.raises(RuntimeError):
        run_import(tenant, lines, args=["--batch-size", "2"])
    assert Account.objects.filter(tenant=tenant).count() == 2
    checkpoint = tmp_path / "in.jsonl.checkpoint"
    assert json.loads(checkpoint.read_text())["line"] == 2

    monkeypatch.setattr(import_writing, "write_rows", real_write)
    call_command(
        "accounts_import",
        str(tmp_path / "in.jsonl"),
        "--tenant",
        tenant.slug,
        "--no-progress",
        "--batch-size",
        "2",
        "--resume",
    )

    assert sorted(AccountEmail.objects.filter(tenant=tenant).values_list("value", flat=True)) == [
        f"r{i}@example.com" for i in range(6)
    ]
    assert error_rows(tmp_path / "in.jsonl") == []
    assert json.loads(checkpoint.read_text())["line"] == 6


def test_unknown_tenant_is_refused(tmp_path, db):
    path = tmp_path / "x.jsonl"
    path.write_text("{}\n")
    with pytest.raises(CommandError):
        call_command("accounts_import", str(path), "--tenant", "nope", "--no-progress")


@pytest.mark.real_hasher
def test_django_hash_verifies_on_first_sign_in_and_is_upgraded_to_argon2(tenant, run_import):
    encoded = make_password("correct horse", hasher="pbkdf2_sha256")
    run_import(tenant, [{"Email": "d@example.com", "Password": encoded}])
    account = Account.objects.get(tenant=tenant)
    assert check_password("correct horse", account.password)

    assert not account_services.account_password_verify(account=account, password="wrong")
    assert Account.objects.get(pk=account.pk).password == encoded
    assert account_services.account_password_verify(account=account, password="correct horse")

    upgraded = Account.objects.get(pk=account.pk).password
    assert upgraded.startswith("argon2$")
    assert check_password("correct horse", upgraded)


# A hash made by .NET's Rfc2898DeriveBytes (SimpleHashing.Net format, the one LoginRadius
# exports) for the password "abc123": 50,000 iterations, 16-byte salt, 32-byte key.
DOTNET_HASH = (
    "Rfc2898DeriveBytes$50000$MrW2CQoJvjPMlynGLkGFrg==$x8iV0TiDbEXndl0Fg8V3Rw91j5f5nztWK1zu7eQa0EE="
)


def _loginradius_hash(password: str, iterations: int = 1000) -> str:
    salt = b"0123456789abcdef"
    key = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, iterations, 32)
    return f"Rfc2898DeriveBytes${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def test_loginradius_pbkdf2_hashes_verify_with_check_password():
    assert check_password("abc123", DOTNET_HASH)
    assert not check_password("abc124", DOTNET_HASH)
    assert check_password("s3cret!", _loginradius_hash("s3cret!"))
    assert not check_password("s3cret", _loginradius_hash("s3cret!"))
    assert not check_password("x", "Rfc2898DeriveBytes$1000$!!$!!")


@pytest.mark.real_hasher
def test_loginradius_hash_verifies_on_first_sign_in_and_is_upgraded_to_argon2(tenant, run_import):
    run_import(
        tenant,
        [
            {"Email": "lr@example.com", "Password": DOTNET_HASH},
            {"Email": "lr2@example.com", "Password": _loginradius_hash("pa55word")},
        ],
    )
    first = Account.objects.get(tenant=tenant, emails__value="lr@example.com")
    second = Account.objects.get(tenant=tenant, emails__value="lr2@example.com")
    assert first.password == DOTNET_HASH

    assert account_services.account_password_verify(account=first, password="abc123")
    assert account_services.account_password_verify(account=second, password="pa55word")

    for account, password in ((first, "abc123"), (second, "pa55word")):
        stored = Account.objects.get(pk=account.pk).password
        assert stored.startswith("argon2$")
        assert check_password(password, stored)


def test_export_then_import_round_trips(tenant, other_tenant, roles, run_import, tmp_path):
    other_roles_for(other_tenant)
    run_import(
        tenant,
        [
            ALICE,
            {"UserName": "zed", "FirstName": "Zed", "Roles": ["viewer"]},
            {"PhoneId": "+14155550123", "IsActive": False},
        ],
    )
    first = tmp_path / "first.jsonl"
    call_command(
        "accounts_export", "--tenant", tenant.slug, "--output", str(first), "--no-progress"
    )
    call_command("accounts_import", str(first), "--tenant", other_tenant.slug, "--no-progress")
    second = tmp_path / "second.jsonl"
    call_command(
        "accounts_export", "--tenant", other_tenant.slug, "--output", str(second), "--no-progress"
    )

    exported = [json.loads(x) for x in first.read_text().splitlines()]
    assert len(exported) == 3
    assert exported == [json.loads(x) for x in second.read_text().splitlines()]
    assert exported[0]["Email"] == ALICE["Email"] and exported[0]["Roles"] == ["editor"]
    assert exported[0]["Password"] == ALICE["Password"]
    assert exported[2]["IsActive"] is False
    assert AuditEvent.objects.filter(tenant=tenant, action="account.exported").get().diff == {
        "exported": 3
    }


def other_roles_for(tenant):
    from portal.audit import Actor
    from roles import services
    from roles.commands import RoleInput, RolesCreate

    services.roles_create(
        RolesCreate(roles=[RoleInput(name="editor"), RoleInput(name="viewer")]),
        tenant=tenant,
        actor=Actor.system("tests"),
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_import_copies_in_a_writer_thread_in_file_order(tmp_path):
    """Outside a transaction PostgreSQL imports with COPY while the next batch is parsed."""
    from portal.models import Tenant

    tenant = Tenant.objects.create(name="Pipelined", slug="pipelined")
    other_roles_for(tenant)
    AccountFactory(tenant=tenant, email="taken@example.com")
    lines = [
        {
            "Uid": f"p{i}",
            "Email": f"p{i}@example.com",
            "PhoneId": f"+1415555{i:04d}",
            "Roles": ["viewer"],
            "Password": ALICE["Password"],
            "Gender": "M",
        }
        for i in range(10)
    ]
    lines[4] = {"Email": "taken@example.com"}
    lines[7] = {"Email": "p1@example.com"}
    path = tmp_path / "pipe.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))

    call_command(
        "accounts_import", str(path), "--tenant", "pipelined", "--no-progress", "--batch-size", "3"
    )

    assert error_rows(path) == [
        ["5", "duplicate email (already in the tenant)"],
        ["8", "duplicate email in the file"],
    ]
    imported = Account.objects.filter(tenant=tenant, uid__startswith="p").order_by("uid")
    assert [a.uid for a in imported] == ["p0", "p1", "p2", "p3", "p5", "p6", "p8", "p9"]
    p3 = imported.get(uid="p3")
    assert (p3.phone_id, p3.profile, p3.password) == (
        "+14155550003",
        {"Gender": "M"},
        ALICE["Password"],
    )
    assert list(p3.emails.values_list("value", flat=True)) == ["p3@example.com"]
    assert list(AccountRole.objects.filter(account=p3).values_list("role__name", flat=True)) == [
        "viewer"
    ]
    assert "p3@example.com" in p3.search_text
    assert json.loads((tmp_path / "pipe.jsonl.checkpoint").read_text())["line"] == 10
    events = AuditEvent.objects.filter(tenant=tenant, action="account.imported").order_by("id")
    assert [e.diff["imported"] for e in events] == [3, 2, 2, 1]
    # Ids came from the sequence: a later ORM insert does not collide.
    AccountFactory(tenant=tenant, email="after@example.com")

"""The account commands (accounts/commands.py): a LoginRadius body and the other front doors
build the same command, the services check every command whoever built it, stored commands
keep their secrets sealed, and a command built against an older version of the account is
refused and changes nothing."""

import json
from datetime import datetime

import pytest

from accounts import errors as e
from accounts import services
from accounts.api import profile_body
from accounts.commands import (
    AccountBlock,
    AccountChanges,
    AccountCreate,
    AccountDelete,
    EmailAddress,
    EmailEdit,
    EmailRemove,
    EmailUpsert,
    IdentityLink,
    ListEdit,
    PasswordSet,
    PhoneSet,
    PinChange,
)
from accounts.models import Account
from accounts.selectors import account_version
from portal.api.problems import problem_for
from portal.commands import Command
from portal.errors import DomainError, InvalidInput
from portal.lrapi.exceptions import exception_handler
from portal.models import AuditEvent
from tests.accounts.conftest import GOOD_PASSWORD, state

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- one command, every door


def test_a_loginradius_body_reads_into_explicit_sets_and_clears():
    body = {
        "firstname": "Ann",
        "LastName": None,
        "Email": [
            {"type": "secondary", "value": " b@example.com "},
            {"op": "Delete", "Value": "a@example.com"},
        ],
        "Addresses": [
            {"Type": "Home", "op": "delete"},
            {"Type": "Work", "City": "Nice", "op": "add"},
        ],
        "CustomFields": {"plan": "gold", "seats": None},
        "PINInfo": {"PIN": 1234},
        "IsActive": "false",
        "AcceptPrivacyPolicy": True,
        "FullName": "read-only, ignored",
    }
    command = profile_body.account_changes_read(body, null_support=True, reason="r")
    assert command == AccountChanges(
        values={"FirstName": "Ann", "IsActive": False},
        cleared=("LastName",),
        emails=(
            EmailEdit(type="Secondary", value="b@example.com"),
            EmailEdit(value="a@example.com", remove=True),
        ),
        lists={
            "Addresses": (
                ListEdit(item={"Type": "Home"}, remove=True),
                ListEdit(item={"Type": "Work", "City": "Nice"}),
            )
        },
        custom_fields={"plan": "gold"},
        custom_fields_removed=("seats",),
        pin=PinChange(pin="1234"),
        reason="r",
    )
    # Without nullsupport a null is no change at all.
    assert profile_body.account_changes_read({"LastName": None}) == AccountChanges()


def test_a_body_with_several_problems_answers_with_the_first_as_it_always_did():
    # A named error met on the way wins over the field problems collected before it...
    with pytest.raises(e.EmailInvalid):
        profile_body.account_changes_read(
            {"Consents": "bad", "Email": [{"Type": "Primary", "Value": "bad"}]}
        )
    # ...and an address item that is not an object answers only after the items before it.
    with pytest.raises(e.EmailInvalid):
        profile_body.account_changes_read(
            {"Email": [{"Type": "Primary", "Value": "bad"}, "not an object"]}
        )
    with pytest.raises(InvalidInput) as exc:
        profile_body.account_changes_read({"SessionLimit": -1, "Nope": 1}, strict_keys=True)
    assert [f.field for f in exc.value.field_errors] == ["Nope"]  # unknown keys come first
    with pytest.raises(InvalidInput) as exc:
        profile_body.account_changes_read({"SessionLimit": -1, "Nope": 1})
    assert [f.field for f in exc.value.field_errors] == ["SessionLimit"]  # Nope is ignored


def test_the_same_change_from_a_body_or_built_directly_writes_the_same(tenant, actor, make_account):
    first, second = make_account("a@example.com"), make_account("b@example.com")
    body = {"FirstName": "Zoe", "Gender": None, "Addresses": [{"Type": "Home", "City": "Oslo"}]}
    services.account_update(
        profile_body.account_changes_read(body, null_support=True),
        tenant=tenant,
        actor=actor,
        account=first,
    )
    built = AccountChanges(
        values={"FirstName": "Zoe"},
        cleared=("Gender",),
        lists={"Addresses": (ListEdit(item={"Type": "Home", "City": "Oslo"}),)},
    )
    services.account_update(built, tenant=tenant, actor=actor, account=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.first_name, first.profile) == (second.first_name, second.profile)


# ---------------------------------------------------------------- the domain checks every command


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (AccountChanges(values={"FirstName": "x" * 101}), InvalidInput),
        (AccountChanges(values={"PhoneId": "12"}), e.PhoneInvalid),
        (AccountChanges(values={"BirthDate": "1990-01-31"}), e.BirthDateInvalid),
        (AccountChanges(values={"UserName": "has space"}), InvalidInput),
        (AccountChanges(values={"Email": "a@example.com"}), InvalidInput),
        (AccountChanges(values={"IsActive": "maybe"}), InvalidInput),
        (AccountChanges(values={"IsLoginLocked": True}), InvalidInput),  # security's
        (AccountChanges(cleared=("Email",)), InvalidInput),
        (AccountChanges(emails=(EmailEdit(type="", value="c@example.com"),)), e.EmailTypeRequired),
        (AccountChanges(lists={"Addresses": (ListEdit(item=True),)}), InvalidInput),
        (AccountChanges(lists={"FirstName": (ListEdit(item={"a": 1}),)}), InvalidInput),
        (AccountChanges(custom_fields={"deep": {"no": 1}}), InvalidInput),
        (AccountChanges(values={"FirstName": "nul\x00"}), InvalidInput),
        (AccountChanges(pin=PinChange(pin="12")), InvalidInput),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, type) else "",
)
def test_a_command_built_anywhere_is_checked_by_the_service(
    tenant, actor, make_account, command, error
):
    account = make_account()
    before = state(tenant)
    with pytest.raises(DomainError) as exc:
        services.account_update(command, tenant=tenant, actor=actor, account=account)
    assert type(exc.value) is error
    assert state(tenant) == before


def test_create_checks_its_command_too(tenant, actor):
    before = state(tenant)
    with pytest.raises(e.EmailInvalid):
        services.account_create(
            AccountCreate(emails=(EmailEdit(type="Primary", value="not an email"),)),
            tenant=tenant,
            actor=actor,
        )
    with pytest.raises(InvalidInput):  # a new account has no address to remove
        services.account_create(
            AccountCreate(emails=(EmailEdit(value="a@example.com", remove=True),)),
            tenant=tenant,
            actor=actor,
        )
    assert state(tenant) == before
    account = services.account_create(
        AccountCreate(
            values={"PhoneId": "+1 415 555 2671", "FirstName": "Ann"},
            password=GOOD_PASSWORD,
            custom_fields={"zero": 0, "off": False, "gone": None},
        ),
        tenant=tenant,
        actor=actor,
    )
    assert account.phone_id == "+14155552671"
    assert account.custom_fields == {"zero": 0, "off": False}


def test_other_commands_are_checked_by_their_services(tenant, actor, make_account):
    account = make_account()
    before = state(tenant)
    with pytest.raises(e.PhoneInvalid):
        services.account_phone_update(
            PhoneSet(phone="not a phone"), tenant=tenant, actor=actor, account=account
        )
    with pytest.raises(e.EmailInvalid):
        services.account_email_upsert(
            EmailUpsert(emails=(EmailAddress(type="Work", value="nope"),)),
            tenant=tenant,
            actor=actor,
            account=account,
        )
    with pytest.raises(e.EmailInvalid):
        services.account_identity_link(
            IdentityLink(
                provider="google", provider_id="1", emails=(EmailAddress("Primary", "x"),)
            ),
            tenant=tenant,
            actor=actor,
            account=account,
        )
    assert state(tenant) == before


# ---------------------------------------------------------------- stored commands


def test_stored_account_commands_never_hold_a_password_or_pin_in_clear():
    for command in (
        PasswordSet(password="Another-passw0rd!"),
        AccountCreate(password="Another-passw0rd!", pin=PinChange(pin="482913")),
    ):
        sealed = json.dumps(command.to_json(seal=True))
        assert "Another-passw0rd!" not in sealed and "482913" not in sealed
        assert Command.from_json(json.loads(sealed)) == command


# ---------------------------------------------------------------- expected_version


def test_the_version_is_the_last_change_in_rfc_3339_with_microseconds(make_account):
    account = make_account()
    version = account_version(account)
    assert version.endswith("+00:00") and len(version.split(".")[1]) == len("123456+00:00")
    assert datetime.fromisoformat(version) == account.modified


def test_a_command_built_against_an_older_version_is_refused_and_changes_nothing(
    tenant, actor, make_account
):
    account = make_account()
    old = account_version(account)
    account = services.account_update(
        AccountChanges(values={"FirstName": "Ann"}, expected_version=old),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    current = account_version(account)
    assert current != old
    before, events = state(tenant), AuditEvent.objects.count()
    stale = AccountChanges(values={"FirstName": "Overwritten"}, expected_version=old)
    with pytest.raises(e.AccountVersionStale) as exc:
        services.account_update(stale, tenant=tenant, actor=actor, account=account)
    assert exc.value.current_version == current
    assert (state(tenant), AuditEvent.objects.count()) == (before, events)
    # The same instant written with Z is the current version.
    services.account_update(
        AccountChanges(
            values={"FirstName": "Bea"}, expected_version=current.replace("+00:00", "Z")
        ),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    assert Account.objects.get(pk=account.pk).first_name == "Bea"


@pytest.mark.parametrize(
    "run",
    [
        lambda s, v, who: s.account_block(AccountBlock(expected_version=v), **who),
        lambda s, v, who: s.account_password_set(
            PasswordSet(password="Another-passw0rd!", expected_version=v), **who
        ),
        lambda s, v, who: s.account_email_remove(
            EmailRemove(email="b@example.com", expected_version=v), **who
        ),
        lambda s, v, who: s.account_phone_update(
            PhoneSet(phone="+14155552671", expected_version=v), **who
        ),
        lambda s, v, who: s.account_delete(AccountDelete(expected_version=v), **who),
    ],
    ids=["block", "password_set", "email_remove", "phone_set", "delete"],
)
def test_every_account_command_refuses_a_stale_version(tenant, actor, make_account, run):
    account = make_account()
    services.account_email_upsert(
        EmailUpsert(emails=(EmailAddress(type="Secondary", value="b@example.com"),)),
        tenant=tenant,
        actor=actor,
        account=account,
    )
    account.refresh_from_db()
    who = {"tenant": tenant, "actor": actor, "account": account}
    before = state(tenant)
    with pytest.raises(e.AccountVersionStale):
        run(services, "2020-01-01T00:00:00.000000+00:00", who)
    with pytest.raises(e.AccountVersionStale):
        run(services, "not a time", who)
    assert state(tenant) == before
    run(services, account_version(account), who)
    assert state(tenant) != before


def test_a_stale_version_answers_at_each_edge():
    error = e.AccountVersionStale(current_version="2026-05-01T12:00:00.123456+00:00")
    response = exception_handler(error, {"request": None})
    assert (response.status_code, response.data["ErrorCode"]) == (412, 9412)
    assert response.data["Description"] == error.message
    assert response["ETag"] == '"2026-05-01T12:00:00.123456+00:00"'
    problem = problem_for(error)
    assert (problem.status, problem.body["code"]) == (412, "account.version_stale")
    assert error.sentence() == "The account changed since it was read; read it again and retry."
